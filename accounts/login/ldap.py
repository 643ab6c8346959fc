"""LDAP / Active Directory sign-in with django-auth-ldap.

django-auth-ldap does the directory work — service bind, user search, the user's bind with
their password, group search, ``VMGUI_LDAP_REQUIRE_GROUP`` — configured from the
``VMGUI_LDAP_*`` settings. It does not create Django users here: ``VmLDAPBackend`` hands it a
throw-away stand-in, and the directory's answer becomes a spec-shaped ``LoginAnswer`` that
accounts.login.provision turns into the local user, with unique ids like every other method:

* id: the ``VMGUI_LDAP_ID_ATTR`` attribute (``uidNumber``; AD: e.g. ``employeeID``);
* group: the first group of ``VMGUI_LDAP_GROUP_MAP`` the user is a member of (by group cn);
* flags: every ``VMGUI_LDAP_FLAG_MAP`` entry of the user's groups (``*`` = everyone), with
  ``is_admin`` and ``req_2fa`` as pseudo-flags.

A locked directory account (OpenLDAP ppolicy ``pwdAccountLockedTime``, AD ``lockoutTime`` or
the ``ACCOUNTDISABLE`` bit of ``userAccountControl``) is refused as locked; an unreachable
directory is ``ProviderUnavailable`` (local accounts keep working).
"""

from __future__ import annotations

import logging

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, ldap_error
from django_auth_ldap.config import (
    GroupOfNamesType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
    PosixGroupType,
)

from accounts.login.answer import LoginAnswer, parse_answer
from accounts.login.errors import AnswerInvalid, Blocked, ProviderUnavailable

logger = logging.getLogger("vmgui.login")

_UNAVAILABLE = (
    "the directory (LDAP) cannot be reached right now; try again later "
    "(local administrator accounts can still sign in)"
)
_LOCK_ATTRS = ["pwdAccountLockedTime", "lockoutTime", "userAccountControl"]


class _Captured:
    """What django-auth-ldap populates instead of a saved Django user (see get_or_build_user)."""

    def __init__(self, username: str, ldap_user) -> None:
        self.username = username
        self.ldap_user = ldap_user
        self.is_active = True

    def set_unusable_password(self) -> None:
        pass

    def save(self, *args, **kwargs) -> None:
        pass


class _DirectoryError(Exception):
    def __init__(self, context: str, exception: Exception) -> None:
        super().__init__(f"{context}: {exception!r}")


def _on_ldap_error(sender, context, exception, **kwargs) -> None:
    # django-auth-ldap logs an LDAPError and carries on as "user not found / wrong password";
    # raising here (its documented way) lets us say "directory unavailable" instead.
    raise _DirectoryError(context, exception)


class VmLDAPBackend(LDAPBackend):
    """django-auth-ldap configured from VMGUI_LDAP_* settings, creating no Django users."""

    # Nothing in settings has this prefix: the configuration is default_settings below.
    settings_prefix = "VMGUI_UNUSED_AUTH_LDAP_"

    def __init__(self) -> None:
        group_type = {
            "posix": PosixGroupType(name_attr="cn"),
            "groupofnames": GroupOfNamesType(name_attr="cn"),
            "ad": NestedActiveDirectoryGroupType(name_attr="cn"),
        }[settings.LDAP_GROUP_TYPE]
        group_class = {
            "posix": "posixGroup",
            "groupofnames": "groupOfNames",
            "ad": "group",
        }[settings.LDAP_GROUP_TYPE]
        options = {
            ldap.OPT_NETWORK_TIMEOUT: settings.LDAP_TIMEOUT,
            ldap.OPT_TIMEOUT: settings.LDAP_TIMEOUT,
            ldap.OPT_REFERRALS: 0,  # AD: referrals need credentials we do not pass on
        }
        if settings.LOGIN_CA_BUNDLE:
            options[ldap.OPT_X_TLS_CACERTFILE] = settings.LOGIN_CA_BUNDLE
            options[ldap.OPT_X_TLS_NEWCTX] = 0
        self.default_settings = {
            "SERVER_URI": settings.LDAP_URI,
            "BIND_DN": settings.LDAP_BIND_DN,
            "BIND_PASSWORD": settings.LDAP_BIND_PASSWORD,
            "USER_SEARCH": LDAPSearch(
                settings.LDAP_USER_BASE, ldap.SCOPE_SUBTREE, settings.LDAP_USER_FILTER
            ),
            # Operational attributes (the ppolicy lock) are only sent when asked for.
            "USER_ATTRLIST": ["*", *_LOCK_ATTRS],
            "GROUP_SEARCH": LDAPSearch(
                settings.LDAP_GROUP_BASE or settings.LDAP_USER_BASE,
                ldap.SCOPE_SUBTREE,
                f"(objectClass={group_class})",
            ),
            "GROUP_TYPE": group_type,
            "REQUIRE_GROUP": settings.LDAP_REQUIRE_GROUP or None,
            "CONNECTION_OPTIONS": options,
            "START_TLS": settings.LDAP_START_TLS,
            "CACHE_TIMEOUT": 0,
            "ALWAYS_UPDATE_USER": True,
            "USER_ATTR_MAP": {},
        }
        super().__init__()

    def get_or_build_user(self, username, ldap_user):
        # Provisioning (with unique ids) is accounts.login.provision's job, not django-auth-ldap's.
        return _Captured(username, ldap_user), True


