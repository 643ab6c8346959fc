"""Failed-login throttling per account and per client IP, for every face that takes passwords.

Failures are audit events (accounts.audit); the throttle counts recent ones, so the audit log
is the single record of them. When either limit is reached, further attempts are refused
before the password is even checked, until the window has passed.

What counts where:

* a wrong password or an unknown user name (``login_failed``) counts against the account
  **and** the client IP: it is a guess;
* a blocked account's refusal (``login_blocked``: the password was right, the account is
  blocked) counts against the **account only**. A blocked script keeps retrying with its right
  password; behind a shared NAT address it must not lock out its neighbours, and it is no
  guess. Counting it against the account still stops the script from costing a password hash
  per request once it is over the limit.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEvent

# Refusals counted per account / per client address.
ACCOUNT_ACTIONS = (AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGIN_BLOCKED)
ADDRESS_ACTIONS = (AuditEvent.Action.LOGIN_FAILED,)


class LoginThrottled(Exception):
    """Too many recent failures; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def check(username: str, ip: str | None) -> None:
    """Raise LoginThrottled when the account or the IP has too many recent failures."""
    recent = AuditEvent.objects.filter(time__gte=_since())
    minutes = max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
    if (
        username
        and recent.filter(action__in=ACCOUNT_ACTIONS, username=username[:150]).count()
        >= settings.LOGIN_MAX_FAILURES_USER
    ):
        raise LoginThrottled(
            f"too many failed logins for this account; try again in {minutes} minutes"
        )
    if (
        ip
        and recent.filter(action__in=ADDRESS_ACTIONS, ip=ip).count()
        >= settings.LOGIN_MAX_FAILURES_IP
    ):
        raise LoginThrottled(
            f"too many failed logins from this address; try again in {minutes} minutes"
        )
