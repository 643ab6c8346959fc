"""The period a scheduled report covers when ``send_reports`` runs at a given moment.

Periods are whole calendar units in the sniffer's zone (settings.TIME_ZONE), the last one that
has ended: daily → the previous day, weekly → the previous Monday … Sunday, monthly → the
previous calendar month. Running the command several times in the same period gives the same
period, which is what makes sending idempotent (``ReportDelivery``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings

from cdr.reports.service import Period


def _start_of_day(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def last_period(schedule: str, now: dt.datetime) -> Period:
    """The last complete period of ``schedule`` (daily/weekly/monthly) before ``now`` (aware)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(zone).date()
    if schedule == "daily":
        first, after = today - dt.timedelta(days=1), today
    elif schedule == "weekly":
        this_monday = today - dt.timedelta(days=today.weekday())
        first, after = this_monday - dt.timedelta(days=7), this_monday
    elif schedule == "monthly":
        after = today.replace(day=1)
        first = (after - dt.timedelta(days=1)).replace(day=1)
    else:
        raise ValueError(f"not a schedule: {schedule!r}")
    start = _start_of_day(first, zone)
    end = _start_of_day(after, zone) - dt.timedelta(microseconds=1)
    return Period(start, end)
