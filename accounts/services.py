"""Authentication for the legacy faces: plain data in, a user or a refusal out."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.hashers import check_password, make_password

from accounts import audit, throttle
from accounts import principals as principal_versions
from accounts.models import AuditEvent, UserProfile
from accounts.permissions import effective, load_profile, remember_effective
from accounts.principals import principals
from cdr.query.scope import CdrScope

# Hashing a dummy password when the user does not exist keeps the answer time the same
# whether or not the user name is known.
_DUMMY_HASH = make_password("vmgui-timing-equaliser")


class AuthRefused(Exception):
    """Authentication failed; ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling a legacy API: a user, or anonymous when authorization is disabled."""

    user: object | None
    scope: CdrScope

    @property
    def username(self) -> str:
        return getattr(self.user, "username", "") or "anonymous"


def profile_of(user) -> UserProfile:
    """The user's profile (created on first use), cached on the user object for this request."""
    return load_profile(user)


class _VerifiedCredentials:
    """A short-lived, per-process memory of credentials that passed the password hasher.

    api.php sends user/password with every request, and a PBKDF2 check costs hundreds of
    milliseconds by design; scripts polling the API would pay it on every call. An entry is
    keyed by an HMAC of user + password (the password itself is never kept) and remembers the
    password hash it was verified against, so a password change invalidates it at once. (The
    whole outcome of a check — user, profile, rights — is also remembered, re-validated by one
    shared-cache read per request: accounts.principals. When that read shows a change, the
    user, blocked status and account source are read from the database again.)

    The cache is a speed-up, never a different answer: a login lockout (accounts.throttle) is
    checked before it, so a remembered pair is refused during a lockout exactly as a fresh one
    is. Why: the cache is per worker process, so letting remembered pairs through would make a
    locked account work on some workers and fail on others (a script would fail at random), and
    a lockout means someone is attacking the account, which the operator expects to hold on
    every worker and face. The price is the throttle's two indexed COUNT queries per request.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, password: str) -> str:
        secret = settings.SECRET_KEY.encode()
        return hmac.new(secret, f"{username}\0{password}".encode(), hashlib.sha256).hexdigest()

    def seen(self, username: str, password: str, password_hash: str) -> bool:
        key = self._key(username, password)
        with self._lock:
            entry = self._entries.get(key)
        return entry is not None and entry[0] == password_hash and entry[1] > time.monotonic()

    def remember(self, username: str, password: str, password_hash: str) -> None:
        ttl = settings.API_AUTH_CACHE_SECONDS
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:  # bounded memory
                self._entries.clear()
            self._entries[self._key(username, password)] = (password_hash, time.monotonic() + ttl)


_verified = _VerifiedCredentials()


def _refuse(reason: str, username: str, request, face: str, action=AuditEvent.Action.LOGIN_FAILED):
    audit.record(
        action, username=username, request=request, face=face, success=False, reason=reason
    )
    raise AuthRefused(reason)


def authenticate_local(
    username: str, password: str, *, request=None, face: str = "", record_success: bool = False
):
    """Check user/password against LOCAL accounts only (LDAP/SSO users cannot use the APIs).

    Failures are audited and throttled per account and per client IP (accounts.throttle);
    ``record_success`` audits a successful login too (session logins, not per-request API auth).
    A principal this worker checked in full before is reused after one shared-cache read
    that shows nothing changed since (accounts.principals): same answer, no queries.
    """
    if not username or not password:
        raise AuthRefused("missing user or password")
    ip = audit.client_ip(request)
    if not record_success:
        remembered = principals.get((username, password), ip)
        if remembered is not None:
            return remembered
    # Read before the user row (see accounts.principals.check_versions).
    permission = principal_versions.permission_version()
    user = get_user_model().objects.filter(username=username).first()
    versions = principal_versions.check_versions(permission, user.pk, ip) if user else None
    proven = user is not None and _verified.seen(username, password, user.password)
    if proven:
        # A pair proven right (no guess, no hash) of a blocked user gets the blocking reason
        # even while its account is over the limit: the script's owner must learn why.
        _refuse_if_blocked(user, username, request, face)
    # The throttle comes before the cache otherwise (see _VerifiedCredentials).
    try:
        throttle.check(username, ip)
    except throttle.LoginThrottled as exc:
        _refuse(exc.reason, username, request, face, AuditEvent.Action.LOGIN_THROTTLED)
    if not proven:
        if user is None:
            check_password(password, _DUMMY_HASH)
            _refuse("wrong user name or password", username, request, face)
        if not user.check_password(password):
            _refuse("wrong user name or password", username, request, face)
        _verified.remember(username, password, user.password)
    profile = profile_of(user)
    if profile.source != UserProfile.Source.LOCAL:
        _refuse(
            f"user {username!r} authenticates through {profile.get_source_display()}; "
            "the HTTP API accepts local accounts only",
            username,
            request,
            face,
        )
    _refuse_if_blocked(user, username, request, face)
    if record_success:
        audit.record(AuditEvent.Action.LOGIN_OK, user=user, request=request, face=face)
    else:
        remember_effective(user)
        principals.remember((username, password), ip, user, user.pk, versions)
    return user


def _refuse_if_blocked(user, username: str, request, face: str) -> None:
    try:
        ensure_not_blocked(user)
    except AuthRefused as exc:
        # The password was right: counted against the account only (accounts.throttle).
        _refuse(exc.reason, username, request, face, AuditEvent.Action.LOGIN_BLOCKED)


def end_session(request) -> bool:
    """Log the request's session out on the server (every face: sql.php, /logout, the admin).

    Django's ``logout`` deletes the session row and gives the request a new, empty session,
    so the old cookie value (sql.php's ``SID``) is worthless from now on, wherever it was
    copied to. The logout is audited (accounts.apps, on Django's ``user_logged_out`` signal,
    which the admin's own logout sends too). Returns whether a user was logged in.
    """
    user = getattr(request, "user", None)
    was_logged_in = bool(user is not None and user.is_authenticated)
    logout(request)
    return was_logged_in


def face_of(path: str) -> str:
    """The face a request path belongs to, as the audit log names it."""
    if path.startswith("/php/") or path.endswith(".php"):
        return path.rstrip("/").rsplit("/", 1)[-1]
    if path.startswith("/admin/"):
        return "admin"
    return "gui"


def ensure_not_blocked(user) -> None:
    profile = profile_of(user)
    if profile.blocked or not user.is_active:
        reason = profile.blocked_reason or "no reason given"
        raise AuthRefused(f"user is blocked: {reason}")


def scope_for(user) -> CdrScope:
    """The CDR rows a user may see. The one function every face asks (see cdr.query.scope).

    Computed by accounts.permissions from the user's group and overrides; None (anonymous API
    use with authorization disabled) is unrestricted.
    """
    return effective(user).scope
