"""Failed-login throttling per account and per client IP, for every face that takes passwords.

Failures are audit events (accounts.audit); the throttle counts recent ones, so the audit log
is the single record of them. When either limit is reached, further attempts are refused
before the password is even checked, until the window has passed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEvent


class LoginThrottled(Exception):
    """Too many recent failures; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def check(username: str, ip: str | None) -> None:
    """Raise LoginThrottled when the account or the IP has too many recent failures."""
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, time__gte=_since())
    minutes = max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
    if username and failures.filter(username=username).count() >= settings.LOGIN_MAX_FAILURES_USER:
        raise LoginThrottled(
            f"too many failed logins for this account; try again in {minutes} minutes"
        )
    if ip and failures.filter(ip=ip).count() >= settings.LOGIN_MAX_FAILURES_IP:
        raise LoginThrottled(
            f"too many failed logins from this address; try again in {minutes} minutes"
        )
