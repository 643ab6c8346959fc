"""api.php's active-call tasks: listActiveCalls and handleActiveCall.

Thin adapters over ``cdr.sensors.registry`` (registry, scope, parallel manager requests) and
``cdr.sensors.manager`` (the sniffer's manager protocol). Choices: docs/active-calls.md.

* ``listActiveCalls`` answers ``{"success":true,"rows":[..],"total":N,"sensors":[..],
  "failed":[..]}``: each row keeps the manager's columns and values (IPs as the integers the
  sniffer sends, plus a ``<column>_dotted`` text copy) and names its sensor (``sensorId``,
  ``sensorName``); sensors that did not answer are listed in ``failed`` with the reason
  instead of failing the whole answer (clients also use this task as a credential check).
* ``handleActiveCall`` checks ``command`` and ``callRef`` strictly before anything is sent,
  maps the sniffer's replies to the envelope and records every attempt that reached a sensor
  in the audit log (``call_pause``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import require_flag
from accounts.services import ApiPrincipal
from api.legacy.params import ParamError, check_count, int_value, is_blank, text_value
from cdr.query.patterns import check_length
from cdr.sensors import registry as sensors
from cdr.sensors.manager import (
    IP_COLUMNS,
    CallNotFound,
    InvalidRequest,
    ManagerError,
    check_call_ref,
)
from cdr.sensors.registry import SensorCall, SensorInfo, UnknownSensor
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)


def _failure(reason: str) -> JsonResponse:
    """The api.php error envelope (HTTP 200)."""
    return JsonResponse({"success": False, "errors": {"reason": reason}})


def _success(payload: dict[str, Any]) -> JsonResponse:
    """The api.php success envelope. The tasks answer responses (not payload dicts) because
    api.legacy.api_php runs request-taking tasks like downloads: it releases the concurrency slot
    when the response is closed."""
    return JsonResponse({"success": True, **payload})


# ---------------------------------------------------------------------------
# listActiveCalls
# ---------------------------------------------------------------------------


def _sensor_param(params: dict[str, Any], *, all_value: bool) -> int | None:
    """sensorId: None = every visible sensor. [G] ``0``/``-1`` mean every sensor unless a
    sensor with id 0 exists (``"0"`` is what many clients send)."""
    value = params.get("sensorId")
    if is_blank(value):
        return None
    sensor_id = int_value(value, "params.sensorId", minimum=-1)
    if all_value and sensor_id in (0, -1):
        if sensor_id == 0 and any(s.id == 0 for s in sensors.registry()):
            return 0
        return None
    return sensor_id


def _call_id_matcher(value: Any):
    """callId: one Call-ID or a list; ``%`` is a wildcard, otherwise the match is exact.

    Matched like the CDR engine's Call-ID patterns (``cdr.query.patterns.like_match``): in time
    linear in the Call-ID (no backtracking regex), each pattern at most
    settings.MAX_PATTERN_LENGTH characters. Unlike a LIKE search, ``_`` is literal and
    case counts: a Call-ID is an opaque token.
    """
    items = value if isinstance(value, list) else [value]
    check_count(len(items), "params.callId")
    patterns = [text_value(v, "params.callId") for v in items if not is_blank(v)]
    for pattern in patterns:
        check_length(pattern, "params.callId")
    matchers = [_pattern_matcher(p) for p in patterns]
    return lambda call_id: any(m(call_id or "") for m in matchers)


def _pattern_matcher(pattern: str):
    """One callId pattern: exact, or pieces of literal text between runs of ``%``."""
    if "%" not in pattern:
        return lambda call_id: call_id == pattern
    first, *middle, last = re.sub("%%+", "%", pattern).split("%")

    def matches(call_id: str) -> bool:
        if not call_id.startswith(first):
            return False
        pos = len(first)
        for piece in middle:  # leftmost occurrence: exact for literal pieces, never backtracks
            found = call_id.find(piece, pos)
            if found < 0:
                return False
            pos = found + len(piece)
        return len(call_id) - len(last) >= pos and call_id.endswith(last)

    return matches


def active_call_row(item: SensorCall) -> dict[str, Any]:
    """One manager row: its columns as they came, a dotted copy of each IP, the sensor."""
    out: dict[str, Any] = {}
    for column, value in item.call.values.items():
        out[column] = value
        if column in IP_COLUMNS:
            out[f"{column}_dotted"] = item.call.ip(column)
    out["sensorId"] = item.sensor.id
    out["sensorName"] = item.sensor.name or None
    return out


def list_active_calls(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest | None = None
) -> JsonResponse:
    """listActiveCalls: the active calls of every sensor the caller may see (or of one).

    Newest first; at most settings.API_MAX_ROWS rows (``"limited": true`` when cut).
    """
    require_flag(principal.user, "can_activecalls", "listing active calls")
    params = params or {}
    sensor_id = _sensor_param(params, all_value=True)
    matches = None if is_blank(params.get("callId")) else _call_id_matcher(params["callId"])
    try:
        result = sensors.list_active_calls(principal.scope, sensor_id)
    except UnknownSensor as exc:
        return _failure(exc.reason)
    except ManagerError as exc:  # an unusable AES key: nothing could be asked
        return _failure(exc.reason)
    items = [c for c in result.calls if matches is None or matches(c.call.callid)]
    limit = settings.API_MAX_ROWS
    payload: dict[str, Any] = {
        "rows": [active_call_row(item) for item in items[:limit]],
        "total": len(items),
        "sensors": [_sensor_json(s) for s in result.answered],
        "failed": [{**_sensor_json(f.sensor), "reason": f.reason} for f in result.failed],
    }
    if len(items) > limit:
        payload["limited"] = True
    return _success(payload)


def _sensor_json(sensor: SensorInfo) -> dict[str, Any]:
    return {"sensorId": sensor.id, "sensorName": sensor.name or None}


# ---------------------------------------------------------------------------
# handleActiveCall
# ---------------------------------------------------------------------------


def _audit(principal: ApiPrincipal, request, sensor: SensorInfo, command: str, ref: str, **kw):
    success = kw.pop("success")
    audit.record(
        AuditEvent.Action.CALL_PAUSE,
        user=principal.user,
        username="" if principal.user is not None else "anonymous",
        request=request,
        face="api.php",
        object_id=ref,
        success=success,
        command=command,
        call_ref=ref,
        sensor=sensor.id,
        sensor_name=sensor.name,
        **kw,
    )


def handle_active_call(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest | None = None
) -> JsonResponse:
    """handleActiveCall: pausecall / unpausecall one active call on one sensor."""
    require_flag(principal.user, "can_activecalls", "pausing active calls")
    if params is None:
        raise ParamError(
            "missing params: send params as a JSON object, e.g. "
            'params={"sensorId":"1","command":"pausecall","callRef":"0x7f0e4c3c2680"}'
        )
    command = params.get("command")
    if command not in sensors.PAUSE_COMMANDS:
        shown = command[:40] if isinstance(command, str) else command
        raise ParamError(
            f"params.command must be pausecall or unpausecall, got {shown!r}"
            if not is_blank(command)
            else "params.command is required: pausecall or unpausecall"
        )
    raw_ref = params.get("callRef")
    if is_blank(raw_ref):
        raise ParamError("params.callRef is required (the callreference of listActiveCalls)")
    try:
        ref = check_call_ref(raw_ref)
    except InvalidRequest as exc:
        raise ParamError(f"params.callRef: {exc.reason}") from None
    sensor_id = _sensor_param(params, all_value=False)
    if sensor_id is None:
        visible = sensors.visible_sensors(principal.scope)
        if len(visible) != 1:
            raise ParamError("params.sensorId is required (the sensor the call is on)")
        sensor_id = visible[0].id
    try:
        sensor = sensors.get_sensor(principal.scope, sensor_id)
    except UnknownSensor as exc:
        return _failure(exc.reason)
    try:
        sensors.pause_call(principal.scope, sensor.id, command, ref)
    except UnknownSensor as exc:
        return _failure(exc.reason)
    except CallNotFound as exc:
        _audit(principal, request, sensor, command, ref, success=False, reason=exc.reason)
        return _failure(f"call {ref} is not active on {sensor.describe()} (it may have ended)")
    except ManagerError as exc:
        _audit(principal, request, sensor, command, ref, success=False, reason=exc.reason)
        return _failure(f"{sensor.describe()}: {exc.reason}")
    _audit(principal, request, sensor, command, ref, success=True)
    logger.info("%s %s on %s by %s", command, ref, sensor.describe(), principal.username)
    return _success({"sensorId": sensor.id, "command": command, "callRef": ref})


# Tasks that get the request too (handleActiveCall audits the client's address); both answer
# a JsonResponse.
TASKS = {
    "listActiveCalls": list_active_calls,
    "handleActiveCall": handle_active_call,
}
