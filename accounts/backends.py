"""Django authentication backend for browser logins (admin now, the GUI later).

Same rules as the legacy APIs: throttled per account and IP, failures and successes audited,
blocked users refused with their reason (shown through the login form's error).
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import audit, throttle
from accounts.models import AuditEvent, UserProfile


class VmModelBackend(ModelBackend):
    """ModelBackend + throttling + audit + blocked users."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username", "")
        try:
            throttle.check(username or "", audit.client_ip(request))
        except throttle.LoginThrottled as exc:
            audit.record(
                AuditEvent.Action.LOGIN_THROTTLED,
                username=username or "",
                request=request,
                face="gui",
                success=False,
            )
            # PermissionDenied stops Django trying further backends.
            raise PermissionDenied(exc.reason) from None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            audit.record(
                AuditEvent.Action.LOGIN_FAILED,
                username=username or "",
                request=request,
                face="gui",
                success=False,
            )
            return None
        audit.record(AuditEvent.Action.LOGIN_OK, user=user, request=request, face="gui")
        return user

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        profile = UserProfile.objects.filter(user=user).only("blocked").first()
        return not (profile and profile.blocked)
