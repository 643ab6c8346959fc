"""``/api/v1/reports/``: report definitions, and ``/{id}/summary``: a report run over a period.

Definitions are listed to every caller as far as they may see them (shared ones and their own;
admins all). Creating needs ``can_reports_edit`` (admins always); changing and deleting also
need to own the report (admins: any). Running (``summary``) needs ``can_cdr``; the figures are
computed under the caller's row restrictions, as JSON or (``format=png``) as the PNG chart.
Shapes and definitions of every figure: docs/reports.md.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import PermissionRefused
from api.rest.principal import require, rights
from api.rest.problems import BadParameter, problem
from api.rest.renderers import FastJSONRenderer
from cdr.query.filterspec import PARSERS, FilterValueError
from cdr.reports import chart
from cdr.reports.models import ReportDefinition
from cdr.reports.service import check_period, may_change, run, visible_reports
from cdr.reports.spec import SECTIONS, ReportError, recipient_list

EDITABLE = [
    "description", "notes", "filters", "metrics", "top_n", "shared", "schedule", "recipients",
]  # fmt: skip


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "email"}})
class RecipientsField(serializers.Field):
    """E-mail addresses: a list in JSON, a comma list in the database."""

    def to_representation(self, value):
        return recipient_list(value)

    def to_internal_value(self, data):
        try:
            return ", ".join(recipient_list(data))
        except ReportError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ReportSerializer(serializers.ModelSerializer):
    filters = serializers.DictField(
        required=False,
        help_text='CDR filters in the names of GET /api/v1/cdrs/, e.g. {"caller": "+420%", '
        '"sip_response": "4xx", "connected": true}; the period is chosen per run.',
    )
    metrics = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SECTIONS)),
        required=False,
        max_length=len(SECTIONS),
        help_text="Sections besides the summary figures (default: all).",
    )
    recipients = RecipientsField(required=False)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)

    class Meta:
        model = ReportDefinition
        fields = ["id", *EDITABLE, "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def validate(self, attrs):
        # The stored report with the changes applied (a copy: nothing is saved if it fails).
        candidate = copy.copy(self.instance) if self.instance else ReportDefinition()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean(exclude=["owner"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return {f: getattr(candidate, f) for f in EDITABLE if f in attrs or not self.instance}


class ReportRunSerializer(serializers.Serializer):
    """The JSON answer of a report run (every section the definition selected)."""

    report = serializers.DictField()
    datetime_from = serializers.DateTimeField()
    datetime_to = serializers.DateTimeField()
    time_zone = serializers.CharField()
    summary = serializers.DictField()
    sip_responses = serializers.ListField(child=serializers.DictField(), required=False)
    top_callers = serializers.ListField(child=serializers.DictField(), required=False)
    top_called = serializers.ListField(child=serializers.DictField(), required=False)
    sensors = serializers.ListField(child=serializers.DictField(), required=False)
    hours = serializers.ListField(child=serializers.DictField(), required=False)
    days = serializers.ListField(child=serializers.DictField(), required=False)


class PngRenderer(BaseRenderer):
    """Lets ``Accept: image/png`` through content negotiation; the view draws the PNG itself."""

    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


def _period(request):
    bounds = []
    for name, kind in (("datetime_from", "datetime"), ("datetime_to", "datetime_end")):
        raw = request.query_params.get(name, "")
        if not raw.strip():
            raise BadParameter({name: [f"{name}: required (ISO 8601, e.g. 2026-11-27T00:00:00)"]})
        try:
            bounds.append(PARSERS[kind](name, [raw]))
        except FilterValueError as exc:
            raise BadParameter({name: [str(exc)]}) from None
    try:
        return check_period(*bounds)
    except ReportError as exc:
        raise BadParameter({"datetime_to": [str(exc)]}) from None


@extend_schema(tags=["reports"])
class ReportViewSet(viewsets.ModelViewSet):
    serializer_class = ReportSerializer
    pagination_class = None

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return ReportDefinition.objects.none()
        user = self.request.user
        return visible_reports(user.pk, is_admin=rights(self.request).is_admin)

    def _editor(self, obj=None) -> None:
        granted = require(self.request, "can_reports_edit", "changing reports")
        if obj is not None and not may_change(obj, self.request.user.pk, is_admin=granted.is_admin):
            raise PermissionRefused(
                "permission denied: only the report's owner or an admin may change it"
            )

    # Rights are checked before the body is validated: a caller who may not change a report
    # learns that, not what would be wrong with their change.
    def create(self, request, *args, **kwargs):
        self._editor()
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self._editor(self.get_object())
        return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self._editor(self.get_object())
        return super().destroy(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class ReportSummary(APIView):
    """The report's figures over a period (JSON), or its PNG chart (``format=png``)."""

    renderer_classes = [FastJSONRenderer, PngRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "datetime_from", str, required=True,
                description="ISO 8601 (without an offset: VMGUI_TIME_ZONE; a date: its start)",
            ),
            OpenApiParameter(
                "datetime_to", str, required=True,
                description="ISO 8601 (a date alone: the end of that day)",
            ),
            OpenApiParameter("format", str, enum=["json", "png"], description="default json"),
        ],
        responses={
            (200, "application/json"): ReportRunSerializer,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
        operation_id="reports_summary",
        tags=["reports"],
    )  # fmt: skip
    def get(self, request, report_id: int):
        granted = require(request, "can_cdr", "running reports")
        fmt = request.query_params.get("format", "")
        if fmt not in ("", "json", "png"):
            raise BadParameter({"format": ["format: json or png"]})
        png = fmt == "png" or (not fmt and request.accepted_renderer.format == "png")
        report = (
            visible_reports(request.user.pk, is_admin=granted.is_admin).filter(pk=report_id).first()
        )
        if report is None:
            return problem(404, f"no such report: {report_id}")
        period = _period(request)
        try:
            data = run(report, period, granted.scope)
        except ReportError as exc:
            raise BadParameter({"filters": [str(exc)]}) from None
        if png:
            image = chart.report_png(report.description, period, data)
            response = HttpResponse(image, content_type="image/png")
            response["Content-Disposition"] = (
                f'inline; filename="{chart.png_filename(report.description, period)}"'
            )
            return response
        return Response(
            {
                "datetime_from": period.start.isoformat(),
                "datetime_to": period.end.isoformat(),
                "time_zone": settings.TIME_ZONE,
                **data,
            }
        )
