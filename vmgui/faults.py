"""Infrastructure faults answered clearly: the database (or the shared Redis) down or restarting.

When MariaDB is down, restarting, refusing connections or drops a connection mid-request,
every face answers **HTTP 503** with ``Retry-After: 5`` and, on the legacy paths (``/php/…``,
``*.php``), the envelope both kinds of legacy client read::

    {"success": false,
     "error": {"type": "unavailable", "descr": "<reason>"},
     "errors": {"reason": "<reason>"}}

(other paths get the reason as plain text). Nothing has to be restarted afterwards: Django
drops the broken connection at the end of the request (``CONN_HEALTH_CHECKS``) and the next
request connects again.

Three places produce it: the legacy faces re-raise such errors from their catch-alls
(``database_unavailable``), ``DatabaseFaultMiddleware.process_exception`` turns an error raised
by a view into the answer (one warning line, no traceback per request while the database is
down), and ``server_error`` (``handler500``) does the same for errors raised in middleware
(sessions, the logged-in user) and keeps legacy paths on JSON for any other crash.

With several app hosts (``VMGUI_REDIS_URL``, docs/deployment.md) the shared Redis holds the
cache and the sessions; when it cannot be reached the same 503 answers, naming Redis.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from vmgui.legacyjson import JsonResponse

logger = logging.getLogger("vmgui.faults")

UNAVAILABLE_REASON = (
    "the database is not available right now (down or restarting); try again in a few seconds"
)
REDIS_REASON = "the shared cache (Redis) is not available right now; try again in a few seconds"
INTERNAL_REASON = "internal error while answering the request (the server log has the details)"
RETRY_AFTER_SECONDS = 5

# MySQL/MariaDB client and server errors that mean "no usable connection", not "bad query":
# too many connections, access denied, shutdown in progress, host blocked, network read/write
# errors, max_user_connections, connection killed, can't connect (socket/TCP/unknown host),
# server has gone away, lost connection, SSL connection error, lost connection at handshake,
# disconnected for inactivity.
MYSQL_CONNECTION_ERRORS = frozenset(
    {1040, 1044, 1045, 1053, 1077, 1129, 1158, 1159, 1160, 1161, 1203, 1927}
    | {2002, 2003, 2005, 2006, 2013, 2026, 2055, 4031}
)
# SQLite: another process holds the write lock past the timeout, or the file is gone.
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file")


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a dependency
        return ()
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def redis_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) means the shared Redis cannot be reached."""
    errors = _redis_errors()
    seen = 0
    while exc is not None and seen < 6:
        if errors and isinstance(exc, errors):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_reason(exc: BaseException | None) -> str:
    return REDIS_REASON if redis_unavailable(exc) else UNAVAILABLE_REASON


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) means a backing store cannot be reached right now:
    the database, or the shared Redis of a multi-host deployment."""
    if redis_unavailable(exc):
        return True
    seen = 0
    while exc is not None and seen < 6:
        if isinstance(exc, InterfaceError):
            return True  # a connection that is already closed
        if isinstance(exc, OperationalError):
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code in MYSQL_CONNECTION_ERRORS:
                return True
            if any(text in str(exc).lower() for text in SQLITE_UNAVAILABLE):
                return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def is_legacy_path(request: HttpRequest) -> bool:
    path = request.path_info or ""
    if path == "/admin.php":  # the old GUI's deep link: a browser page (gui.cdrs.deeplink)
        return False
    return path.startswith("/php/") or path.endswith(".php")


def _envelope(kind: str, reason: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"success": False, "error": {"type": kind, "descr": reason}, "errors": {"reason": reason}},
        status=status,
    )


def unavailable_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """The 503 answer of a request that found the database (or Redis) unavailable."""
    reason = unavailable_reason(exc)
    if is_legacy_path(request):
        response: HttpResponse = _envelope("unavailable", reason, 503)
    else:
        response = HttpResponse(reason, status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseFaultMiddleware:
    """Turns a view's "database unavailable" exception into the 503 answer."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        logger.warning("backing store unavailable on %s: %s", request.path_info, exception)
        return unavailable_response(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: errors raised outside the views (middleware) or not handled by them."""
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        return unavailable_response(request, exc)
    if is_legacy_path(request):
        return _envelope("internal", INTERNAL_REASON, 500)
    return defaults.server_error(request)
