"""A report as one PNG: title, period, branding, the summary figures, charts and top lists.

Drawn with Pillow from the plain data of ``cdr.reports.service`` (no database access here).
Text uses DejaVu Sans when the system has it (Latin, Greek, Cyrillic, with bold), else Pillow's
built-in FreeType font; characters neither covers (e.g. Japanese) are drawn as boxes, the
JSON answer carries the exact text. The image is at most ``WIDTH`` × a few thousand pixels.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import Any, Final

from cdr.reports.mail import file_stem, period_text
from cdr.reports.service import Period

WIDTH: Final = 1200
MARGIN: Final = 36
INK: Final = (33, 37, 41)
MUTED: Final = (108, 117, 125)
RULE: Final = (222, 226, 230)
HEADER: Final = (22, 52, 92)
HEADER_TEXT: Final = (255, 255, 255)
ACCENT: Final = (52, 120, 198)
GOOD: Final = (46, 160, 90)
TILE: Final = (244, 247, 250)


@functools.cache
def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _fit(draw, text: str, font, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:,.{digits}f}{unit}"


def _tiles(summary: dict) -> list[tuple[str, str, str]]:
    """(label, value, small print) of the summary tiles."""
    return [
        ("Calls", _fmt(summary["calls"]), f"{_fmt(summary['unanswered'])} unanswered"),
        ("Answered", _fmt(summary["answered"]), f"{_fmt(summary['minutes'], ' min', 1)}"),
        ("ASR", _fmt(summary["asr"], " %", 1), "answered / calls"),
        ("ACD", _fmt(summary["acd"], " s", 1), "per answered call"),
        ("MOS", _fmt(summary.get("mos_avg")), f"min {_fmt(summary.get('mos_min'), '', 1)}"),
        (
            "Loss",
            _fmt(summary.get("loss_avg"), " %", 2),
            f"max {_fmt(summary.get('loss_max'), ' %', 1)}",
        ),
        (
            "Jitter",
            _fmt(summary.get("jitter_avg"), " ms", 1),
            f"max {_fmt(summary.get('jitter_max'), ' ms', 1)}",
        ),
    ]


def nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least ``raw`` (whole calls): axis
    steps and maxima of every call chart (this PNG, the GUI's SVG charts)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= raw:
                return step * factor
        step *= 10


def _bars(
    draw, top: int, title: str, labels: Sequence[str], calls: Sequence[int], answered: Sequence[int]
) -> int:
    """A bar chart of calls (light) with answered calls (dark) inside; returns its bottom."""
    height = 220
    draw.text((MARGIN, top), title, fill=INK, font=_font(18, True))
    legend_x = WIDTH - MARGIN
    for text, color in (("answered", ACCENT), ("calls", (190, 212, 238))):
        w = draw.textlength(text, font=_font(13))
        legend_x -= w
        draw.text((legend_x, top + 4), text, fill=MUTED, font=_font(13))
        legend_x -= 18
        draw.rectangle([legend_x, top + 6, legend_x + 12, top + 18], fill=color)
        legend_x -= 16
    chart_top, chart_bottom = top + 36, top + 36 + height
    left, right = MARGIN + 50, WIDTH - MARGIN
    step = nice_step(max([*calls, 1]) / 4)
    peak = step * max(1, -(-max([*calls, 1]) // step))
    ticks = int(peak // step)
    for i in range(ticks + 1):
        y = chart_bottom - (chart_bottom - chart_top) * i / ticks
        draw.line([left, y, right, y], fill=RULE)
        draw.text((left - 8, y), f"{step * i:,}", fill=MUTED, font=_font(12), anchor="rm")
    n = max(1, len(calls))
    slot = (right - left) / n
    bar = max(1.0, min(slot * 0.7, 56))
    every = max(1, int(n / ((right - left) / 44)) + (1 if n * 44 > right - left else 0))
    for i, (all_calls, ok) in enumerate(zip(calls, answered, strict=True)):
        x = left + slot * i + (slot - bar) / 2
        scale = (chart_bottom - chart_top) / peak
        if all_calls:
            draw.rectangle(
                [x, chart_bottom - all_calls * scale, x + bar, chart_bottom], fill=(190, 212, 238)
            )
        if ok:
            draw.rectangle([x, chart_bottom - ok * scale, x + bar, chart_bottom], fill=ACCENT)
        if i % every == 0:
            draw.text(
                (x + bar / 2, chart_bottom + 6), labels[i], fill=MUTED, font=_font(12), anchor="mt"
            )
    draw.line([left, chart_bottom, right, chart_bottom], fill=MUTED)
    return chart_bottom + 30


def _table(draw, x: int, top: int, width: int, title: str, header: Sequence[str], rows) -> int:
    """A small table: first column left-aligned, the rest right-aligned; returns its bottom."""
    draw.text((x, top), title, fill=INK, font=_font(18, True))
    y = top + 32
    columns = len(header)
    first = width - 86 * (columns - 1)
    edges = [x + first + 86 * i for i in range(columns)]
    font, bold = _font(14), _font(14, True)
    for i, text in enumerate(header):
        if i == 0:
            draw.text((x, y), text, fill=MUTED, font=bold)
        else:
            draw.text((edges[i], y), text, fill=MUTED, font=bold, anchor="ra")
    y += 24
    draw.line([x, y - 4, x + width, y - 4], fill=RULE)
    if not rows:
        draw.text((x, y), "no calls", fill=MUTED, font=font)
        y += 22
    for row in rows:
        for i, text in enumerate(row):
            if i == 0:
                draw.text((x, y), _fit(draw, str(text), font, first - 12), fill=INK, font=font)
            else:
                draw.text((edges[i], y), str(text), fill=INK, font=font, anchor="ra")
        y += 22
    return y + 18


def _table_specs(data: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    specs = []
    if "sip_responses" in data:
        rows = [
            [r["text"] or str(r["code"]), _fmt(r["calls"]), _fmt(r["percent"], " %", 1)]
            for r in data["sip_responses"]
        ]
        specs.append(("Top last SIP responses", ["response", "calls", "share"], rows))
    for key, title in (("top_callers", "Top callers"), ("top_called", "Top called numbers")):
        if key in data:
            rows = [
                [
                    r["number"] or "(empty)",
                    _fmt(r["calls"]),
                    _fmt(r["asr"], " %", 1),
                    _fmt(r["acd"], " s", 0),
                ]
                for r in data[key]
            ]
            specs.append((title, ["number", "calls", "ASR", "ACD"], rows))
    if "sensors" in data:
        rows = [
            [
                r["name"]
                or (f"sensor {r['id_sensor']}" if r["id_sensor"] is not None else "no sensor"),
                _fmt(r["calls"]),
                _fmt(r["asr"], " %", 1),
                _fmt(r.get("mos_avg")),
            ]
            for r in data["sensors"]
        ]
        specs.append(("Per sensor", ["sensor", "calls", "ASR", "MOS"], rows))
    return specs


def render_png(data: dict, *, title: str, period: str, brand: str, subtitle: str = "") -> bytes:
    """The report ``data`` (``service.summarize``'s answer) as a PNG.

    ``title``: the report's name; ``period``: the period as the face prints it; ``brand``: the
    product name in the header and footer (settings.BRAND_NAME).
    """
    from PIL import Image, ImageDraw

    specs = _table_specs(data)
    table_heights = [90 + 22 * max(1, len(rows)) for _, _, rows in specs]
    pairs = [max(table_heights[i : i + 2]) for i in range(0, len(table_heights), 2)]
    charts = sum(
        1 for key in ("hours", "days") if key in data and (key != "days" or len(data["days"]) > 1)
    )
    height = 120 + 130 + charts * 300 + sum(pairs) + 70
    img = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    # Header: brand, report name, period.
    draw.rectangle([0, 0, WIDTH, 110], fill=HEADER)
    draw.text((MARGIN, 18), brand.upper(), fill=(170, 196, 230), font=_font(15, True))
    draw.text(
        (MARGIN, 40), _fit(draw, title, _font(30, True), WIDTH - 2 * MARGIN), fill=HEADER_TEXT,
        font=_font(30, True),
    )  # fmt: skip
    draw.text(
        (MARGIN, 80),
        _fit(draw, period, _font(16), WIDTH - 2 * MARGIN),
        fill=HEADER_TEXT,
        font=_font(16),
    )
    y = 130
    if subtitle:
        draw.text(
            (MARGIN, y - 14),
            _fit(draw, subtitle, _font(13), WIDTH - 2 * MARGIN),
            fill=MUTED,
            font=_font(13),
        )
        y += 8

    # Summary tiles.
    tiles = _tiles(data["summary"])
    gap = 12
    tile_w = (WIDTH - 2 * MARGIN - gap * (len(tiles) - 1)) / len(tiles)
    for i, (label, value, small) in enumerate(tiles):
        x = MARGIN + i * (tile_w + gap)
        draw.rounded_rectangle([x, y, x + tile_w, y + 100], radius=8, fill=TILE)
        draw.text((x + 12, y + 10), label, fill=MUTED, font=_font(14, True))
        draw.text(
            (x + 12, y + 32),
            _fit(draw, value, _font(26, True), tile_w - 20),
            fill=INK,
            font=_font(26, True),
        )
        draw.text(
            (x + 12, y + 72), _fit(draw, small, _font(12), tile_w - 20), fill=MUTED, font=_font(12)
        )
    y += 130

    if "hours" in data:
        hours = data["hours"]
        y = _bars(
            draw, y, "Calls per hour of day", [f"{h['hour']:02d}" for h in hours],
            [h["calls"] for h in hours], [h["answered"] for h in hours],
        )  # fmt: skip
    if "days" in data and len(data["days"]) > 1:
        days = data["days"]
        y = _bars(
            draw, y, "Calls per day", [d["date"][5:] for d in days],
            [d["calls"] for d in days], [d["answered"] for d in days],
        )  # fmt: skip

    # Tables, two per row.
    col_w = (WIDTH - 2 * MARGIN - 40) // 2
    for i in range(0, len(specs), 2):
        bottoms = []
        for j, (name, header, rows) in enumerate(specs[i : i + 2]):
            bottoms.append(_table(draw, MARGIN + j * (col_w + 40), y, col_w, name, header, rows))
        y = max(bottoms)

    footer = y + 10
    draw.line([MARGIN, footer, WIDTH - MARGIN, footer], fill=RULE)
    draw.text((MARGIN, footer + 12), f"{brand} · call report", fill=MUTED, font=_font(13))
    img = img.crop((0, 0, WIDTH, min(height, footer + 40)))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def report_png(name: str, period: Period, data: dict) -> bytes:
    """A report's PNG as every face sends it: titled with its name, the period in the
    sniffer's zone, branded with ``VMGUI_BRAND_NAME``."""
    from django.conf import settings

    return render_png(data, title=name, period=period_text(period), brand=settings.BRAND_NAME)


def png_filename(name: str, period: Period) -> str:
    return f"{file_stem(name, period)}.png"
