"""/php/model/sql.php (the old GUI's "CDR HTTP API").

A thin adapter: read the fields from any transport (api.legacy.params) → pick the handler by
``module``/``task`` → authenticate by session (api.legacy.sql_session) → run the task
(api.legacy.sql_listing, on the CDR query engine with the caller's scope). Every answer is
JSON with HTTP 200, never a traceback. Behaviour and every choice: docs/legacy-sql.md. (The
old GUI's /admin.php deep link is a browser link: the GUI serves it, gui.cdrs.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.permissions import PermissionRefused, require_flag
from accounts.services import AuthRefused
from api.legacy import sql_listing as tasks
from api.legacy.dates import DateParamError
from api.legacy.params import ParamError, request_fields
from api.legacy.sql_session import (
    NoSession,
    bypass_login,
    session_logout,
    session_principal,
)
from cdr.query.engine import QueryError
from cdr.query.ipfilter import IPFilterError
from cdr.telemetry import label_request
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger("api.legacy.sql_php")

INTERNAL_ERROR = "internal error while answering the request (the server log has the details)"
# Errors whose message is written for the client, and the error type they answer.
USER_ERRORS = (ParamError, DateParamError, QueryError, IPFilterError)

Answer = dict[str, Any] | HttpResponseBase
Handler = Callable[[HttpRequest, dict[str, Any]], Answer]


class SqlError(Exception):
    """A refusal of sql.php with an error type and a user-facing reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def failure(kind: str, reason: str) -> JsonResponse:
    """The error envelope: ``error.type``/``error.descr`` (the GUI's JS) and ``errors.reason``
    (api.php's shape, which clients written for both read)."""
    return JsonResponse(
        {"success": False, "error": {"type": kind, "descr": reason}, "errors": {"reason": reason}}
    )


def no_session() -> JsonResponse:
    """Missing or expired session, exactly as the old GUI answers it."""
    return JsonResponse({"success": False, "error": {"type": "no_session"}})


def _cdr_task(task: Callable) -> Handler:
    """A CDR task run as the session's principal, who needs the can_cdr permission."""

    def handler(request: HttpRequest, fields: dict[str, Any]) -> Answer:
        principal = session_principal(request)
        require_flag(principal.user, "can_cdr", "reading CDRs")
        logger.info("sql.php %s by %s", task.__name__, principal.username)
        return task(fields, principal)

    return handler


# (task, module) in lower case → handler; bypass_login answers whatever the task.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("listing", "cdr"): _cdr_task(tasks.listing),
    ("total", "cdr"): _cdr_task(tasks.total),
    ("total", ""): _cdr_task(tasks.total),
    ("listing", "cdr_stats"): _cdr_task(tasks.stats),
}
# (task, module) → the task label of the request counter (/metrics): a fixed set, never input.
TASK_LABELS = {
    ("listing", "cdr"): "LISTING",
    ("total", "cdr"): "TOTAL",
    ("total", ""): "TOTAL",
    ("listing", "cdr_stats"): "CDR_stats",
}
SUPPORTED = (
    "module=bypass_login, module=logout, task=LISTING&module=CDR, task=TOTAL, "
    "task=LISTING&module=CDR_stats"
)


def _lower(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip().lower() if isinstance(value, str) else ""


def handler_for(fields: dict[str, Any]) -> Handler:
    """The handler of the request's module/task (case-insensitive), or SqlError."""
    module, task = _lower(fields, "module"), _lower(fields, "task")
    if module == "bypass_login":
        return bypass_login
    if "logout" in (module, task):
        return session_logout
    handler = HANDLERS.get((task, module))
    if handler is None:
        asked = f"task={fields.get('task')!s:.40} module={fields.get('module')!s:.40}"
        raise SqlError("params", f"unsupported request ({asked}); supported: {SUPPORTED}")
    return handler


def _as_response(answer: Answer) -> HttpResponseBase:
    return answer if isinstance(answer, HttpResponseBase) else JsonResponse(answer)


def answer(request: HttpRequest, run: Callable[[], Answer]) -> HttpResponseBase:
    """Run ``run`` and turn every outcome into sql.php's JSON (never a traceback)."""
    try:
        response = _as_response(run())
        label_request(request, status="ok")
        return response
    except NoSession:
        label_request(request, status="no_session")
        return no_session()
    except SqlError as exc:
        kind, reason = exc.kind, exc.reason
    except AuthRefused as exc:
        kind, reason = "login", exc.reason
    except PermissionRefused as exc:
        kind, reason = "permission", exc.reason
    except USER_ERRORS as exc:
        kind, reason = "params", str(exc)
    except Exception as exc:
        if database_unavailable(exc):
            raise  # 503 + Retry-After (vmgui.faults)
        logger.exception("sql.php failed")
        label_request(request, status="internal")
        return failure("internal", INTERNAL_ERROR)
    logger.info("sql.php refused (%s): %s", kind, reason)
    label_request(request, status=kind)
    return failure(kind, reason)


def _run_sql(request: HttpRequest) -> Answer:
    if request.method not in ("GET", "POST"):
        raise SqlError("params", f"method {request.method} is not supported; use GET or POST")
    fields = request_fields(request)
    handler = handler_for(fields)
    label_request(request, task=_task_label(fields))
    return handler(request, fields)


def _task_label(fields: dict[str, Any]) -> str:
    """The request counter's task label of a request ``handler_for`` accepted."""
    module, task = _lower(fields, "module"), _lower(fields, "task")
    if module == "bypass_login":
        return "bypass_login"
    return TASK_LABELS.get((task, module), "logout")


@csrf_exempt
def sql_php(request: HttpRequest) -> HttpResponseBase:
    """/php/model/sql.php: bypass_login, logout, LISTING (CDR, CDR_stats) and TOTAL."""
    return answer(request, lambda: _run_sql(request))
