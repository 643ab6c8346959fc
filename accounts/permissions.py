"""The one permission layer: a user's effective flags and CDR scope.

``effective(user)`` combines the user's group defaults and personal overrides (see
accounts.models) into an ``Effective`` value: flags and a ``CdrScope``. Every face asks here:
``require_flag`` before an action, ``scope_for`` (accounts.services) for every CDR query.

- Superusers (the old GUI's is_admin) have every allowing flag and no row restriction.
- ``None`` stands for the anonymous caller allowed by "disable authorization for API usage":
  like the old GUI it acts with admin rights (documented risk of that setting).
- A user without a group and without overrides has no flags at all: access is granted, never
  assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.flags import FLAGS, RESTRICTIVE, check_flag_name
from accounts.models import RESTRICTION_PARSERS, UserProfile
from cdr.query.scope import CdrScope


class PermissionRefused(Exception):
    """The user may not do this; ``reason`` is safe to show."""

    def __init__(self, reason: str, flag: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.flag = flag


@dataclass(frozen=True)
class Effective:
    """What one caller may do and see."""

    flags: dict[str, bool]
    scope: CdrScope
    is_admin: bool = False
    custom_headers_cdr: tuple[str, ...] = ()
    custom_headers_message: tuple[str, ...] = ()
    group_name: str = ""
    restrictions: dict[str, tuple] = field(default_factory=dict)

    def has(self, flag: str) -> bool:
        return self.flags[check_flag_name(flag)]


def _admin(label: str) -> Effective:
    flags = {name: name not in RESTRICTIVE for name in FLAGS}
    return Effective(flags=flags, scope=CdrScope.unrestricted(label), is_admin=True)


# The anonymous caller's rights never change (computed once per process).
_ANONYMOUS = _admin("anonymous (API authorization disabled)")


def load_profile(user) -> UserProfile:
    """The user's profile with its group, created on first use and cached on the user object."""
    cached = getattr(user, "_vm_profile_cache", None)
    if cached is None:
        cached, _ = UserProfile.objects.select_related("group").get_or_create(user=user)
        user._vm_profile_cache = cached
    return cached


def effective(user) -> Effective:
    """The caller's effective flags and scope (user None = anonymous API use, admin rights)."""
    if user is None:
        return _ANONYMOUS
    remembered = getattr(user, "_vm_effective", None)
    if remembered is not None:
        return remembered
    return _compute(user)


def remember_effective(user) -> Effective:
    """Compute the rights once and keep them on this user object (see ``effective``).

    For user objects whose rights cannot change while they are used: one request's user, or
    a principal that accounts.principals re-validates before every request. A face then asks
    ``effective`` (scope, each flag) without recomputing.
    """
    user._vm_effective = _compute(user)
    return user._vm_effective


def _compute(user) -> Effective:
    if getattr(user, "is_superuser", False):
        return _admin(f"admin {user.pk}")
    profile = load_profile(user)
    group = profile.group
    flags = {}
    for name in FLAGS:
        own = getattr(profile, name)
        flags[name] = own if own is not None else bool(group and getattr(group, name))
    values: dict[str, tuple] = {}
    for name, parse in RESTRICTION_PARSERS.items():
        own = getattr(profile, name)
        text = own if own.strip() else (getattr(group, name) if group else "")
        values[name] = parse(text)
    scope = CdrScope(
        sensors=values["enable_sensors"],
        networks=values["ip"],
        numbers=values["number"],
        domains=values["domain"],
        vlans=values["vlan"],
        custom_headers=values["custom_headers_cdr"],
        label=f"user {user.pk}",
    )
    return Effective(
        flags=flags,
        scope=scope,
        custom_headers_cdr=values["custom_headers_cdr"],
        custom_headers_message=values["custom_headers_message"],
        group_name=group.name if group else "",
        restrictions=values,
    )


def has_flag(user, flag: str) -> bool:
    """True when the caller has ``flag``; an unknown flag name raises UnknownFlag."""
    return effective(user).has(flag)


def require_flag(user, flag: str, action: str = "") -> None:
    """Raise PermissionRefused unless the caller has ``flag``."""
    if not has_flag(user, flag):
        what = action or FLAGS[flag].split(" (")[0].rstrip(".").lower()
        raise PermissionRefused(f"permission denied: {what} needs the {flag} permission", flag)
