"""A report run (``cdr.reports.service.run``'s plain data) as the page shows it: the summary
tiles, one table per section with every figure, and the bar charts as SVG geometry.

No database access here: only formatting. Numbers keep the service's rounding; "no data"
(``None``) shows as an en dash. The SVG charts carry a title and description, and every bar a
``<title>`` (tooltip, screen readers); the tables below them are the full text alternative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cdr.reports.chart import nice_step
from cdr.reports.spec import SECTIONS
from gui.templatetags.gui import loss_class, mos_class, sip_class

NO_DATA: Final = "–"


@dataclass(frozen=True)
class Column:
    """One figure: its key in the service's rows, header, unit and decimals (None: integer)."""

    key: str
    label: str
    digits: int | None = None
    cue: Any = None  # a CSS class function of the value (quality colour cues)


@dataclass
class Cell:
    text: str
    numeric: bool = False
    css: str = ""


@dataclass
class Table:
    id: str
    title: str
    headers: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


CALL_FIGURES: Final = (
    Column("calls", "Calls"),
    Column("answered", "Answered"),
    Column("unanswered", "Unanswered"),
    Column("asr", "ASR %", 2),
    Column("acd", "ACD s", 2),
    Column("minutes", "Minutes", 2),
)
QUALITY_FIGURES: Final = (
    Column("mos_avg", "MOS avg", 2, mos_class),
    Column("mos_min", "MOS min", 2, mos_class),
    Column("mos_calls", "Calls with MOS"),
    Column("loss_avg", "Loss avg %", 3, loss_class),
    Column("loss_max", "Loss max %", 3, loss_class),
    Column("jitter_avg", "Jitter avg ms", 2),
    Column("jitter_max", "Jitter max ms", 2),
)
# The summary tiles: every figure of ``summary``.
SUMMARY: Final = CALL_FIGURES + QUALITY_FIGURES


def number(value: Any, digits: int | None = None) -> str:
    """A figure as text: the service's value, fixed decimals, en dash for no data."""
    if value is None:
        return NO_DATA
    if digits is None:
        return str(value)
    return f"{float(value):.{digits}f}"


def _cells(row: dict, columns: Sequence[Column]) -> list[Cell]:
    out = []
    for c in columns:
        value = row.get(c.key)
        css = c.cue(value) if c.cue and value is not None else ""
        out.append(Cell(number(value, c.digits), True, css))
    return out


def summary_tiles(summary: dict) -> list[dict]:
    """(id, label, text, css) of every summary figure."""
    return [
        {
            "id": f"summary-{c.key}",
            "label": c.label,
            "text": number(summary.get(c.key), c.digits),
            "css": c.cue(summary[c.key]) if c.cue and summary.get(c.key) is not None else "",
        }
        for c in SUMMARY
    ]


def _sensor_name(row: dict) -> str:
    if row.get("name"):
        return str(row["name"])
    return f"sensor {row['id_sensor']}" if row.get("id_sensor") is not None else "no sensor"


def tables(data: dict, *, sniffer_zone: str) -> list[Table]:
    """One table per section the report shows, in the service's order, with every figure."""
    out: list[Table] = []
    for key in SECTIONS:
        if key not in data:
            continue
        rows = data[key]
        if key == "sip_responses":
            table = Table(
                key, SECTIONS[key],
                [Column("response", "Last SIP response"), Column("calls", "Calls"),
                 Column("percent", "Share %", 2)],
            )  # fmt: skip
            for r in rows:
                text = r["text"] or (str(r["code"]) if r["code"] is not None else "(none)")
                table.rows.append(
                    [
                        Cell(text, css=sip_class(r["code"])),
                        Cell(number(r["calls"]), True),
                        Cell(number(r["percent"], 2), True),
                    ]
                )
        elif key in ("top_callers", "top_called"):
            table = Table(key, SECTIONS[key], [Column("number", "Number"), *CALL_FIGURES])
            for r in rows:
                table.rows.append([Cell(r["number"] or "(empty)"), *_cells(r, CALL_FIGURES)])
        elif key == "sensors":
            columns = (*CALL_FIGURES, *QUALITY_FIGURES)
            table = Table(key, SECTIONS[key], [Column("sensor", "Sensor"), *columns])
            for r in rows:
                table.rows.append([Cell(_sensor_name(r)), *_cells(r, columns)])
        elif key == "hours":
            table = Table(
                key, SECTIONS[key], [Column("hour", "Hour"), *CALL_FIGURES],
                note=f"Hours of the day in the sniffer's zone ({sniffer_zone}), summed over "
                "the period.",
            )  # fmt: skip
            for r in rows:
                label = f"{r['hour']:02d}:00–{r['hour']:02d}:59"
                table.rows.append([Cell(label), *_cells(r, CALL_FIGURES)])
        else:  # days
            table = Table(
                key, SECTIONS[key], [Column("date", "Day"), *CALL_FIGURES],
                note=f"Calendar days in the sniffer's zone ({sniffer_zone}).",
            )  # fmt: skip
            for r in rows:
                table.rows.append([Cell(r["date"]), *_cells(r, CALL_FIGURES)])
        out.append(table)
    return out


