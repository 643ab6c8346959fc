"""The CDR list's chart: calls per hour and the SIP-response mix, drawn as inline SVG.

The figures come from ONE grouped query (``cdr.query.engine.hourly_counts``: calls per hour of
the sniffer's clock and last SIP response code, with the user's scope). This module only
arranges them: continuous time buckets over the searched range (hours; days when the range
is longer than a week; months beyond two years, so that the chart keeps a readable number of
bars), stacked by response class, the totals, the most frequent codes, and the geometry of
the SVG that the template draws. The same numbers are on the page as a table (the chart's
text alternative).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from django.conf import settings
from django.utils import dateformat, timezone

from cdr.reports.chart import nice_step

# Response classes, bottom to top of a bar. "none": no final response (0, 1xx, NULL).
CLASSES: Final = ("2xx", "3xx", "4xx", "5xx", "6xx", "none")
CLASS_LABELS: Final = {
    "2xx": "2xx success",
    "3xx": "3xx redirection",
    "4xx": "4xx client failure",
    "5xx": "5xx server failure",
    "6xx": "6xx global failure",
    "none": "no final response",
}
MAX_HOURS: Final = 7 * 24  # hourly bars up to a week
MAX_DAYS: Final = 731  # daily bars up to two years, months beyond
TOP_CODES: Final = 6

# SVG geometry (viewBox units; the SVG scales to the page width).
WIDTH: Final = 800
HEIGHT: Final = 190
LEFT: Final = 44
RIGHT: Final = 8
TOP: Final = 10
BOTTOM: Final = 34
MAX_LABELS: Final = 12


def sip_class(code: int | None) -> str:
    """The class of a last SIP response code ("none" below 200 or unknown)."""
    if code is None or not 200 <= code < 700:
        return "none"
    return f"{code // 100}xx"


@dataclass
class Bucket:
    """One bar: a period and its calls per response class."""

    start: dt.datetime
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    answered: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def title(self) -> str:
        parts = [f"{name} {n:,}" for name, n in self.counts.items() if n]
        suffix = f" ({', '.join(parts)})" if parts else ""
        return f"{self.label}: {self.total:,} calls{suffix}"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    sub: str = ""


@dataclass
class Chart:
    """What the page shows: bars, totals, mix, top codes and the SVG geometry."""

    unit: str  # "hour", "day", "month"
    buckets: list[Bucket]
    totals: dict[str, int]
    total: int
    answered: int
    top_codes: list[tuple[int | None, int]]
    bars: list[tuple[Bucket, list[Rect]]] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    y_max: int = 0
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT
    date_only_format: str = "Y-m-d"

    @property
    def period(self) -> str:
        """The charted range, for the chart's description."""
        if not self.buckets:
            return ""
        return f"{self.buckets[0].label} – {self.buckets[-1].label}"

    @property
    def mix(self) -> list[tuple[str, str, int, float]]:
        """(class, label, calls, percent) of every class with calls."""
        return [
            (name, CLASS_LABELS[name], n, 100 * n / self.total if self.total else 0.0)
            for name, n in self.totals.items()
            if n
        ]


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _hour_floor(value: dt.datetime) -> dt.datetime:
    """The start of the sniffer-clock hour holding ``value`` (as the database truncates)."""
    return value.astimezone(_zone()).replace(minute=0, second=0, microsecond=0)


def _unit(start: dt.datetime, end: dt.datetime) -> str:
    hours = (end - start).total_seconds() / 3600
    if hours <= MAX_HOURS:
        return "hour"
    return "day" if hours <= MAX_DAYS * 24 else "month"


def _key(unit: str, hour: dt.datetime) -> tuple:
    local = timezone.localtime(hour)
    if unit == "hour":
        return (hour.astimezone(dt.UTC),)
    if unit == "day":
        return (local.date(),)
    return (local.year, local.month)


def _label(unit: str, start: dt.datetime, date_only_format: str) -> str:
    local = timezone.localtime(start)
    if unit == "hour":
        return dateformat.format(local, f"{date_only_format} H:i")
    if unit == "day":
        return dateformat.format(local, date_only_format)
    return dateformat.format(local, "Y-m")


