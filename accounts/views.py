"""Small views of the accounts app: the audit log for users with can_audit, and /logout."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import AuditEvent
from accounts.permissions import has_flag
from accounts.services import end_session


@login_required(login_url="/admin/login/")
def audit_log(request: HttpRequest) -> HttpResponse:
    """Recent audit events, filterable by action and user name (needs can_audit)."""
    if not has_flag(request.user, "can_audit"):
        return render(request, "accounts/forbidden.html", {"flag": "can_audit"}, status=403)
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    username = request.GET.get("username", "").strip()
    if username:
        events = events.filter(username=username)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/audit.html",
        {
            "page": page,
            "actions": AuditEvent.Action.choices,
            "action": action,
            "username": username,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """/logout: GET asks for confirmation, POST ends the session on the server.

    For every user, staff or not (the admin's /admin/logout/ only serves staff): the session
    row is deleted, so the cookie (sql.php's SID too) stops working everywhere at once.
    A GET never logs out (a link or an image on another site must not), and the POST form
    carries Django's CSRF token.
    """
    if request.method == "POST":
        was_logged_in = end_session(request)
        return render(request, "accounts/logged_out.html", {"was_logged_in": was_logged_in})
    return render(request, "accounts/logout.html")
