"""Read the sniffer's tables from a MariaDB replica (``VMGUI_DATABASE_REPLICA_URL``).

Only models of the ``cdr`` app (the sniffer-owned tables, all unmanaged) are read from the
replica; vmgui's own tables (accounts, sessions, audit, shares, reports, tokens) are read and
written on the primary, so a user's own writes are always visible to the next request
(read-your-writes where it matters: a new share, a changed permission, a failed login counted
by the throttle). Writes of sniffer rows (the demo, tests) go to the primary too.
``primary_reads()`` pins a block's sniffer reads to the primary as well (e.g. right after the
demo wrote rows). Migrations only ever run on the primary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

SNIFFER_APPS = frozenset({"cdr"})
REPLICA = "replica"

_pinned: ContextVar[bool] = ContextVar("vmgui_primary_reads", default=False)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Within the block, the sniffer's tables are read from the primary too."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def read_alias(model=None) -> str:
    """The database alias sniffer reads go to (raw SQL callers use this too)."""
    if REPLICA not in settings.DATABASES or _pinned.get():
        return "default"
    if model is not None and model._meta.app_label not in SNIFFER_APPS:
        return "default"
    return REPLICA


class ReplicaRouter:
    """Django database router: sniffer reads → replica, everything else → primary."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias(model)

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == "default"
