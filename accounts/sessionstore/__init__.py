"""Django's session stores with a cheaper read (``SESSION_ENGINE`` = one of the modules here).

Every sql.php request and every GUI page reads its session. Django's database store reads it
with ``Session.objects.get(session_key=…, expire_date__gt=now)``: building, compiling and
running an ORM query and making a model instance cost ~0.4 ms in-process against ~0.1 ms for
the same statement sent directly (issue 19, docs/benchmarks.md "Fifth round"). The stores
here send that statement directly, and decode a session's data once per process while it
stays the same text; everything else (writes, expiry, the cache of ``cached_db``,
``clearsessions``) is Django's, unchanged.

* ``accounts.sessionstore.db``: the database (one host, or several without Redis).
* ``accounts.sessionstore.cached_db``: Redis first, then the database (several hosts).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import connections, router
from django.utils import timezone


class DirectRead:
    """``_get_session_from_db`` as one parametrized SELECT of the session's data and expiry
    (mixed into Django's database store)."""

    def _get_session_from_db(self: Any) -> Any:
        model = self.model
        using = router.db_for_read(model)
        connection = connections[using]
        ops = connection.ops
        meta = model._meta
        columns = [ops.quote_name(meta.get_field(name).column) for name in
                   ("session_data", "expire_date", "session_key")]  # fmt: skip
        sql = (
            f"SELECT {columns[0]}, {columns[1]} FROM {ops.quote_name(meta.db_table)}"  # noqa: S608
            f" WHERE {columns[2]} = %s AND {columns[1]} > %s"
        )
        # The key comes from a cookie: it is a parameter, and Django's own validation of its
        # form (SessionBase._validate_session_key) has already run in ``session_key``.
        now = ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django's store: a missing or expired session
            return None
        data, expire_date = row
        # The ORM's conversion of a DateTimeField value (aware in the connection's zone).
        expire_date = ops.convert_datetimefield_value(expire_date, None, connection)
        return model(session_key=self.session_key, session_data=data, expire_date=expire_date)


# The types of a session value that a shallow copy of the decoded dict cannot share.
_SCALARS = frozenset({str, int, float, bool, type(None)})
# Bounded memory: at most this many decoded sessions per process (then it starts over).
MAX_DECODED = 1024
_decoded: dict[tuple, dict] = {}
_decoded_lock = threading.Lock()


class RememberedDecode:
    """``decode`` of a text decoded before: a copy of the same result, without checking the
    signature and parsing again (mixed into Django's stores).

    The text read from the database carries its signature, and the key includes the secrets
    that check it, so the same key gives Django's own answer: the memory only holds what a
    successful decode of that exact text returned. Data that fails its check (tampered,
    another secret) is decoded, and logged by Django, every time. Only sessions whose values
    are all scalars are kept (a shallow copy then shares nothing a request could change).
    """

    def decode(self: Any, session_data: str) -> dict:
        key = (type(self), session_data, settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
        found = _decoded.get(key)
        if found is not None:
            return dict(found)
        decoded = super().decode(session_data)
        if decoded and _SCALARS.issuperset(map(type, decoded.values())):
            with _decoded_lock:
                if len(_decoded) >= MAX_DECODED:
                    _decoded.clear()
                _decoded[key] = dict(decoded)
        return decoded


class SessionStore(DirectRead, RememberedDecode, DbSessionStore):
    """Django's database session store, read directly, its decoding remembered."""
