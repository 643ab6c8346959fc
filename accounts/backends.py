"""Django authentication backend for browser logins (admin now, the GUI later).

Same rules as the legacy APIs: throttled per account and IP, failures and successes audited,
blocked users refused with their reason and counted against their account only
(accounts.throttle). Django's ``authenticate()`` turns every refusal into "no user", and its
login form then shows a generic "enter a correct username and password"; the backend notes
the real reason on the request (``refusal_reason``) so that the login form
(accounts.forms.VmAuthenticationForm) can show it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import audit, principals, throttle
from accounts.models import AuditEvent, UserProfile

_REASON_ATTR = "_vmgui_login_refusal"


def refusal_reason(request) -> str | None:
    """Why the backend refused the request's login (throttled, blocked), or None."""
    return getattr(request, _REASON_ATTR, None) if request is not None else None


def _note(request, reason: str) -> None:
    if request is not None:
        setattr(request, _REASON_ATTR, reason)


def blocked_reason(user) -> str | None:
    """``user is blocked: <reason>`` for a blocked or deactivated user, else None."""
    profile = UserProfile.objects.filter(user=user).only("blocked", "blocked_reason").first()
    if profile is not None and profile.blocked:
        return f"user is blocked: {profile.blocked_reason or 'no reason given'}"
    if not user.is_active:
        return "user is blocked: the account is deactivated"
    return None


class VmModelBackend(ModelBackend):
    """ModelBackend + throttling + audit + blocked users with their reason."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD, "")
        if not username or password is None:
            return None
        try:
            throttle.check(username, audit.client_ip(request))
        except throttle.LoginThrottled as exc:
            audit.record(
                AuditEvent.Action.LOGIN_THROTTLED,
                username=username,
                request=request,
                face="gui",
                success=False,
                reason=exc.reason,
            )
            _note(request, exc.reason)
            # PermissionDenied stops Django trying further backends.
            raise PermissionDenied(exc.reason) from None
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            User().set_password(password)  # same time as a known user (as ModelBackend does)
        elif user.check_password(password):
            reason = blocked_reason(user)
            if reason is None:
                audit.record(AuditEvent.Action.LOGIN_OK, user=user, request=request, face="gui")
                return user
            # The password was right: counted against the account, not the client address.
            audit.record(
                AuditEvent.Action.LOGIN_BLOCKED,
                user=user,
                request=request,
                face="gui",
                success=False,
                reason=reason,
            )
            _note(request, reason)
            raise PermissionDenied(reason)
        audit.record(
            AuditEvent.Action.LOGIN_FAILED,
            username=username,
            request=request,
            face="gui",
            success=False,
        )
        return None

    def get_user(self, user_id):
        # A session's user (and its blocked check) is reused while nothing changed: one
        # shared-cache read instead of two queries per request (accounts.principals).
        return principals.session_users.get(
            user_id, lambda: super(VmModelBackend, self).get_user(user_id)
        )

    def user_can_authenticate(self, user) -> bool:
        # Sessions of users blocked since their login become anonymous (get_user); the
        # accounts middleware then ends them with the reason.
        if not super().user_can_authenticate(user):
            return False
        profile = UserProfile.objects.filter(user=user).only("blocked").first()
        return not (profile and profile.blocked)
