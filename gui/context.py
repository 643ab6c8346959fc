"""The page frame's context: navigation entries the user may open, their date preferences.

A template context processor (settings.TEMPLATES). Only pages under ``templates/gui/`` use
``gui_nav``; a link is listed only when the user holds its flag (its URL refuses otherwise).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.preferences import preferences_of

# (url name, label, flag or None = any signed-in user, "admin" = staff only)
NAV: tuple[tuple[str, str, str | None], ...] = (
    ("gui:cdr_list", "CDRs", "can_cdr"),
    ("gui:active_calls", "Active calls", "can_activecalls"),
    ("gui:report_list", "Reports", None),
    ("gui:audit", "Audit log", "can_audit"),
)


def gui(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # imported here: gui.access imports accounts.permissions, which this module must not load
    # for anonymous requests (the share site, the legacy endpoints)
    from gui.access import rights

    granted = rights(request)
    items = []
    for name, label, flag in NAV:
        if flag is not None and not granted.has(flag):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a page group not installed in this build
            continue
        items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    return {
        "gui_nav": items,
        "gui_rights": granted.flags,
        "gui_is_staff": bool(user.is_staff),
        "gui_prefs": preferences_of(user),
    }
