"""Small views of the accounts app: the audit log for users with can_audit."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import AuditEvent
from accounts.permissions import has_flag


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
