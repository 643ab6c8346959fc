"""api.php ``reportSummary``: a stored report over a period, as JSON or as a PNG image.

A thin adapter over ``cdr.reports`` (definitions, aggregation in the database, the chart):

* ``params``: ``report_name`` (the report's Description; exact, else the one case-insensitive
  match), ``datetime_from`` (required), ``datetime_to`` (default: now; a date alone means the
  end of that day), ``json`` (true → JSON, otherwise the PNG image, as the spec says).
* The caller needs ``can_cdr`` and sees only reports shared with everyone or their own (admins:
  all); the figures are computed under the caller's row restrictions.
* An unknown report name answers the error envelope listing the report names the caller can
  use: the spec's most common user mistake.

Answer shapes (JSON keys, PNG): docs/reports.md.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.permissions import effective, require_flag
from accounts.services import ApiPrincipal
from api.legacy.dates import format_datetime, parse_datetime_param
from api.legacy.params import ParamError, bool_value, is_blank, text_value
from cdr.reports import chart
from cdr.reports.service import check_period, find_report, run, visible_reports
from cdr.reports.spec import MAX_NAME_LENGTH, ReportError
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)


def _failure(reason: str) -> JsonResponse:
    return JsonResponse({"success": False, "errors": {"reason": reason}})


def _name(params: dict[str, Any]) -> str:
    value = params.get("report_name")
    if is_blank(value):
        raise ParamError("params.report_name: required (the Description of a report)")
    name = text_value(value, "params.report_name")
    if len(name) > MAX_NAME_LENGTH * 2:
        raise ParamError(f"params.report_name: at most {MAX_NAME_LENGTH} characters")
    return name


def report_summary(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest
) -> HttpResponse:
    """reportSummary: the JSON figures (``json: true``) or the PNG chart of one report."""
    params = params or {}
    require_flag(principal.user, "can_cdr", "running reports")
    name = _name(params)
    if is_blank(params.get("datetime_from")):
        raise ParamError("params.datetime_from: required (e.g. 2024-01-01)")
    start = parse_datetime_param(params["datetime_from"], "params.datetime_from")
    raw_to = params.get("datetime_to")
    end = (
        timezone.now()
        if is_blank(raw_to)
        else parse_datetime_param(raw_to, "params.datetime_to", end_of_day=True)
    )
    as_json = False if is_blank(params.get("json")) else bool_value(params["json"], "params.json")
    user = principal.user
    is_admin = effective(user).is_admin
    try:
        report = find_report(name, visible_reports(getattr(user, "pk", None), is_admin=is_admin))
        period = check_period(start, end)
        data = run(report, period, principal.scope)
    except ReportError as exc:
        return _failure(str(exc))
    logger.info("reportSummary %r by %s", report.description, principal.username)
    if as_json:
        return JsonResponse(
            {
                "success": True,
                "report_name": report.description,
                "datetime_from": format_datetime(period.start),
                "datetime_to": format_datetime(period.end),
                "time_zone": settings.TIME_ZONE,
                **data,
            },
        )
    png = chart.report_png(report.description, period, data)
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = (
        f'inline; filename="{chart.png_filename(report.description, period)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


TASKS = {"reportSummary": report_summary}
