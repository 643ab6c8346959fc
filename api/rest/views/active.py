"""``/api/v1/active-calls/``: live calls from the sensors' manager ports; pause/unpause."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from api.rest.principal import require
from api.rest.problems import BadParameter, problem
from cdr.sensors import registry
from cdr.sensors.manager import IP_COLUMNS, CallNotFound, InvalidRequest, check_call_ref
from cdr.sensors.registry import UnknownSensor


class ActiveCallsSerializer(serializers.Serializer):
    calls = serializers.ListField(
        child=serializers.DictField(),
        help_text="One object per call: the manager's columns as sent, a `<ip>_dotted` copy "
        "of each IP column, `sensor_id`, `sensor_name`.",
    )
    total = serializers.IntegerField()
    limited = serializers.BooleanField()
    sensors = serializers.ListField(child=serializers.DictField())
    failed = serializers.ListField(child=serializers.DictField())


class PauseSerializer(serializers.Serializer):
    sensor_id = serializers.IntegerField()
    call_ref = serializers.CharField()
    paused = serializers.BooleanField()


def _sensor_param(request) -> int | None:
    raw = request.query_params.get("sensor")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadParameter({"sensor": ["a sensor id (0 … 999999999)"]})
    return int(raw)


class ActiveCallList(APIView):
    """Active calls of every sensor the caller may see (or of ``sensor``), newest first."""

    @extend_schema(
        parameters=[OpenApiParameter("sensor", int, description="only this sensor id")],
        responses={200: ActiveCallsSerializer},
        operation_id="active_calls_list",
    )
    def get(self, request):
        granted = require(request, "can_activecalls", "listing active calls")
        result = registry.list_active_calls(granted.scope, _sensor_param(request))
        items = result.calls  # newest first (cdr.sensors.registry)
        limit = settings.API_MAX_ROWS
        calls = []
        for item in items[:limit]:
            row = dict(item.call.values)
            for column in IP_COLUMNS:
                if column in row:
                    row[f"{column}_dotted"] = item.call.ip(column)
            row["sensor_id"], row["sensor_name"] = item.sensor.id, item.sensor.name or None
            calls.append(row)
        return Response(
            {
                "calls": calls,
                "total": len(items),
                "limited": len(items) > limit,
                "sensors": [{"id": s.id, "name": s.name or None} for s in result.answered],
                "failed": [
                    {"id": f.sensor.id, "name": f.sensor.name or None, "reason": f.reason}
                    for f in result.failed
                ],
            }
        )


class ActiveCallAction(APIView):
    """``POST …/{sensor_id}/{call_ref}/pause`` or ``/unpause``: stop or resume recording."""

    command = "pausecall"

    @extend_schema(request=None, responses={200: PauseSerializer})
    def post(self, request, sensor_id: int, call_ref: str):
        granted = require(request, "can_activecalls", "pausing active calls")
        try:
            ref = check_call_ref(call_ref)
        except InvalidRequest as exc:
            raise BadParameter({"call_ref": [exc.reason]}) from None
        details = {"command": self.command, "call_ref": ref, "sensor": sensor_id}
        try:
            sensor = registry.pause_call(granted.scope, sensor_id, self.command, ref)
        except (UnknownSensor, CallNotFound) as exc:
            self._audit(request, ref, False, details, reason=exc.reason)
            return problem(404, exc.reason)
        except Exception as exc:
            self._audit(request, ref, False, details, reason=str(exc))
            raise
        self._audit(request, ref, True, details, sensor_name=sensor.name)
        return Response(
            {"sensor_id": sensor.id, "call_ref": ref, "paused": self.command == "pausecall"}
        )

    def _audit(self, request, ref: str, success: bool, details: dict, **extra) -> None:
        audit.call_pause(request, "rest", ref, success, details, **extra)


class ActiveCallUnpause(ActiveCallAction):
    command = "unpausecall"
