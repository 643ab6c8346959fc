"""Report pages: the list, one report run over a period (chart + tables), its PNG, and
defining, editing and deleting reports.

Rights are those of every other face (docs/reports.md): any signed-in user lists the reports
``cdr.reports.service.visible_reports`` gives them; running one needs ``can_cdr`` (the figures
are computed under the user's own row restrictions); creating needs ``can_reports_edit``;
changing and deleting also need to own the report (admins: any). A report the user may not see
is a 404, as if it did not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.preferences import preferences_of
from cdr.query.customheaders import header_names
from cdr.query.errors import QueryError
from cdr.reports import chart
from cdr.reports.models import ReportDefinition
from cdr.reports.service import may_change, run, visible_reports
from cdr.reports.spec import SECTIONS, ReportError
from gui.access import forbidden, gui_page, rights
from gui.reports import forms, period, present


def _visible(request: HttpRequest):
    granted = rights(request)
    return visible_reports(request.user.pk, is_admin=granted.is_admin)


def _find(request: HttpRequest, report_id: int) -> ReportDefinition | None:
    return _visible(request).filter(pk=report_id).first()


def _missing(request: HttpRequest, report_id: int) -> HttpResponse:
    return render(request, "gui/reports/missing.html", {"report_id": report_id}, status=404)


def _changeable(request: HttpRequest, report: ReportDefinition) -> bool:
    granted = rights(request)
    return granted.has("can_reports_edit") and may_change(
        report, request.user.pk, is_admin=granted.is_admin
    )


def _to_change(request: HttpRequest, report_id: int) -> ReportDefinition | HttpResponse:
    """The report ``report_id`` when this user may change it, else the refusal page (404 for
    a report they cannot see, 403 for one they may only view)."""
    report = _find(request, report_id)
    if report is None:
        return _missing(request, report_id)
    if not _changeable(request, report):
        return forbidden(request, "can_reports_edit", "only the report's owner or an admin")
    return report


@require_GET
@gui_page()
def report_list(request: HttpRequest) -> HttpResponse:
    granted = rights(request)
    reports = list(_visible(request).select_related("owner"))
    rows = [{"report": r, "can_change": _changeable(request, r)} for r in reports]
    return render(
        request,
        "gui/reports/list.html",
        {
            "rows": rows,
            "can_run": granted.has("can_cdr"),
            "can_edit": granted.has("can_reports_edit"),
            "sections": SECTIONS,
        },
    )


def _run(request: HttpRequest, report: ReportDefinition):
    """(chosen period, figures, error message) of the report for this request's query."""
    zone = preferences_of(request.user).zone
    try:
        chosen = period.choose(request.GET, zone, timezone.now())
    except ReportError as exc:
        return None, None, str(exc)
    try:
        return chosen, run(report, chosen.period, rights(request).scope), ""
    except (ReportError, QueryError) as exc:
        return chosen, None, f"This report cannot run: {exc}"


@require_GET
@gui_page("can_cdr")
def report_view(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _find(request, report_id)
    if report is None:
        return _missing(request, report_id)
    chosen, data, error = _run(request, report)
    zone = settings.TIME_ZONE
    context = {
        "report": report,
        "chosen": chosen,
        # the days in the date inputs: the chosen ones, else what was typed (to correct it)
        "day_from": chosen.first.isoformat() if chosen else request.GET.get("from", "")[:10],
        "day_to": chosen.last.isoformat() if chosen else request.GET.get("to", "")[:10],
        "data": data,
        "error": error,
        "presets": period.PRESETS.items(),
        "can_change": _changeable(request, report),
        "filters": forms.draft_of(report),
        "sniffer_zone": zone,
    }
    if data is not None:
        context |= {
            "tiles": present.summary_tiles(data["summary"]),
            "tables": present.tables(data, sniffer_zone=zone),
            "charts": present.charts(data, sniffer_zone=zone),
        }
    return render(request, "gui/reports/view.html", context, status=400 if error else 200)


@require_GET
@gui_page("can_cdr")
def report_png(request: HttpRequest, report_id: int) -> HttpResponseBase:
    """The report's PNG (the image api.php, the REST API and the e-mails send)."""
    report = _find(request, report_id)
    if report is None:
        return _missing(request, report_id)
    chosen, data, error = _run(request, report)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        chart.report_png(report.description, chosen.period, data), content_type="image/png"
    )
    name = chart.png_filename(report.description, chosen.period)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _form_page(request, draft, report=None, *, status: int = 200) -> HttpResponse:
    granted = rights(request)
    allowed = set(granted.custom_headers_cdr)
    known = [h for h in header_names() if not allowed or h in allowed]
    return render(
        request,
        "gui/reports/form.html",
        {
            "report": report,
            "draft": draft,
            "sections": SECTIONS.items(),
            "schedules": ReportDefinition.Schedule.choices,
            "header_names": known,
            "max_top": forms.MAX_TOP,
        },
        status=status,
    )


def _save(request: HttpRequest, report: ReportDefinition | None) -> HttpResponse:
    """The posted definition (a new one owned by the user when ``report`` is None): the form
    again with its errors (400), or saved and shown."""
    draft, values = forms.read(request.POST)
    candidate = forms.validated(draft, values, report)
    if candidate is None:
        return _form_page(request, draft, report, status=400)
    if report is None:
        candidate.owner = request.user
    candidate.save()
    messages.success(request, f"Report “{candidate.description}” saved.")
    return redirect("gui:report_view", report_id=candidate.pk)


@require_http_methods(["GET", "POST"])
@gui_page("can_reports_edit")
def report_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, forms.draft_of(None))
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@gui_page("can_reports_edit")
def report_edit(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _to_change(request, report_id)
    if isinstance(report, HttpResponse):
        return report
    if request.method != "POST":
        return _form_page(request, forms.draft_of(report), report)
    return _save(request, report)


@require_http_methods(["GET", "POST"])
@gui_page("can_reports_edit")
def report_delete(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _to_change(request, report_id)
    if isinstance(report, HttpResponse):
        return report
    if request.method != "POST":
        return render(request, "gui/reports/delete.html", {"report": report})
    report.delete()
    messages.success(request, f"Report “{report.description}” deleted.")
    return redirect("gui:report_list")
