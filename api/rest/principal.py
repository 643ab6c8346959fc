"""The caller's effective rights for one REST request (computed once per request)."""

from __future__ import annotations

from accounts.permissions import Effective, PermissionRefused, effective


def rights(request) -> Effective:
    """Flags, scope and visible custom headers of the authenticated caller (token or session).

    A token acts as its owner: the owner's current groups, flags and restrictions, never more.
    """
    cached = getattr(request, "_vm_effective", None)
    if cached is None:
        cached = effective(request.user)
        request._vm_effective = cached
    return cached


def require(request, flag: str, action: str) -> Effective:
    """The caller's rights, or PermissionRefused (→ 403 problem) when ``flag`` is missing."""
    granted = rights(request)
    if not granted.has(flag):
        raise PermissionRefused(f"permission denied: {action} needs the {flag} permission", flag)
    return granted
