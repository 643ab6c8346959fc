"""``/api/v1/audit/``: the audit log (``can_audit``), newest first, keyset-paged."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from accounts.models import AuditEvent
from api.rest.principal import require
from api.rest.problems import BadParameter

MAX_PAGE = 500


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "action",
            "username",
            "ip",
            "face",
            "object_id",
            "success",
            "details",
        ]


class AuditPage(serializers.Serializer):
    results = AuditEventSerializer(many=True)
    next_before = serializers.IntegerField(
        allow_null=True, help_text="pass as `before` for the next page"
    )


def _int(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise BadParameter({name: [f"a whole number from {low} to {high}"]})
    return int(raw)


def _time(request, name: str):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = parse_datetime(raw[:40])
    except ValueError:
        value = None
    if value is None:
        raise BadParameter({name: ["an ISO 8601 date-time, e.g. 2026-11-27T10:00:00Z"]})
    return value


class AuditList(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, enum=list(AuditEvent.Action.values)),
            OpenApiParameter("username", str),
            OpenApiParameter("face", str),
            OpenApiParameter("since", str, description="ISO 8601"),
            OpenApiParameter("until", str, description="ISO 8601"),
            OpenApiParameter("before", int, description="events with a smaller id (paging)"),
            OpenApiParameter("limit", int, description=f"1 … {MAX_PAGE}, default 100"),
        ],
        responses={200: AuditPage},
        operation_id="audit_list",
    )
    def get(self, request):
        require(request, "can_audit", "reading the audit log")
        action = request.query_params.get("action") or ""
        if action and action not in AuditEvent.Action.values:
            raise BadParameter({"action": [f"one of {', '.join(AuditEvent.Action.values)}"]})
        qs = audit.search(
            action=action,
            username=request.query_params.get("username") or "",
            face=request.query_params.get("face") or "",
            since=_time(request, "since"),
            until=_time(request, "until"),
        )
        before = _int(request, "before", 0, 1, 10**15)
        if before:
            qs = qs.filter(id__lt=before)
        limit = _int(request, "limit", 100, 1, MAX_PAGE)
        events = list(qs[: limit + 1])
        more = len(events) > limit
        events = events[:limit]
        return Response(
            {
                "results": AuditEventSerializer(events, many=True).data,
                "next_before": events[-1].id if more and events else None,
            }
        )
