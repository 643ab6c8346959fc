"""Who may open a GUI page: signed in, not blocked, holding the page's permission flag.

``gui_page(flag)`` wraps every GUI view: an anonymous visitor is sent to /login/ and back; a
user without the flag gets the 403 page naming the flag (the control that leads there is not
shown either: ``gui.context``); the user's time zone is active while the page renders, so
every ``{{ value|when }}`` shows the user's local time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import Effective, effective
from accounts.preferences import preferences_of


def forbidden(request: HttpRequest, flag: str, what: str = "") -> HttpResponse:
    """The 403 page: which permission is missing (audited like every refusal)."""
    audit.record(
        AuditEvent.Action.PERMISSION_DENIED,
        user=request.user,
        request=request,
        face="gui",
        object_id=request.path[:255],
        success=False,
        flag=flag,
    )
    return render(request, "gui/forbidden.html", {"flag": flag, "what": what}, status=403)


def rights(request: HttpRequest) -> Effective:
    """The signed-in user's effective flags and scope (computed once per request)."""
    cached = getattr(request, "_gui_rights", None)
    if cached is None:
        cached = request._gui_rights = effective(request.user)
    return cached


def gui_page(flag: str | None = None) -> Callable:
    """Decorator: sign-in required, then ``flag`` (None: any signed-in user)."""

    def wrap(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if flag is not None and not rights(request).has(flag):
                return forbidden(request, flag)
            timezone.activate(preferences_of(request.user).zone)
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return inner

    return wrap
