"""The database health check, skipped for a connection a request has just used.

With ``CONN_HEALTH_CHECKS`` Django pings a reused connection before the first query of every
request: one more round trip to MariaDB, ~0.15 ms of a one-row api.php answer at 10M CDRs
(issue 19, docs/benchmarks.md "Fifth round"), paid again and again by a busy worker whose
connection served a request a few milliseconds before.

Here the ping is skipped when the connection finished a request without a database error
less than ``settings.DB_HEALTH_CHECK_IDLE_MS`` ago (``VMGUI_DB_HEALTH_CHECK_IDLE_MS``,
default 1000; 0 pings before every request, Django's behaviour). A connection idle for longer
(a quiet worker, a database restarted meanwhile, ``wait_timeout``) is still pinged and
reopened if dead, without failing the request. What is given up: a database that goes away
in the moment between two requests fails the next request's query (a 503 with Retry-After,
``vmgui.faults``) instead of being reconnected; Django then drops the broken connection and
the request after that opens a new one. A ping never protected that moment fully either:
the database can go away between the ping and the query.

How: a request that ends without a database error stamps its connections
(``note_healthy``, on request_finished); each connection's ``close_if_health_check_failed``,
which Django calls before the first query after the start of a request, is wrapped when the
connection is made (``install``, on connection_created) to skip the ping for a fresh stamp.
Neither depends on the order of Django's own request signal receivers (the test client
disconnects and reconnects ``close_old_connections``, which changes that order).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connections

_STAMP = "_vmgui_healthy_at"  # on the thread's connection wrapper: when it last proved healthy
_WRAPPED = "_vmgui_check_wrapped"


def note_healthy(**_: Any) -> None:
    """request_finished: remember when each open connection served a request without error."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        healthy = conn.connection is not None and not conn.errors_occurred
        setattr(conn, _STAMP, now if healthy else None)


def install(connection: Any, **_: Any) -> None:
    """connection_created: wrap the wrapper's health check once (see the module doc)."""
    if getattr(connection, _WRAPPED, False):
        return
    check = connection.close_if_health_check_failed

    def close_if_health_check_failed() -> None:
        if connection.connection is not None and not connection.health_check_done:
            healthy_at = getattr(connection, _STAMP, None)
            window = settings.DB_HEALTH_CHECK_IDLE_MS / 1000
            if healthy_at is not None and time.monotonic() - healthy_at < window:
                connection.health_check_done = True
                return
        check()

    connection.close_if_health_check_failed = close_if_health_check_failed
    setattr(connection, _WRAPPED, True)
