"""/php/api.php: the old GUI's "HTTP API 2", as a thin adapter over the cdr core.

Flow of one request: read the fields from any transport (api.legacy.params) → check the task
→ take a host-wide concurrency slot (api.legacy.concurrency) → authenticate (accounts.services) →
run the task with the caller's CdrScope. Every answer is JSON with HTTP 200: success is
``{"success": true, ...}``, any failure ``{"success": false, "errors": {"reason": "..."}}``,
never a traceback or an HTML page. Behaviour and choices: docs/legacy-api.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.permissions import PermissionRefused
from accounts.services import ApiPrincipal, AuthRefused, authenticate_local, scope_for
from api.legacy import tasks_active, tasks_cdr, tasks_media, tasks_reports, tasks_share
from api.legacy.concurrency import TooManyApiRequests, acquire_slot, release_slot
from api.legacy.dates import DateParamError
from api.legacy.params import ParamError, first_text, params_object, request_fields
from cdr.media.spool import MediaError
from cdr.query.engine import QueryError
from cdr.query.ipfilter import IPFilterError
from cdr.telemetry import label_request
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)

Task = Callable[[dict[str, Any] | None, ApiPrincipal], dict[str, Any]]

TASKS: dict[str, Task] = {
    "getVoipCalls": tasks_cdr.get_voip_calls,
    "listCdrIds": tasks_cdr.list_cdr_ids,
}
# Tasks that answer a file (or the JSON error envelope), and the active-call tasks (which audit
# the client's address); they also get the request.
MEDIA_TASKS = {
    **tasks_media.MEDIA_TASKS,
    **tasks_active.TASKS,
    **tasks_reports.TASKS,
    **tasks_share.TASKS,
}
# Tasks of the spec that later issues implement; they answer a clear error until then.
NOT_YET: tuple[str, ...] = ()
_BY_LOWER = {name.lower(): name for name in (*TASKS, *MEDIA_TASKS, *NOT_YET)}

INTERNAL_ERROR = "internal error while answering the request (the server log has the details)"


class ApiError(Exception):
    """A refusal with a user-facing reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Errors whose message is written for the client.
USER_ERRORS = (ParamError, DateParamError, QueryError, IPFilterError)


def success(payload: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"success": True, **payload})


def failure(reason: str) -> JsonResponse:
    """The api.php error envelope; HTTP 200 like the old GUI (clients read errors.reason)."""
    return JsonResponse({"success": False, "errors": {"reason": reason}})


def task_name(fields: dict[str, Any]) -> str:
    """The canonical task name (matched case-insensitively), or ApiError."""
    raw = fields.get("task")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ApiError("missing task parameter (e.g. task=getVoipCalls)")
    if not isinstance(raw, str):
        raise ApiError("task must be a string such as getVoipCalls")
    name = _BY_LOWER.get(raw.strip().lower())
    if name is None:
        known = ", ".join(sorted((*TASKS, *MEDIA_TASKS, *NOT_YET), key=str.lower))
        raise ApiError(f"unknown task {raw.strip()[:60]!r} (known tasks: {known})")
    return name


def principal_for(fields: dict[str, Any], request: HttpRequest | None = None) -> ApiPrincipal:
    """Authenticate ``user``/``password`` against local accounts (AuthRefused on failure).

    With settings.API_DISABLE_AUTH, a request without credentials is anonymous (unrestricted
    scope); credentials that are sent must still be valid.
    """
    user = first_text(fields, "user")
    password = first_text(fields, "password", "pass")
    if settings.API_DISABLE_AUTH and not user and not password:
        return ApiPrincipal(None, scope_for(None))
    account = authenticate_local(user, password, request=request, face="api.php")
    return ApiPrincipal(account, scope_for(account))


def run(request: HttpRequest) -> dict[str, Any] | HttpResponseBase:
    """Answer one api.php request: the success payload (or a media task's file response),
    or an exception with a reason."""
    if request.method not in ("GET", "POST"):
        raise ApiError(f"method {request.method} is not supported; use GET or POST")
    fields = request_fields(request)
    task = task_name(fields)
    label_request(request, task=task)
    slot = acquire_slot(settings.API_MAX_CONCURRENT, settings.API_LOCK_DIR)
    handed_over = False
    try:
        principal = principal_for(fields, request)
        if task in NOT_YET:
            raise ApiError(f"task {task} is not supported by this server yet")
        params = params_object(fields.get("params"))
        logger.info("api.php %s by %s", task, principal.username)
        if task not in MEDIA_TASKS:
            return TASKS[task](params, principal)
        response = MEDIA_TASKS[task](params, principal, request)
        # A download counts as a running request until its last byte is sent: the slot is
        # given back when the WSGI server closes the (streaming) response.
        response._resource_closers.append(lambda: release_slot(slot))
        handed_over = True
        return response
    finally:
        if not handed_over:
            release_slot(slot)


@csrf_exempt
def api_php(request: HttpRequest) -> HttpResponseBase:
    """/php/api.php: HTTP API 2 (task, user, password, params)."""
    try:
        result = run(request)
        label_request(request, status="ok")
        return result if isinstance(result, HttpResponseBase) else success(result)
    except (ApiError, AuthRefused, TooManyApiRequests, PermissionRefused, MediaError) as exc:
        logger.info("api.php refused: %s", exc.reason)
        label_request(request, status=_refusal(exc))
        return failure(exc.reason)
    except USER_ERRORS as exc:
        logger.info("api.php refused: %s", exc)
        label_request(request, status="params")
        return failure(str(exc))
    except Exception as exc:
        if database_unavailable(exc):
            raise  # 503 + Retry-After (vmgui.faults)
        logger.exception("api.php failed")
        label_request(request, status="internal")
        return failure(INTERNAL_ERROR)


# Refusals → the status label of the request counter (/metrics).
_REFUSALS = {
    ApiError: "params",
    AuthRefused: "auth",
    TooManyApiRequests: "busy",
    PermissionRefused: "permission",
    MediaError: "media",
}


def _refusal(exc: Exception) -> str:
    return next((label for cls, label in _REFUSALS.items() if isinstance(exc, cls)), "refused")


@csrf_exempt
def wrong_path(request: HttpRequest) -> JsonResponse:
    """/api.php: the classic mistake of leaving out /php/ (the spec warns about it)."""
    return failure("wrong path: the HTTP API is at /php/api.php (not /api.php)")