ldap_error.connect(
    _on_ldap_error, sender=VmLDAPBackend, dispatch_uid="vmgui-ldap-error", weak=False
)


def _first(attrs: dict, name: str) -> str:
    values = attrs.get(name) or attrs.get(name.lower()) or []
    return str(values[0]) if values else ""


def _locked(attrs: dict) -> bool:
    if _first(attrs, "pwdAccountLockedTime"):
        return True
    lockout = _first(attrs, "lockoutTime")
    if lockout.isdigit() and int(lockout) > 0:
        return True
    control = _first(attrs, "userAccountControl")
    return control.isdigit() and bool(int(control) & 0x2)  # ACCOUNTDISABLE


def answer_from_directory(username: str, dn: str, attrs: dict, groups: set[str]) -> LoginAnswer:
    """The spec's return array built from a directory entry and its group names."""
    raw: dict = {
        "username": username,
        "id": _first(attrs, settings.LDAP_ID_ATTR) or None,
        "name": _first(attrs, settings.LDAP_NAME_ATTR),
        "email": _first(attrs, settings.LDAP_EMAIL_ATTR),
    }
    for external, (group_name,) in settings.LDAP_GROUP_MAP.items():
        if external in groups:
            raw["group_name"] = group_name
            break
    for external, flags in settings.LDAP_FLAG_MAP.items():
        if external == "*" or external in groups:
            for flag in flags:
                raw[flag] = True
    try:
        return parse_answer(raw, username, subject=dn)
    except AnswerInvalid as exc:
        raise AnswerInvalid(exc.reason, f"LDAP entry {dn}: {exc.detail}") from None


def authenticate(username: str, password: str) -> LoginAnswer | None:
    """Bind as the user; their answer, or None for an unknown user / wrong password."""
    backend = VmLDAPBackend()
    try:
        captured = backend.authenticate(None, username=username, password=password)
        if captured is None:
            # Wrong password, or a locked account the server refused (ppolicy answers a
            # locked account's right password with the same invalidCredentials): look.
            probe = backend.populate_user(username)
            if probe is not None and _locked(probe.ldap_user.attrs or {}):
                raise Blocked(
                    "your directory (LDAP) account is locked; ask your directory administrator",
                    f"LDAP account {probe.ldap_user.dn} is locked",
                )
            return None
        ldap_user = captured.ldap_user
        attrs = ldap_user.attrs or {}
        if _locked(attrs):
            raise Blocked(
                "your directory (LDAP) account is locked; ask your directory administrator",
                f"LDAP account {ldap_user.dn} is locked",
            )
        groups = set(ldap_user.group_names)
        return answer_from_directory(username, ldap_user.dn, attrs, groups)
    except (_DirectoryError, ldap.LDAPError) as exc:
        logger.warning("LDAP sign-in of %r: directory unavailable: %s", username, exc)
        raise ProviderUnavailable(_UNAVAILABLE, f"LDAP {settings.LDAP_URI}: {exc}") from None
