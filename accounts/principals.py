"""Per-process memory of verified API principals, invalidated through the shared cache.

api.php sends user + password with every request. Checking them in full costs a password
hash (hundreds of ms by design, already remembered per process by ``accounts.services``) plus
a user query, two login-throttle COUNTs and the profile (+ group) query: 4-5 round trips on a
request whose own SQL may take 0.5 ms (issue 19). A ``Principal`` remembers, per worker, the
outcome of one full check (user, profile, effective rights) keyed by an HMAC of user +
password, together with the **versions** it was checked under. A later request reuses it
after ONE read of the shared cache (``django.core.cache``: a file cache shared by the workers
of a host, or Redis shared by every host) that returns the current versions; any difference
means a full check again.

Versions are random tokens, never counters, and an entry never records a missing one: a
version that is changed, expired or evicted (a full file cache culls entries) differs from
what the entry saw, so losing cache data can only cost a full check, never skip one.

* ``perm``: one global version, replaced on every save/delete of a ``User``, ``UserProfile``
  or ``VmGroup`` (signals, connected in ``AccountsConfig.ready``, so also in ``manage.py``
  processes): a permission change, a block or a password change takes effect at the next
  request on every worker and host. Saves that change nothing of that (``last_login``
  stamped by a login) do not count.
* ``user:<id>`` and ``ip:<address>``: replaced when a failed login is recorded against that
  account (matched by the database's own username comparison, as the throttle counts) or
  from that address. The throttle's counts can only fall while no failure is added, so a
  principal whose versions are unchanged is still under the limits it was checked against;
  a lockout starts at once everywhere, as with the full check.

Changes made behind the ORM's back (a queryset ``update()``, raw SQL, another program) do not
send signals: call ``permissions_changed()`` after them, or they take effect when the entry
expires (``VMGUI_API_AUTH_CACHE_SECONDS``). A cache that cannot be read (Redis down) turns
every request into a full check.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_PREFIX = "vmgui:auth:"
PERM_KEY = _PREFIX + "perm"
# Versions live as long as the cache keeps them; a lost one only costs a full check.
_VERSION_TIMEOUT = None
# Bounded memory: at most this many principals per process (then the memory starts over).
MAX_ENTRIES = 10_000


def _user_key(user_id: int) -> str:
    return f"{_PREFIX}user:{user_id}"


def _ip_key(ip: str | None) -> str | None:
    # Addresses are short and made of [0-9a-f.:]: safe as (part of) a cache key.
    return f"{_PREFIX}ip:{ip}" if ip else None


def _new_token() -> str:
    return secrets.token_hex(8)


def _replace(*keys: str) -> None:
    """Give ``keys`` new versions (best effort: a cache error is logged, not raised)."""
    try:
        cache.set_many({key: _new_token() for key in keys}, timeout=_VERSION_TIMEOUT)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the save that caused it
        logger.warning("could not publish an authorization change to the cache", exc_info=True)


def permissions_changed() -> None:
    """Invalidate every remembered principal on every worker and host (one cache write)."""
    _replace(PERM_KEY)


def login_failed(user_ids: list[int], ip: str | None) -> None:
    """A failed login was counted against these accounts and this address."""
    keys = [_user_key(pk) for pk in user_ids]
    ip_key = _ip_key(ip)
    if ip_key:
        keys.append(ip_key)
    if keys:
        _replace(*keys)


def _ensure(keys: list[str]) -> tuple | None:
    """The current versions of ``keys``, creating missing ones; None when the cache fails."""
    try:
        found = cache.get_many(keys)
        for key in keys:
            if found.get(key) is None:
                # add() keeps a version another process just wrote; read back what won.
                cache.add(key, _new_token(), timeout=_VERSION_TIMEOUT)
                found[key] = cache.get(key)
                if found[key] is None:
                    return None
    except Exception:  # noqa: BLE001 - no cache: no memory, every request checks in full
        logger.warning("authorization cache unavailable", exc_info=True)
        return None
    return tuple(found[key] for key in keys)


def _keys(user_id: int, ip: str | None) -> list[str]:
    ip_key = _ip_key(ip)
    return [PERM_KEY, _user_key(user_id), *([ip_key] if ip_key else [])]


def permission_version() -> str | None:
    """The global version, read BEFORE a full check loads the user (see ``check_versions``)."""
    found = _ensure([PERM_KEY])
    return found[0] if found else None


def check_versions(permission: str | None, user_id: int, ip: str | None) -> tuple | None:
    """The versions a full check of ``user_id`` from ``ip`` runs under, or None (no memory).

    ``permission`` was read before the user row: a password change committed between the
    two replaces it, so an entry holding the old row is never taken for current. The account
    and address versions are read before the throttle counts for the same reason.
    """
    if permission is None:
        return None
    found = _ensure(_keys(user_id, ip)[1:])
    return (permission, *found) if found else None


def current_versions(user_id: int, ip: str | None) -> tuple | None:
    """The current versions (one cache read), or None when one is missing or unreadable."""
    keys = _keys(user_id, ip)
    try:
        found = cache.get_many(keys)
    except Exception:  # noqa: BLE001 - treated as "changed": a full check follows
        return None
    if len(found) != len(keys):
        return None
    return tuple(found[key] for key in keys)


@dataclass(frozen=True)
class Principal:
    """The outcome of one full check: what was verified (a user, an API token) and whose."""

    subject: object
    user_id: int
    ip: str | None
    versions: tuple
    expires: float


class PrincipalCache:
    """Outcomes of full checks verified by this process, keyed by an HMAC of the credential
    (api.php: user + password; the REST API: the token; a session: the user id)."""

    def __init__(self) -> None:
        self._entries: dict[str, Principal] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(credential: Sequence[str]) -> str:
        secret = settings.SECRET_KEY.encode()
        return hmac.new(secret, "\0".join(credential).encode(), hashlib.sha256).hexdigest()

    def get(self, credential: Sequence[str], ip: str | None):
        """What was verified for ``credential`` from ``ip``, if nothing changed since."""
        found = self.checked(credential, ip)
        return found[0] if found is not None else None

    def checked(self, credential: Sequence[str], ip: str | None) -> tuple[object, tuple] | None:
        """(what ``get`` returns, the versions just read and found unchanged), or None."""
        if settings.API_AUTH_CACHE_SECONDS <= 0:
            return None
        key = self.key(credential)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.ip != ip or entry.expires <= time.monotonic():
            return None
        if current_versions(entry.user_id, ip) != entry.versions:
            self.forget(credential)
            return None
        return entry.subject, entry.versions

    def remember(
        self,
        credential: Sequence[str],
        ip: str | None,
        subject: object,
        user_id: int,
        versions: tuple | None,
    ) -> None:
        """Keep ``subject`` (``user_id``'s, checked in full under ``versions``) for the
        configured time."""
        ttl = settings.API_AUTH_CACHE_SECONDS
        if ttl <= 0 or versions is None:
            return
        entry = Principal(subject, user_id, ip, versions, time.monotonic() + ttl)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[self.key(credential)] = entry

    def forget(self, credential: Sequence[str]) -> None:
        with self._lock:
            self._entries.pop(self.key(credential), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


principals = PrincipalCache()


# --- signals (connected by AccountsConfig.ready) ---------------------------------------------

# Saves of these fields alone change nothing a principal holds (login stamps last_login).
_IRRELEVANT_FIELDS = frozenset({"last_login"})


def _on_change(sender, instance=None, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= _IRRELEVANT_FIELDS:
        return
    permissions_changed()


def _on_audit(sender, instance=None, created=False, **kwargs) -> None:
    from accounts import throttle

    if not created or instance is None:
        return
    user_ids: list[int] = []
    if instance.action in throttle.ACCOUNT_ACTIONS and instance.username:
        # The database compares user names as the throttle's count does (its collation:
        # case- and accent-insensitive on MariaDB), so every account the failure counts
        # against is found.
        from django.contrib.auth import get_user_model

        user_ids = list(
            get_user_model().objects.filter(username=instance.username).values_list("pk", flat=True)
        )
        if instance.user_id and instance.user_id not in user_ids:
            user_ids.append(instance.user_id)
    ip = instance.ip if instance.action in throttle.ADDRESS_ACTIONS else None
    login_failed(user_ids, ip)


def connect() -> None:
    """Connect the invalidation signals (once per process)."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from accounts.models import AuditEvent, UserProfile, VmGroup

    for model in (get_user_model(), UserProfile, VmGroup):
        uid = f"vmgui-principals-{model._meta.label_lower}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + "-delete")
    post_save.connect(_on_audit, sender=AuditEvent, dispatch_uid="vmgui-principals-audit")


# --- the rights of a session's user (sql.php, the GUI) ---------------------------------------


# On the request's copy of a session's user: the versions (``perm``, ``user:<id>``) its check
# read in this request, read before anything the rights are made of. RightsCache takes them
# instead of reading the same keys again; the copy, and so the attribute, ends with the request.
SEEN_VERSIONS = "_vm_seen_versions"


@dataclass(frozen=True)
class _Rights:
    effective: object
    versions: tuple
    expires: float
    user_state: tuple  # the user row's part of the rights, compared with the fresh row


class RightsCache:
    """Effective rights per user id, re-validated by one shared-cache read per request.

    A session request loads its user from the database (Django's session auth, which also
    notices a password change); the rights (profile + group: one more query) are reused while
    the permission and account versions are unchanged and the fresh user row has the same
    superuser/active/password state (a change racing the first load cannot stick).
    """

    def __init__(self) -> None:
        self._entries: dict[int, _Rights] = {}
        self._lock = threading.Lock()

    def rights_of(self, user):
        """``user``'s Effective, kept on the user object for the rest of the request."""
        from accounts.permissions import remember_effective

        ttl = settings.API_AUTH_CACHE_SECONDS
        if ttl <= 0:
            return remember_effective(user)
        with self._lock:
            entry = self._entries.get(user.pk)
        state = (user.is_superuser, user.is_active, user.password)
        # A session's user comes with the versions its check read in this request (the same
        # keys): read once, not twice (SessionUserCache).
        seen = getattr(user, SEEN_VERSIONS, None)
        if (
            entry is not None
            and entry.expires > time.monotonic()
            and entry.user_state == state
            and (seen if seen is not None else current_versions(user.pk, None)) == entry.versions
        ):
            user._vm_effective = entry.effective
            return entry.effective
        # Versions read before the rights are (remember_effective below), as check_versions asks.
        versions = seen if seen is not None else check_versions(permission_version(), user.pk, None)
        effective = remember_effective(user)
        if versions is not None:
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                expires = time.monotonic() + ttl
                self._entries[user.pk] = _Rights(effective, versions, expires, state)
        return effective

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


rights = RightsCache()


# --- the user of a session (Django's get_user: sql.php, the GUI, the REST API's session) ------


class SessionUserCache:
    """Users of sessions, re-validated by one shared-cache read per request.

    Django loads a session's user on every request (the user row, then the profile for the
    blocked check: two queries). Both are reused while the permission and account versions are
    unchanged, so a block, a deactivation, a password change (the session hash no longer
    matches: logged out) or a deletion reaches every worker at the next request, as for
    ``principals``. Each request gets its own copy of the user: nothing one request sets on it
    reaches another.
    """

    def __init__(self) -> None:
        self._memory = PrincipalCache()

    def get(self, user_id, load: Callable[[], object]):
        """The user ``load()`` would return (None: unknown or may not sign in)."""
        if settings.API_AUTH_CACHE_SECONDS <= 0:
            return load()
        credential = (str(user_id),)
        found = self._memory.checked(credential, None)
        if found is not None:
            user = copy.copy(found[0])
            setattr(user, SEEN_VERSIONS, found[1])
            return user
        try:
            versions = check_versions(permission_version(), int(user_id), None)
        except (TypeError, ValueError):  # a session holding a foreign id: no memory
            versions = None
        user = load()
        if user is not None:
            self._memory.remember(credential, None, copy.copy(user), user.pk, versions)
            if versions is not None:
                setattr(user, SEEN_VERSIONS, versions)
        return user

    def clear(self) -> None:
        self._memory.clear()


session_users = SessionUserCache()