def _periods(unit: str, start: dt.datetime, end: dt.datetime) -> Iterable[dt.datetime]:
    """Every hour from ``start``'s to ``end``'s (both included); days/months are keyed from
    them. Hours are stepped in UTC: a DST change neither skips nor repeats one."""
    hour = _hour_floor(start).astimezone(dt.UTC)
    last = _hour_floor(end).astimezone(dt.UTC)
    while hour <= last:
        yield hour
        hour += dt.timedelta(hours=1)


def build_chart(
    rows: Sequence[dict],
    start: dt.datetime | None,
    end: dt.datetime | None,
    date_only_format: str = "Y-m-d",
) -> Chart:
    """The chart of ``hourly_counts`` rows over [start, end] (either None: the data's own).

    Every period in the range gets a bucket, calls or not, so gaps are visible.
    """
    hours = [r["hour"] for r in rows if r.get("hour") is not None]
    if start is None:
        start = min(hours) if hours else timezone.now()
    if end is None:
        end = max(hours) if hours else start
    if hours:  # calls outside the asked range cannot exist, but a clock skew must not drop them
        start, end = min(start, min(hours)), max(end, max(hours))
    unit = _unit(start, end)
    buckets: dict[tuple, Bucket] = {}
    for hour in _periods(unit, start, end):
        key = _key(unit, hour)
        if key not in buckets:
            buckets[key] = Bucket(hour, _label(unit, hour, date_only_format))
    totals = dict.fromkeys(CLASSES, 0)
    codes: Counter = Counter()
    answered = 0
    for row in rows:
        if row.get("hour") is None:
            continue
        bucket = buckets.setdefault(
            _key(unit, row["hour"]),
            Bucket(row["hour"], _label(unit, row["hour"], date_only_format)),
        )
        name = sip_class(row.get("lastSIPresponseNum"))
        calls = int(row.get("cnt_all") or 0)
        bucket.counts[name] += calls
        bucket.answered += int(row.get("cnt_ok") or 0)
        totals[name] += calls
        codes[row.get("lastSIPresponseNum")] += calls
        answered += int(row.get("cnt_ok") or 0)
    ordered = sorted(buckets.values(), key=lambda b: b.start)
    chart = Chart(
        unit=unit,
        buckets=ordered,
        totals=totals,
        total=sum(totals.values()),
        answered=answered,
        top_codes=codes.most_common(TOP_CODES),
        date_only_format=date_only_format,
    )
    _layout(chart)
    return chart


def _nice(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    return nice_step(value) if value > 0 else 1


def _layout(chart: Chart) -> None:
    n = len(chart.buckets)
    if not n:
        return
    chart.y_max = _nice(max(b.total for b in chart.buckets))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    for value in sorted({0, chart.y_max // 2, chart.y_max}):
        chart.y_ticks.append((round(HEIGHT - BOTTOM - plot_h * value / chart.y_max, 2), value))
    width = max(slot * 0.8, 0.5)
    every = max(1, -(-n // MAX_LABELS))
    day = ""
    for index, bucket in enumerate(chart.buckets):
        x = LEFT + index * slot + (slot - width) / 2
        y = HEIGHT - BOTTOM
        rects = []
        for name in CLASSES:
            calls = bucket.counts[name]
            if not calls:
                continue
            height = plot_h * calls / chart.y_max
            y -= height
            rects.append(Rect(round(x, 2), round(y, 2), round(width, 2), round(height, 2), name))
        chart.bars.append((bucket, rects))
        if index % every == 0:
            chart.ticks.append(_tick(chart, bucket, LEFT + index * slot + slot / 2, day))
            day = dateformat.format(timezone.localtime(bucket.start), chart.date_only_format)


def _tick(chart: Chart, bucket: Bucket, x: float, previous_day: str) -> Tick:
    """An x-axis label: hours as H:i with the date under the first hour of each day."""
    if chart.unit != "hour":
        return Tick(round(x, 2), bucket.label)
    local = timezone.localtime(bucket.start)
    day = dateformat.format(local, chart.date_only_format)
    return Tick(round(x, 2), dateformat.format(local, "H:i"), "" if day == previous_day else day)
