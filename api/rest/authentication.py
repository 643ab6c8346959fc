"""Who is calling the REST API: a bearer token, or the GUI's logged-in session."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)

from accounts import principals
from accounts.audit import client_ip
from accounts.services import AuthRefused, ensure_not_blocked
from api.rest import tokens


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer vmg_…``: the token's owner, with exactly the owner's rights."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization: expected 'Bearer <token>'")
        text, ip = parts[1].decode("ascii", "replace"), client_ip(request)
        token = tokens.remembered(text, ip)
        if token is not None:
            return token.user, token
        try:
            # Read before the token row (accounts.principals.check_versions): a change
            # committed meanwhile makes the remembered outcome look stale, never current.
            permission = principals.permission_version()
            token = tokens.verify(text, ip)
            ensure_not_blocked(token.user)
        except tokens.TokenRefused as exc:
            raise exceptions.AuthenticationFailed(exc.reason) from None
        except AuthRefused as exc:
            raise exceptions.AuthenticationFailed(exc.reason) from None
        tokens.remember(text, ip, token, principals.check_versions(permission, token.user_id, ip))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="vmgui"'


class GuiSessionAuthentication(SessionAuthentication):
    """The browser GUI's session (CSRF-checked for writes); blocked users are logged out by
    accounts.middleware before a view runs."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            try:
                ensure_not_blocked(result[0])
            except AuthRefused as exc:
                raise exceptions.AuthenticationFailed(exc.reason) from None
        return result
