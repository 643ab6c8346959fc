"""Django's session stores with a cheaper read (``SESSION_ENGINE`` = one of the modules here).

Every sql.php request and every GUI page reads its session. Django's database store reads it
with ``Session.objects.get(session_key=…, expire_date__gt=now)``: building, compiling and
running an ORM query and making a model instance cost ~0.4 ms in-process against ~0.1 ms for
the same statement sent directly (issue 19, docs/benchmarks.md "Fifth round"). The stores
here send that statement directly; everything else (writes, expiry, the cache of
``cached_db``, ``clearsessions``) is Django's, unchanged.

* ``accounts.sessionstore.db``: the database (one host, or several without Redis).
* ``accounts.sessionstore.cached_db``: Redis first, then the database (several hosts).
"""

from __future__ import annotations

from typing import Any

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


class SessionStore(DirectRead, DbSessionStore):
    """Django's database session store, read directly."""
