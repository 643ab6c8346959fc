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

Both receivers run after Django's own ``close_old_connections`` (connected when ``django.db``
is imported), which resets the check at the start and the end of every request.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connections

_STAMP = "_vmgui_healthy_at"  # on the thread's connection wrapper: when it last proved healthy


def note_healthy(**_: Any) -> None:
    """request_finished: remember when each open connection served a request without error."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred:
            setattr(conn, _STAMP, now)
        else:
            setattr(conn, _STAMP, None)


def skip_recent_check(**_: Any) -> None:
    """request_started: no ping for a connection that proved healthy moments ago."""
    window = settings.DB_HEALTH_CHECK_IDLE_MS / 1000
    if window <= 0:
        return
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        healthy_at = getattr(conn, _STAMP, None)
        if conn.connection is not None and healthy_at is not None and now - healthy_at < window:
            conn.health_check_done = True
