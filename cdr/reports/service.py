"""Running a report: every metric computed IN THE DATABASE, under the caller's scope.

``summarize`` runs at most four grouped queries on the query engine's queryset
(``cdr_queryset(filter, scope)``: the definition's filters, the period, the caller's row
restrictions): the measures per (sensor, day, hour), from which the summary, the per-sensor,
per-hour and per-day figures are added up (at most sensors × days × 24 small groups), and one
each for the top SIP responses, callers and called numbers. Each is a ``COUNT``/``SUM``/``MIN``/
``MAX`` … ``GROUP BY`` over the calldate range; no CDR row is ever loaded into Python, so the
cost is the database's scan of the period (docs/benchmarks.md, ``bench/reports.py``).

Definitions of the figures (docs/reports.md):

- ``calls``: CDRs; ``answered``: ``connect_duration IS NOT NULL`` (the sniffer's mark of a
  200 OK, as ``connected`` everywhere); ``asr`` = answered / calls × 100;
  ``acd`` = SUM(connect_duration) / answered (seconds); ``minutes`` = SUM(connect_duration) / 60.
- MOS: ``mos_min_mult10`` (each call's worse side) of calls that have one (> 0), ÷ 10:
  ``mos_avg``, ``mos_min``.
- Loss: ``packet_loss_perc_mult1000`` (the worse side's lost packets in %) ÷ 1000:
  ``loss_avg``, ``loss_max``. Jitter: ``jitter_mult10`` (the worse side's mean jitter, ms) ÷ 10:
  ``jitter_avg``, ``jitter_max``. Columns the sniffer skipped give ``null``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate

from cdr import schema
from cdr.models import CdrSipResponse, Sensor
from cdr.query.engine import CdrFilter, cdr_queryset
from cdr.query.rows import lookup_texts
from cdr.query.scope import CdrScope
from cdr.query.storedtext import display_value
from cdr.reports.models import ReportDefinition
from cdr.reports.spec import SECTIONS, ReportError, report_filter

ANSWERED = Q(connect_duration__isnull=False)
# Quality figures: name → (cdr column, divisor, decimals).
QUALITY = {
    "mos": ("mos_min_mult10", 10, 2),
    "loss": ("packet_loss_perc_mult1000", 1000, 3),
    "jitter": ("jitter_mult10", 10, 2),
}
MOS_MEASURED = Q(mos_min_mult10__gt=0)  # 0 / NULL: no RTP measured (MOS is at least 1.0)


@dataclass(frozen=True)
class Period:
    """The period a report runs over: aware datetimes, both ends included."""

    start: dt.datetime
    end: dt.datetime


def check_period(start: dt.datetime, end: dt.datetime) -> Period:
    """A period of at most settings.REPORT_MAX_DAYS days that ends after it starts."""
    if end < start:
        raise ReportError("datetime_to is before datetime_from")
    days = settings.REPORT_MAX_DAYS
    if end - start > dt.timedelta(days=days):
        raise ReportError(f"the period is longer than {days} days (VMGUI_REPORT_MAX_DAYS)")
    return Period(start, end)


def visible_reports(user_id: int | None, *, is_admin: bool) -> QuerySet:
    """The definitions a caller may see and run: shared ones and their own (admins: all)."""
    qs = ReportDefinition.objects.order_by("description")
    if is_admin:
        return qs
    return qs.filter(Q(shared=True) | Q(owner_id=user_id)) if user_id else qs.filter(shared=True)


def may_change(report: ReportDefinition, user_id: int | None, *, is_admin: bool) -> bool:
    """Whether a caller who may edit reports (``can_reports_edit``) may change or delete this
    one: its owner, or an admin (an editor cannot redirect another user's scheduled report)."""
    return is_admin or (user_id is not None and report.owner_id == user_id)


def find_report(name: str, visible: QuerySet) -> ReportDefinition:
    """A visible definition by its Description: exact, else the one case-insensitive match.

    ReportError otherwise, listing the names that exist (the spec's most common mistake is a
    report_name that differs from the Description).
    """
    wanted = (name or "").strip()
    names = list(visible.values_list("id", "description")[:1000])
    exact = [pk for pk, text in names if text == wanted]
    folded = [pk for pk, text in names if text.casefold() == wanted.casefold()]
    chosen = exact or folded
    if wanted and len(chosen) == 1:
        return visible.get(pk=chosen[0])
    listed = [text for _, text in names]
    shown = ", ".join(repr(n) for n in listed[:50])
    more = f" and {len(listed) - 50} more" if len(listed) > 50 else ""
    known = f"reports: {shown}{more}" if listed else "no report is defined yet"
    what = f"no report named {wanted[:100]!r}" if wanted else "report_name is required"
    if wanted and len(chosen) > 1:
        what = f"report_name {wanted[:100]!r} matches several reports; use the exact name"
    return _raise(f"{what} ({known}; report_name must equal a report's Description)")


def _raise(reason: str):
    raise ReportError(reason)


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


def _measures(*, quality: bool) -> dict[str, Any]:
    """The aggregates of one group (or of the whole period)."""
    out: dict[str, Any] = {
        "calls": Count("ID"),
        "answered": Count("ID", filter=ANSWERED),
        "connected": Sum("connect_duration", filter=ANSWERED),
    }
    if not quality:
        return out
    for name, (column, _, _) in QUALITY.items():
        if not schema.has_column("cdr", column):
            continue
        measured = MOS_MEASURED if name == "mos" else Q(**{f"{column}__isnull": False})
        out[f"{name}_n"] = Count(column, filter=measured)
        out[f"{name}_sum"] = Sum(column, filter=measured)
        out[f"{name}_min" if name == "mos" else f"{name}_max"] = (
            Min(column, filter=measured) if name == "mos" else Max(column, filter=measured)
        )
    return out


def _num(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _figures(row: dict, *, quality: bool) -> dict[str, Any]:
    """Counts and sums of one group → the report's figures (JSON numbers, None = no data)."""
    calls = int(row.get("calls") or 0)
    answered = int(row.get("answered") or 0)
    connected = float(row.get("connected") or 0)
    out: dict[str, Any] = {
        "calls": calls,
        "answered": answered,
        "unanswered": calls - answered,
        "asr": _num(answered * 100 / calls, 2) if calls else None,
        "acd": _num(connected / answered, 2) if answered else None,
        "minutes": _num(connected / 60, 2),
    }
    if not quality:
        return out
    for name, (_, divisor, digits) in QUALITY.items():
        n = int(row.get(f"{name}_n") or 0)
        total = row.get(f"{name}_sum")
        extreme = "min" if name == "mos" else "max"
        value = row.get(f"{name}_{extreme}")
        out[f"{name}_avg"] = (
            _num(float(total) / n / divisor, digits) if n and total is not None else None
        )
        out[f"{name}_{extreme}"] = (
            _num(float(value) / divisor, digits) if n and value is not None else None
        )
    out["mos_calls"] = int(row.get("mos_n") or 0)
    return out


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _sip_responses(qs: QuerySet, calls: int, top: int) -> list[dict]:
    rows = list(
        qs.values("lastSIPresponseNum", "lastSIPresponse_id")
        .annotate(calls=Count("ID"))
        .order_by("-calls", "lastSIPresponseNum", "lastSIPresponse_id")[:top]
    )
    texts = lookup_texts(CdrSipResponse, "lastSIPresponse", {r["lastSIPresponse_id"] for r in rows})
    return [
        {
            "code": r["lastSIPresponseNum"],
            "text": texts.get(r["lastSIPresponse_id"]),
            "calls": r["calls"],
            "percent": _num(r["calls"] * 100 / calls, 2) if calls else None,
        }
        for r in rows
    ]


def _top_numbers(qs: QuerySet, column: str, top: int) -> list[dict]:
    rows = qs.values(column).annotate(**_measures(quality=False)).order_by("-calls", column)[:top]
    return [
        {"number": display_value("cdr", column, r[column]), **_figures(r, quality=False)}
        for r in rows
    ]


def _grouped(qs: QuerySet) -> list[dict]:
    """ONE grouped statement for the summary, sensors, hours and days: the measures per
    (sensor, day, hour). At most sensors × days × 24 groups, merged below."""
    zone = _zone()
    return list(
        qs.annotate(
            day=TruncDate("calldate", tzinfo=zone), hour=ExtractHour("calldate", tzinfo=zone)
        )
        .values("id_sensor", "day", "hour")
        .annotate(**_measures(quality=True))
        .order_by()
    )


_KEYS = ("id_sensor", "day", "hour")


def _combine(rows: Sequence[dict]) -> dict:
    """The measures of several groups as one: counts and sums add up, minima and maxima hold."""
    total: dict[str, Any] = {}
    for row in rows:
        for key, value in row.items():
            if key in _KEYS or value is None:
                continue
            if key not in total:
                total[key] = value
            elif key.endswith("_min"):
                total[key] = min(total[key], value)
            elif key.endswith("_max"):
                total[key] = max(total[key], value)
            else:
                total[key] += value
    return total


def _by(rows: Sequence[dict], key: str) -> dict:
    out: dict[Any, list[dict]] = {}
    for row in rows:
        value = _as_date(row[key]) if key == "day" else row[key]
        out.setdefault(value, []).append(row)
    return out


def _sensors(rows: Sequence[dict]) -> list[dict]:
    groups = _by(rows, "id_sensor")
    names = lookup_texts(Sensor, "name", set(groups))
    # The databases' own order: calls without a sensor (NULL) first, then by id.
    order = sorted(groups, key=lambda s: (s is not None, s or 0))
    return [
        {"id_sensor": s, "name": names.get(s), **_figures(_combine(groups[s]), quality=True)}
        for s in order
    ]


def _hours(rows: Sequence[dict]) -> list[dict]:
    groups = {int(k): v for k, v in _by(rows, "hour").items()}
    return [{"hour": h, **_figures(_combine(groups.get(h, [])), quality=False)} for h in range(24)]


def _days(rows: Sequence[dict], period: Period) -> list[dict]:
    groups = _by(rows, "day")
    zone = _zone()
    first, last = period.start.astimezone(zone).date(), period.end.astimezone(zone).date()
    out = []
    day = first
    while day <= last:
        figures = _figures(_combine(groups.get(day, [])), quality=False)
        out.append({"date": day.isoformat(), **figures})
        day += dt.timedelta(days=1)
    return out


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def summarize(
    filters: object,
    period: Period,
    scope: CdrScope,
    *,
    sections: Sequence[str] = tuple(SECTIONS),
    top_n: int = 10,
) -> dict[str, Any]:
    """Every figure of a report over ``period`` for a caller with ``scope`` (plain data).

    Keys: ``summary`` (always) and each of ``sections`` (SECTIONS order). ReportError for a
    filter that cannot be used; the query engine's QueryError for one the database refuses
    (e.g. a custom header that no longer exists).
    """
    f: CdrFilter = report_filter(filters)
    f.date_from, f.date_to = period.start, period.end
    qs = cdr_queryset(f, scope).order_by()
    grouped = _grouped(qs)
    summary = _figures(_combine(grouped), quality=True)
    out: dict[str, Any] = {"summary": summary}
    top = max(1, min(int(top_n), 100))
    builders = {
        "sip_responses": lambda: _sip_responses(qs, summary["calls"], top),
        "top_callers": lambda: _top_numbers(qs, "caller", top),
        "top_called": lambda: _top_numbers(qs, "called", top),
        "sensors": lambda: _sensors(grouped),
        "hours": lambda: _hours(grouped),
        "days": lambda: _days(grouped, period),
    }
    for name in SECTIONS:
        if name in sections:
            out[name] = builders[name]()
    return out


def run(report: ReportDefinition, period: Period, scope: CdrScope) -> dict[str, Any]:
    """``summarize`` for a stored definition, with the definition's own description."""
    figures = summarize(report.filters, period, scope, sections=report.sections, top_n=report.top_n)
    return {"report": describe(report), **figures}


def describe(report: ReportDefinition) -> dict[str, Any]:
    """A definition as plain data (what the answers show about the report itself)."""
    return {
        "id": report.pk,
        "name": report.description,
        "filters": report.filters or {},
        "metrics": report.sections,
        "top_n": report.top_n,
    }
