"""Why a sign-in did not happen, each with a message that is safe to show to the user."""

from __future__ import annotations


class SignInError(Exception):
    """Base: ``reason`` is shown to the user; ``detail`` goes to the audit log and server log."""

    kind = "refused"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


class WrongCredentials(SignInError):
    """Unknown user or wrong password (one message for both: no user-name probing)."""

    kind = "failed"


class Throttled(SignInError):
    kind = "throttled"


class Blocked(SignInError):
    """The account is blocked (locally, by the hook's ``blocked``, or locked in LDAP)."""

    kind = "blocked"


class ProviderUnavailable(SignInError):
    """LDAP or the identity provider cannot be reached (or is misconfigured)."""

    kind = "unavailable"


class AnswerInvalid(SignInError):
    """The hook or provider answered something vmgui cannot use (no numeric id, bad list...)."""

    kind = "invalid"


class TokenInvalid(SignInError):
    """An identity provider's answer failed validation (signature, issuer, audience, expiry, nonce)."""

    kind = "token"


class IdCollision(SignInError):
    """The returned id is bound to another username (or the username to another id)."""

    kind = "collision"

    def __init__(self, reason: str, detail: str, *, bound_username: str, external_id: int) -> None:
        super().__init__(reason, detail)
        self.bound_username = bound_username
        self.external_id = external_id


class HookError(SignInError):
    """The custom_login hook cannot be loaded (missing, syntax error, shell calls, ...)."""

    kind = "misconfigured"
