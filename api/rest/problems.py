"""Errors as problem JSON (RFC 9457, ``application/problem+json``) with the right 4xx/5xx.

Every exception a view can meet is mapped here, once: DRF's own (400, 401, 403, 404, 405, 406,
429), the services' user-facing errors (bad filter → 400, permission → 403, no such CDR or
file → 404, media that cannot be produced → 422, sensor unreachable or database down → 503).
Anything else is logged and answered 500 without detail.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_handler

from accounts.permissions import PermissionRefused
from cdr.media.service import NoSuchCdr
from cdr.media.spool import MediaError, MediaMissing
from cdr.query.engine import QueryError
from cdr.query.ipfilter import IPFilterError
from cdr.sensors.manager import ManagerError
from cdr.sensors.registry import UnknownSensor
from vmgui.faults import RETRY_AFTER_SECONDS, database_unavailable, redis_unavailable

logger = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


class BadParameter(exceptions.ValidationError):
    """A query parameter the API cannot use; the message names it."""


def problem(status: int, detail: str = "", **extra) -> JsonResponse:
    """A problem JSON response."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = JsonResponse(body, status=status, content_type=PROBLEM_TYPE)
    if status in (429, 503):
        response["Retry-After"] = str(extra.get("retry_after") or RETRY_AFTER_SECONDS)
    return response


def _detail_text(detail) -> tuple[str, dict]:
    """DRF error details → one sentence and, for field errors, the per-field messages."""
    if isinstance(detail, dict):
        fields = {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()
        }
        first = next(iter(fields.items()))
        return f"{first[0]}: {first[1][0]}", {"errors": fields}
    if isinstance(detail, list):
        return "; ".join(str(d) for d in detail), {}
    return str(detail), {}


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error of the REST API as problem JSON."""
    if isinstance(exc, PermissionRefused):
        return problem(403, exc.reason)
    if isinstance(exc, (QueryError, IPFilterError)):
        return problem(400, str(exc))
    if isinstance(exc, ValidationError):
        return problem(400, "; ".join(exc.messages))
    if isinstance(exc, (NoSuchCdr, Http404)):
        return problem(404, str(exc) or "not found")
    if isinstance(exc, MediaMissing):
        return problem(404, str(exc))
    if isinstance(exc, MediaError):
        return problem(422, str(exc))
    if isinstance(exc, UnknownSensor):
        return problem(404, exc.reason)
    if isinstance(exc, ManagerError):
        return problem(503, str(exc))
    if database_unavailable(exc):  # the same test as the legacy faces' 503 (vmgui.faults)
        logger.warning("backing store unavailable: %s", exc)
        if redis_unavailable(exc):
            return problem(503, "the shared cache (Redis) is unavailable; try again shortly")
        return problem(503, "the database is unavailable; try again shortly")
    if isinstance(exc, exceptions.NotAuthenticated):
        exc.detail = "authentication required: send 'Authorization: Bearer <token>' or log in"
    if isinstance(exc, exceptions.APIException):
        response = drf_handler(exc, context)
        status = response.status_code if response is not None else exc.status_code
        text, extra = _detail_text(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra["retry_after"] = int(exc.wait) + 1
        out = problem(status, text, **extra)
        if response is not None and response.get("WWW-Authenticate"):
            out["WWW-Authenticate"] = response["WWW-Authenticate"]
        return out
    if isinstance(exc, DatabaseError):
        logger.exception("database error in the REST API")
        return problem(503, "database error; try again shortly")
    logger.exception("unhandled error in the REST API")
    return problem(500, "internal error (the server log has the details)")


@csrf_exempt  # it changes nothing; a POST to a wrong path gets the 404, not a CSRF page
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/: a problem JSON 404 instead of Django's HTML page."""
    return problem(404, "no such API resource")
