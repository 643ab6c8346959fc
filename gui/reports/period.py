"""The period a report page runs over: whole days in the user's time zone, or a preset.

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both days included, midnight to midnight in the user's
zone) or ``?period=yesterday|last7|month``; nothing given means yesterday (the old GUI's
"Daily report"). The days stay in the URL, so a report page can be bookmarked and shared.
``cdr.reports.service.check_period`` bounds the length (VMGUI_REPORT_MAX_DAYS).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Final

from django.http import QueryDict

from cdr.reports.service import Period, check_period
from cdr.reports.spec import ReportError

# preset → label (the buttons above a report)
PRESETS: Final[dict[str, str]] = {
    "yesterday": "Yesterday",
    "last7": "Last 7 days",
    "month": "This month",
}
DEFAULT_PRESET: Final = "yesterday"


@dataclass(frozen=True)
class Chosen:
    """The days the user chose (in their zone), the preset if any, and the aware period."""

    first: dt.date
    last: dt.date
    preset: str
    period: Period

    @property
    def query(self) -> str:
        """The URL query that selects exactly these days."""
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def preset_days(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a preset, relative to ``today`` (the user's date)."""
    if preset == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if preset == "last7":  # the last seven days, today included
        return today - dt.timedelta(days=6), today
    if preset == "month":
        return today.replace(day=1), today
    raise ReportError(f"period: unknown preset {preset[:20]!r} ({', '.join(PRESETS)})")


def _day(name: str, text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9998:  # the bounds of every face's dates
        raise ReportError(f"{name}: expected a date such as 2026-11-26")
    return day


def choose(query: QueryDict, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> Chosen:
    """The period of a request's query (ReportError with a message for the page)."""
    raw_from, raw_to = query.get("from", "").strip(), query.get("to", "").strip()
    preset = ""
    if raw_from or raw_to:
        first = _day("from", raw_from or raw_to)
        last = _day("to", raw_to or raw_from)
    else:
        preset = query.get("period", "").strip() or DEFAULT_PRESET
        first, last = preset_days(preset, now.astimezone(zone).date())
    if last < first:
        raise ReportError("to: the last day is before the first day")
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    # The last instant of the last day: the report counts calls up to and including it.
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    end -= dt.timedelta(microseconds=1)
    return Chosen(first, last, preset, check_period(start, end))