# ---------------------------------------------------------------------------
# Bar charts (inline SVG)
# ---------------------------------------------------------------------------

WIDTH: Final = 720
HEIGHT: Final = 240
LEFT: Final = 48
RIGHT: Final = 8
TOP: Final = 12
BOTTOM: Final = 30


@dataclass(frozen=True)
class Chart:
    """SVG geometry of one bar chart: calls (light) with answered calls (dark) inside."""

    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[dict]
    ticks: list[dict]
    baseline: float
    left: int
    right: int


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    rows: Sequence[dict],
    names: Sequence[str] | None = None,
) -> Chart:
    """The chart of ``rows`` (each with ``calls`` and ``answered``) labelled by ``labels``
    under the bars and ``names`` (default: the labels) in the bars' tooltips."""
    names = list(names or labels)
    calls = [int(r["calls"]) for r in rows]
    answered = [int(r["answered"]) for r in rows]
    plot_h = HEIGHT - TOP - BOTTOM
    step = nice_step(max([*calls, 1]) / 4)
    peak = step * max(1, -(-max([*calls, 1]) // step))
    baseline = TOP + plot_h
    ticks = [
        {"y": round(baseline - plot_h * i * step / peak, 1), "label": step * i}
        for i in range(int(peak // step) + 1)
    ]
    n = max(1, len(rows))
    slot = (WIDTH - LEFT - RIGHT) / n
    bar = max(1.0, min(slot * 0.7, 40))
    every = max(1, -(-n * 40 // (WIDTH - LEFT - RIGHT)))  # a label every ~40 px
    bars = []
    for i, (label, all_calls, ok) in enumerate(zip(labels, calls, answered, strict=True)):
        name = names[i]
        x = LEFT + slot * i + (slot - bar) / 2
        h_all, h_ok = plot_h * all_calls / peak, plot_h * ok / peak
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar, 1),
                "y_calls": round(baseline - h_all, 1),
                "h_calls": round(h_all, 1),
                "y_answered": round(baseline - h_ok, 1),
                "h_answered": round(h_ok, 1),
                "cx": round(x + bar / 2, 1),
                "label": label if i % every == 0 else "",
                "title": f"{name}: {all_calls} calls, {ok} answered",
            }
        )
    total, total_ok = sum(calls), sum(answered)
    peak_i = max(range(len(calls)), key=lambda i: calls[i]) if calls and total else None
    busiest = f"; busiest {names[peak_i]} with {calls[peak_i]} calls" if peak_i is not None else ""
    description = f"{total} calls, {total_ok} answered{busiest}. The table below has every figure."
    return Chart(
        chart_id, title, description, WIDTH, HEIGHT, bars, ticks, baseline, LEFT, WIDTH - RIGHT
    )


def charts(data: dict, *, sniffer_zone: str) -> list[Chart]:
    """The hour-of-day chart and, for periods of more than one day, the per-day chart."""
    out = []
    if "hours" in data:
        labels = [f"{r['hour']:02d}" for r in data["hours"]]
        names = [f"{r['hour']:02d}:00–{r['hour']:02d}:59" for r in data["hours"]]
        title = f"Calls per hour of day ({sniffer_zone})"
        out.append(bar_chart("chart-hours", title, labels, data["hours"], names))
    if len(data.get("days", [])) > 1:
        labels = [r["date"][5:] for r in data["days"]]
        names = [r["date"] for r in data["days"]]
        out.append(bar_chart("chart-days", "Calls per day", labels, data["days"], names))
    return out
