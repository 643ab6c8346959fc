"""The sign-in flow: which method answers, throttling, blocked users, audit, the session.

Password sign-in (the login page; sql.php's bypass_login behind a setting):

1. throttled accounts / addresses are refused first (accounts.throttle);
2. a **local** account (``UserProfile.source == local``) is checked against its own password
   and nothing else: local admins can always sign in, whatever LDAP or the hook do, and an
   external sign-in never takes over a local account name;
3. any other name goes to the configured methods in order — the custom_login hook, then LDAP —
   and the first that accepts provides the answer (accounts.login.provision); an unreachable
   LDAP does not hide a hook that accepts, and is reported when nothing accepted.

Entra ID and Google arrive through their callbacks with a validated answer (``external``).
Every outcome is audited with the method (``details.method``): ``login_ok`` (after the
second factor when one is needed), ``login_failed``, ``login_throttled``, ``login_blocked``,
``login_refused`` (invalid answer, invalid token, provider down), ``login_collision``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from accounts import audit, throttle
from accounts.login import provision as prov
from accounts.login.answer import LoginAnswer, parse_answer
from accounts.login.errors import (
    Blocked,
    IdCollision,
    ProviderUnavailable,
    SignInError,
    Throttled,
    WrongCredentials,
)
from accounts.models import AuditEvent, UserProfile
from accounts.permissions import load_profile
from accounts.services import AuthRefused

LOCAL_BACKEND = "accounts.backends.VmModelBackend"
EXTERNAL_BACKEND = "accounts.login.backends.ExternalLoginBackend"
WRONG = "wrong user name or password"


@dataclass
class SignIn:
    """A user whose credentials passed; ``needs_2fa``: the TOTP step comes before the session."""

    user: object
    method: str
    needs_2fa: bool

    @property
    def backend(self) -> str:
        return LOCAL_BACKEND if self.method == "local" else EXTERNAL_BACKEND


def password_methods() -> list[str]:
    """The external methods that take a user name and password, in the order they are tried."""
    methods = []
    if settings.CUSTOM_LOGIN:
        methods.append("hook")
    if settings.LDAP_URI:
        methods.append("ldap")
    return methods


def _audit(action, *, username="", user=None, request=None, face="gui", method="", **details):
    audit.record(
        action,
        user=user,
        username=username,
        request=request,
        face=face,
        success=action == AuditEvent.Action.LOGIN_OK,
        method=method,
        **details,
    )


def refuse(error: SignInError, *, username: str, method: str, request, face: str = "gui"):
    """Audit a refusal with the right action and raise it."""
    action = {
        "failed": AuditEvent.Action.LOGIN_FAILED,
        "throttled": AuditEvent.Action.LOGIN_THROTTLED,
        "blocked": AuditEvent.Action.LOGIN_BLOCKED,
        "collision": AuditEvent.Action.LOGIN_COLLISION,
    }.get(error.kind, AuditEvent.Action.LOGIN_REFUSED)
    details = {"reason": error.detail}
    if isinstance(error, IdCollision):
        details.update(external_id=error.external_id, bound_username=error.bound_username)
    _audit(action, username=username, request=request, face=face, method=method, **details)
    raise error


def _external_answer(method: str, username: str, password: str) -> LoginAnswer | None:
    if method == "hook":
        from accounts.login import hook

        raw = hook.call(username, password)
        if raw is None or raw is False:
            return None
        return parse_answer(raw, username)
    from accounts.login import ldap

    return ldap.authenticate(username, password)


def accept_answer(answer: LoginAnswer, method: str, *, request, face: str = "gui") -> SignIn:
    """An external answer → the provisioned user (or a refusal); shared by every method."""
    if answer.blocked:
        refuse(
            Blocked(f"user is blocked: {answer.blocked_reason or 'no reason given'}"),
            username=answer.username,
            method=method,
            request=request,
            face=face,
        )
    try:
        user = prov.provision(answer, method)
    except SignInError as exc:
        refuse(exc, username=answer.username, method=method, request=request, face=face)
    profile = load_profile(user)
    if profile.blocked or not user.is_active:
        reason = profile.blocked_reason or "no reason given"
        refuse(
            Blocked(f"user is blocked: {reason}"),
            username=user.username,
            method=method,
            request=request,
            face=face,
        )
    return SignIn(user=user, method=method, needs_2fa=answer.req_2fa or profile.req_2fa)


def password_sign_in(request, username: str, password: str, *, face: str = "gui") -> SignIn:
    """Check a user name and password (local account, else hook, else LDAP)."""
    username = (username or "").strip()[:150]
    if not username or not password:
        raise WrongCredentials("enter your user name and password")
    try:
        throttle.check(username, audit.client_ip(request))
    except throttle.LoginThrottled as exc:
        refuse(Throttled(exc.reason), username=username, method="", request=request, face=face)
    user = get_user_model().objects.filter(username=username).first()
    if user is not None and load_profile(user).source == UserProfile.Source.LOCAL:
        return _local(request, user, password, face)
    methods = password_methods()
    unavailable: SignInError | None = None
    for method in methods:
        try:
            answer = _external_answer(method, username, password)
        except ProviderUnavailable as exc:
            _audit(
                AuditEvent.Action.LOGIN_REFUSED,
                username=username,
                request=request,
                face=face,
                method=method,
                reason=exc.detail,
            )
            unavailable = exc
            continue
        except SignInError as exc:
            refuse(exc, username=username, method=method, request=request, face=face)
        if answer is not None:
            return accept_answer(answer, method, request=request, face=face)
    if unavailable is not None:
        raise unavailable
    if user is None:
        make_password(password)  # about the time a known user's check takes
    refuse(
        WrongCredentials(WRONG),
        username=username,
        method=",".join(methods) or "local",
        request=request,
        face=face,
    )
    raise AssertionError("unreachable")


def _local(request, user, password: str, face: str) -> SignIn:
    if not user.check_password(password):
        refuse(
            WrongCredentials(WRONG),
            username=user.username,
            method="local",
            request=request,
            face=face,
        )
    profile = load_profile(user)
    if profile.blocked or not user.is_active:
        reason = profile.blocked_reason or (
            "no reason given" if profile.blocked else "the account is deactivated"
        )
        refuse(
            Blocked(f"user is blocked: {reason}"),
            username=user.username,
            method="local",
            request=request,
            face=face,
        )
    return SignIn(user=user, method="local", needs_2fa=profile.req_2fa)


def record_success(request, sign_in: SignIn, *, face: str = "gui", second_factor: str = "") -> None:
    details = {"second_factor": second_factor} if second_factor else {}
    _audit(
        AuditEvent.Action.LOGIN_OK,
        user=sign_in.user,
        request=request,
        face=face,
        method=sign_in.method,
        **details,
    )


def authenticate_for_api(username: str, password: str, *, request, face: str):
    """sql.php's bypass_login with ``VMGUI_SQL_BYPASS_LOGIN_CUSTOM``: (user, session backend).

    The same flow as the login page; a user who needs a second factor is refused (sql.php has
    no TOTP step). Refusals become ``AuthRefused`` for the legacy face.
    """
    try:
        sign_in = password_sign_in(request, username, password, face=face)
    except SignInError as exc:
        raise AuthRefused(exc.reason) from None
    if sign_in.needs_2fa:
        _audit(
            AuditEvent.Action.LOGIN_REFUSED,
            username=sign_in.user.username,
            request=request,
            face=face,
            method=sign_in.method,
            reason="two-factor authentication required",
        )
        raise AuthRefused(
            "this account requires two-factor authentication; sign in on the login page"
        )
    record_success(request, sign_in, face=face)
    return sign_in.user, sign_in.backend


# The pending second-factor step lives in the session, never longer than this.
PENDING_SECONDS = 300
PENDING_KEY = "vmgui_login_pending"


def start_pending(request, sign_in: SignIn, next_url: str) -> None:
    """Remember a sign-in that still needs its TOTP code (the session is not logged in yet)."""
    request.session.cycle_key()  # a new session key at the privilege step (no fixation)
    request.session[PENDING_KEY] = {
        "user_id": sign_in.user.pk,
        "method": sign_in.method,
        "at": time.time(),
        "next": next_url,
    }


def pending(request) -> tuple[SignIn, str] | None:
    """The pending sign-in of this session (None when absent or older than PENDING_SECONDS)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=data.get("user_id")).first()
    if user is None:
        return None
    return SignIn(user=user, method=data.get("method", ""), needs_2fa=True), data.get("next", "")


def clear_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)
