"""DRF permission classes: authenticated callers; read-only tokens cannot change anything."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.rest.models import ApiToken


class Authenticated(BasePermission):
    message = "authentication required: send 'Authorization: Bearer <token>' or log in"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class WritableToken(BasePermission):
    """A read-only token may only read (GET/HEAD/OPTIONS)."""

    message = "this API token is read-only"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return not (isinstance(request.auth, ApiToken) and request.auth.read_only)


class Admin(BasePermission):
    """vmgui admins (the old GUI's is_admin = superuser)."""

    message = "permission denied: only admins may manage users and groups"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_superuser)
