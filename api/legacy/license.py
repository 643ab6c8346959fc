"""/php/apilicensecheck.php: the old GUI's licence checks, answered for an open-source install.

vmgui has no licence key; integrations call these tasks to check capacity, so they answer:

* ``task=licenseCheck``: the installation is valid, with its product, version and limits;
* ``task=licenseCallsLimitCheck``: the concurrent calls now on the sensors (their manager ports,
  ``cdr.sensors.registry.list_active_calls``, over EVERY sensor: a licence is installation-wide)
  against ``settings.LICENSE_CALLS_LIMIT`` (0 = unlimited), and whether the limit is exceeded.

Who sees what: the spec's call sends no credentials, so a request without any is answered, but
with the verdict only (``valid`` / ``exceeded``), as are users with ``hide_license_information``.
Details (version, limits, counts, failed sensors) need credentials of a user without that flag:
``user``/``password`` like api.php, or a signed-in session (GUI, sql.php); with
``VMGUI_API_DISABLE_AUTH`` an anonymous request gets them too (it acts as admin, as api.php's).
Wrong credentials are an error, never a silent downgrade. Shapes: docs/reports.md.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.csrf import csrf_exempt

from accounts.permissions import effective
from accounts.services import AuthRefused, authenticate_local
from api.legacy.params import ParamError, first_text, request_fields
from cdr.query.scope import CdrScope
from cdr.sensors.manager import ManagerError
from cdr.sensors.registry import ActiveCalls, list_active_calls
from cdr.telemetry import label_request
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)

TASKS = ("licenseCheck", "licenseCallsLimitCheck")
_BY_LOWER = {t.lower(): t for t in TASKS}
# Anonymous callers can ask as often as they like: the sensors are asked at most once per
# this many seconds per worker process, and every caller in between gets that count.
CACHE_SECONDS = 2.0
_cache: dict[str, Any] = {"at": -1e9, "value": None}
_cache_lock = threading.Lock()
_ANONYMOUS = object()


class LicenseError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _failure(reason: str) -> JsonResponse:
    return JsonResponse({"success": False, "errors": {"reason": reason}})


def _caller(fields: dict[str, Any], request: HttpRequest):
    """The user asking (None = anonymous with admin rights), or _ANONYMOUS (verdict only)."""
    user = first_text(fields, "user")
    password = first_text(fields, "password", "pass")
    if user or password:
        return authenticate_local(user, password, request=request, face="apilicensecheck.php")
    session_user = getattr(request, "user", None)
    if session_user is not None and session_user.is_authenticated:
        return session_user
    return None if settings.API_DISABLE_AUTH else _ANONYMOUS


def _details(caller) -> bool:
    if caller is _ANONYMOUS:
        return False
    return not effective(caller).has("hide_license_information")


def _active_calls() -> ActiveCalls:
    """Every sensor's active calls (cached for CACHE_SECONDS per process)."""
    with _cache_lock:
        now = time.monotonic()
        if _cache["value"] is None or now - _cache["at"] > CACHE_SECONDS:
            _cache["value"] = list_active_calls(CdrScope.unrestricted("licence check"))
            _cache["at"] = time.monotonic()
        return _cache["value"]


def _limit() -> int | None:
    return settings.LICENSE_CALLS_LIMIT or None


def license_check(details: bool) -> dict[str, Any]:
    if not details:
        return {"valid": True}
    return {
        "valid": True,
        "license": "open-source",
        "product": "vmgui",
        "brand": settings.BRAND_NAME,
        "version": settings.VM_VERSION,
        "expires": None,
        "limits": {"concurrent_calls": _limit(), "sensors": None},
    }


def calls_limit_check(details: bool) -> dict[str, Any]:
    found = _active_calls()
    calls = len(found.calls)
    limit = _limit()
    answer: dict[str, Any] = {
        "exceeded": limit is not None and calls > limit,
        "complete": not found.failed,
    }
    if details:
        answer.update(
            {
                "calls": calls,
                "limit": limit,
                "unlimited": limit is None,
                "sensors": len(found.answered),
                "failed": [{**f.sensor.as_json(), "reason": f.reason} for f in found.failed],
            }
        )
    return answer


def _task(fields: dict[str, Any]) -> str:
    raw = first_text(fields, "task")
    if not raw:
        raise LicenseError(f"missing task parameter (tasks: {', '.join(TASKS)})")
    task = _BY_LOWER.get(raw.lower())
    if task is None:
        raise LicenseError(f"unknown task {raw[:60]!r} (tasks: {', '.join(TASKS)})")
    return task


@csrf_exempt
def apilicensecheck_php(request: HttpRequest) -> JsonResponse:
    """/php/apilicensecheck.php?task=licenseCheck|licenseCallsLimitCheck."""
    try:
        if request.method not in ("GET", "POST"):
            raise LicenseError(f"method {request.method} is not supported; use GET or POST")
        fields = request_fields(request)
        task = _task(fields)
        label_request(request, task=task)
        details = _details(_caller(fields, request))
        body = license_check(details) if task == "licenseCheck" else calls_limit_check(details)
        label_request(request, status="ok")
        return JsonResponse({"success": True, **body})
    except (LicenseError, AuthRefused) as exc:
        label_request(request, status="refused")
        return _failure(exc.reason)
    except ParamError as exc:
        label_request(request, status="params")
        return _failure(str(exc))
    except ManagerError as exc:  # e.g. an unusable manager AES key
        label_request(request, status="sensor")
        return _failure(exc.reason)
    except Exception as exc:
        if database_unavailable(exc):
            raise  # 503 + Retry-After (vmgui.faults)
        logger.exception("apilicensecheck.php failed")
        return _failure(
            "internal error while answering the request (the server log has the details)"
        )
