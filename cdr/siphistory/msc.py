"""Message sequence chart (ladder diagram) of a call's SIP history, as SVG and PNG.

``build(flow)`` lays the chart out once as plain shapes (lines, rectangles, polygons, texts,
grouped per lifeline / arrow / band); ``to_svg`` and ``to_png`` render that same layout, so
the PNG for tickets shows exactly what the browser shows.

* One **lifeline per host**, in order of first appearance (the caller first). A host is an
  IP address; when an address talks to itself on other ports (both ends on ``::1``), its
  lifelines are split per ``ip:port``. A media address nobody sent SIP from gets its own
  lifeline.
* One **arrow per SIP message**, in time order, labelled with the method or the status
  (``200 OK (BYE)``, ``(SDP)`` when it carries one); the relative time since the first
  event is written on the left of its row. Retransmissions are dashed and grey.
* **RTP**: a band between the two media endpoints from the first to the last packet, with
  the codec and packet counts of each direction; the media address is mapped to the SIP
  host that announced it in its SDP. **DTMF** events are dotted arrows on their own rows.

The SVG keeps every label as ``<text>`` (selectable, searchable, crisp at any zoom), each
element group carries ``class`` and ``data-*`` attributes, and every string from a capture
is XML-escaped. The PNG is drawn with Pillow (its built-in FreeType font; no system fonts).
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from cdr.siphistory.extract import CallFlow, DtmfEvent, RtpStream, SipMessage, endpoint

__all__ = ["Diagram", "build", "to_png", "to_svg"]

ROW: Final = 30  # height of one message row
COL: Final = 230  # distance between lifelines
LEFT: Final = 130  # the time column
TOP: Final = 78  # host boxes
BOTTOM: Final = 30
HOST_W: Final = 206
FONT: Final = 12
SMALL: Final = 10
MAX_ROWS: Final = 2000  # rows drawn at most (a note says how many were left out)
MAX_HOSTS: Final = 40
CHAR_W: Final = 6.6  # average width of a 12 px sans-serif character, for truncating labels

INK: Final = "#1f2328"
GREY: Final = "#8c959f"
LIFELINE: Final = "#afb8c1"
BAND: Final = "#2da44e"
DTMF_INK: Final = "#bc4c00"
_STATUS_INK: Final = {
    1: "#57606a",
    2: "#1a7f37",
    3: "#8250df",
    4: "#cf222e",
    5: "#cf222e",
    6: "#cf222e",
}
REQUEST_INK: Final = "#0550ae"


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str = INK
    width: float = 1.0
    dash: tuple[int, int] | None = None


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    opacity: float = 1.0
    stroke: str | None = None
    radius: float = 0.0


@dataclass
class Polygon:
    points: list[tuple[float, float]]
    color: str


@dataclass
class Text:
    x: float
    y: float  # baseline
    text: str
    size: int = FONT
    anchor: str = "start"  # start / middle / end
    color: str = INK
    bold: bool = False
    cls: str = ""


Shape = Line | Rect | Polygon | Text


@dataclass
class Group:
    cls: str
    shapes: list[Shape] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)
    title: str = ""


@dataclass
class Host:
    key: str  # "10.0.0.1" or "[::1]:5060"
    x: float
    user_agent: str = ""
    media_only: bool = False


@dataclass
class Diagram:
    width: int
    height: int
    hosts: list[Host]
    groups: list[Group]
    title: str = ""


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def _host_keys(messages: Sequence[SipMessage]) -> tuple[list[str], set[str]]:
    """Lifeline keys in order of appearance and the IPs split per port."""
    split = {m.src for m in messages if m.src == m.dst}
    order: list[str] = []
    for m in messages:
        for ip, port in ((m.src, m.sport), (m.dst, m.dport)):
            key = endpoint(ip, port) if ip in split else ip
            if key not in order:
                order.append(key)
    return order, split


def _key(ip: str, port: int | None, split: set[str]) -> str:
    return endpoint(ip, port or 0) if ip in split else ip


def _media_owners(messages: Sequence[SipMessage], split: set[str]) -> dict[tuple[str, int], str]:
    """Media address (ip, port) → the lifeline of the host that announced it in an SDP."""
    owners: dict[tuple[str, int], str] = {}
    for m in messages:
        if not m.has_sdp or m.retransmission:
            continue
        ip = ""
        for line in m.body.splitlines():
            line = line.strip()
            if line.startswith("c=") and len(line.split()) >= 3:
                ip = line.split()[2].split("/")[0]
            elif line.startswith("m=audio") or line.startswith("m=video"):
                parts = line.split()
                if len(parts) > 1 and parts[1].isdigit() and ip:
                    owners.setdefault((ip, int(parts[1])), _key(m.src, m.sport, split))
    return owners


def _fit(text: str, width: float, size: int = FONT) -> str:
    limit = max(4, int(width / (CHAR_W * size / FONT)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ink(msg: SipMessage) -> str:
    if msg.retransmission:
        return GREY
    if msg.is_request:
        return REQUEST_INK
    return _STATUS_INK.get((msg.status or 0) // 100, INK)


def _clock(ts_us: int, zone: zoneinfo.ZoneInfo) -> str:
    when = dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def _arrow(
    x1: float, x2: float, y: float, color: str, dash: tuple[int, int] | None, width: float = 1.4
) -> list[Shape]:
    """A horizontal arrow from x1 to x2 at y, head at x2."""
    direction = 1 if x2 >= x1 else -1
    tip = x2 - direction * 1
    head = [(tip, y), (tip - direction * 9, y - 4.5), (tip - direction * 9, y + 4.5)]
    return [Line(x1, y, tip - direction * 8, y, color, width, dash), Polygon(head, color)]


@dataclass
class _Band:
    a: str
    b: str
    streams: list[RtpStream]
    first_us: int
    last_us: int


def build(
    flow: CallFlow, *, time_zone: str = "UTC", title: str = "", max_rows: int = MAX_ROWS
) -> Diagram:
    """Lay out the chart of ``flow`` (times printed in ``time_zone``)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    messages = flow.messages
    keys, split = _host_keys(messages)
    owners = _media_owners(messages, split)

    def media_host(ip: str, port: int) -> str:
        if (ip, port) in owners:
            return owners[(ip, port)]
        if ip in keys:
            return ip
        same = [k for k in keys if k.startswith(f"[{ip}]:") or k.startswith(f"{ip}:")]
        return same[0] if same else ip

    # RTP bands: streams grouped by the unordered pair of lifelines they connect
    bands: dict[tuple[str, str], _Band] = {}
    start_us = flow.start_us or 0
    end_us = max([m.ts_us for m in messages] or [start_us])
    for s in flow.streams:
        a, b = media_host(s.src, s.sport), media_host(s.dst, s.dport)
        for k in (a, b):
            if k not in keys:
                keys.append(k)
        pair = (a, b) if keys.index(a) <= keys.index(b) else (b, a)
        first = s.first_us if s.first_us is not None else end_us
        last = s.last_us if s.last_us is not None else max(first, end_us)
        band = bands.get(pair)
        if band is None:
            bands[pair] = _Band(pair[0], pair[1], [s], first, last)
        else:
            band.streams.append(s)
            band.first_us = min(band.first_us, first)
            band.last_us = max(band.last_us, last)
    dtmf_hosts = [
        (d, media_host(d.src, d.sport or 0), media_host(d.dst, d.dport or 0)) for d in flow.dtmf
    ]
    for _, a, b in dtmf_hosts:
        for k in (a, b):
            if k not in keys:
                keys.append(k)
    keys = keys[:MAX_HOSTS]
    sip_keys = set(_host_keys(messages)[0])

    # rows in time order: (time, order within equal times, kind, object)
    rows: list[tuple[int, int, str, object]] = []
    for m in messages:
        rows.append((m.ts_us, 1, "msg", m))
    for band in bands.values():
        rows.append((band.first_us, 0, "band", band))
        rows.append((band.last_us, 2, "band-end", band))
    for d, a, b in dtmf_hosts:
        rows.append((d.ts_us, 1, "dtmf", (d, a, b)))
    rows.sort(key=lambda r: (r[0], r[1]))
    dropped = 0
    if len(rows) > max_rows:
        dropped = len(rows) - max_rows
        rows = rows[:max_rows]

    x_of = {k: LEFT + COL / 2 + i * COL for i, k in enumerate(keys)}
    width = int(LEFT + COL * max(1, len(keys)) + 10)
    heights = {"msg": ROW, "dtmf": ROW, "band": ROW, "band-end": 10}
    y = TOP + 16
    row_y: list[float] = []
    for r in rows:
        row_y.append(y)
        y += heights[r[2]]
    if dropped:
        y += ROW
    height = int(y + BOTTOM)

    groups: list[Group] = []
    uas: dict[str, str] = {}
    for m in messages:
        key = _key(m.src, m.sport, split)
        if key not in uas and m.user_agent:
            uas[key] = m.user_agent

    hosts = []
    for k in keys:
        x = x_of[k]
        host = Host(k, x, uas.get(k, ""), media_only=k not in sip_keys)
        hosts.append(host)
        g = Group(
            "host", data={"host": k}, title=k + (f" — {host.user_agent}" if host.user_agent else "")
        )
        g.shapes.append(Rect(x - HOST_W / 2, 12, HOST_W, 46, "#f6f8fa", 1.0, "#d0d7de", 6))
        g.shapes.append(Text(x, 32, _fit(k, HOST_W - 10), FONT, "middle", INK, True, "host-name"))
        sub = host.user_agent or ("media" if host.media_only else "")
        if sub:
            g.shapes.append(
                Text(x, 49, _fit(sub, HOST_W - 10, SMALL), SMALL, "middle", GREY, False, "host-ua")
            )
        g.shapes.append(Line(x, 58, x, height - BOTTOM + 10, LIFELINE, 1.0, (4, 3)))
        groups.append(g)

    band_tops: dict[int, float] = {}
    for r, top in zip(rows, row_y, strict=True):
        if r[2] == "band":
            band_tops[id(r[3])] = top
    for r, top in zip(rows, row_y, strict=True):
        if r[2] != "band-end":
            continue
        band = r[3]
        assert isinstance(band, _Band)
        if band.a not in x_of or band.b not in x_of:
            continue
        y0 = band_tops.get(id(band), top)
        x1, x2 = sorted((x_of[band.a], x_of[band.b]))
        if x1 == x2:
            x1, x2 = x1 - 20, x2 + 20
        g = Group(
            "rtp",
            data={"a": band.a, "b": band.b, "packets": str(sum(s.packets for s in band.streams))},
            title="\n".join(_stream_line(s) for s in band.streams),
        )
        g.shapes.append(Rect(x1, y0 + 3, x2 - x1, top + 6 - y0, BAND, 0.12, BAND))
        codecs = ", ".join(dict.fromkeys(s.codec or "RTP" for s in band.streams))
        g.shapes.append(
            Text(
                (x1 + x2) / 2,
                y0 + 15,
                _fit(f"RTP {codecs}", x2 - x1 - 8),
                FONT,
                "middle",
                BAND,
                True,
                "rtp-label",
            )
        )
        counts = " · ".join(
            f"{'→' if x_of.get(media_host(s.src, s.sport), 0) <= x_of.get(media_host(s.dst, s.dport), 0) else '←'} {s.packets} pkts"
            + (f" ({s.lost} lost)" if s.lost else "")
            for s in band.streams
        )
        g.shapes.append(
            Text(
                (x1 + x2) / 2,
                y0 + 27,
                _fit(counts, x2 - x1 - 8, SMALL),
                SMALL,
                "middle",
                BAND,
                False,
                "rtp-counts",
            )
        )
        groups.insert(len(hosts), g)  # behind the arrows

    for n, (r, top) in enumerate(zip(rows, row_y, strict=True)):
        kind, obj = r[2], r[3]
        mid = top + ROW - 9
        if kind == "msg":
            assert isinstance(obj, SipMessage)
            a, b = _key(obj.src, obj.sport, split), _key(obj.dst, obj.dport, split)
            if a not in x_of or b not in x_of:
                continue
            color = _ink(obj)
            dash = (6, 4) if obj.retransmission else None
            label = obj.label + (" [retransmission]" if obj.retransmission else "")
            g = Group(
                "arrow",
                data={
                    "index": str(obj.index),
                    "src": a,
                    "dst": b,
                    "label": obj.label,
                    "row": str(n),
                },
                title=f"{_clock(obj.ts_us, zone)}  {obj.src_endpoint} → {obj.dst_endpoint} ({obj.transport}, {obj.size} bytes)\n{obj.brief}",
            )
            rel = (obj.ts_us - start_us) / 1e6
            g.shapes.append(
                Text(LEFT - 12, mid + 4, f"+{rel:.3f} s", SMALL, "end", GREY, False, "time")
            )
            x1, x2 = x_of[a], x_of[b]
            if x1 == x2:  # to itself: a small loop
                g.shapes += [
                    Line(x1, mid - 6, x1 + 30, mid - 6, color),
                    Line(x1 + 30, mid - 6, x1 + 30, mid + 4, color),
                ]
                g.shapes += _arrow(x1 + 30, x1, mid + 4, color, dash)
                g.shapes.append(
                    Text(x1 + 36, mid, _fit(label, COL - 40), FONT, "start", color, False, "label")
                )
            else:
                g.shapes += _arrow(x1, x2, mid, color, dash, 1.0 if obj.retransmission else 1.4)
                g.shapes.append(
                    Text(
                        (x1 + x2) / 2,
                        mid - 5,
                        _fit(label, abs(x2 - x1) - 12),
                        FONT,
                        "middle",
                        color,
                        not obj.retransmission,
                        "label",
                    )
                )
            groups.append(g)
        elif kind == "dtmf":
            d, a, b = obj  # type: ignore[misc]
            assert isinstance(d, DtmfEvent)
            if a not in x_of or b not in x_of:
                continue
            label = f"DTMF {d.digit} ({d.kind}" + (
                f", {d.duration_ms} ms)" if d.duration_ms else ")"
            )
            g = Group(
                "dtmf",
                data={"digit": d.digit, "src": a, "dst": b},
                title=f"{_clock(d.ts_us, zone)}  {label}",
            )
            rel = (d.ts_us - start_us) / 1e6
            g.shapes.append(
                Text(LEFT - 12, mid + 4, f"+{rel:.3f} s", SMALL, "end", GREY, False, "time")
            )
            x1, x2 = x_of[a], x_of[b]
            if x1 == x2:
                x2 = x1 + 40
            g.shapes += _arrow(x1, x2, mid, DTMF_INK, (2, 3), 1.4)
            g.shapes.append(
                Text(
                    (x1 + x2) / 2,
                    mid - 5,
                    _fit(label, max(abs(x2 - x1) - 12, 120)),
                    FONT,
                    "middle",
                    DTMF_INK,
                    True,
                    "label",
                )
            )
            groups.append(g)
    if dropped:
        g = Group("note")
        g.shapes.append(
            Text(
                LEFT,
                row_y[-1] + 2 * ROW - 8 if row_y else TOP + ROW,
                f"… {dropped} more rows not drawn (the text export has every message)",
                FONT,
                "start",
                GREY,
            )
        )
        groups.append(g)
    return Diagram(width, height, hosts, groups, title)


def _stream_line(s: RtpStream) -> str:
    lost = f", {s.lost} lost" if s.lost is not None else ""
    ssrc = f" SSRC 0x{s.ssrc:08X}" if s.ssrc is not None else ""
    return f"{endpoint(s.src, s.sport)} → {endpoint(s.dst, s.dport)} {s.codec}{ssrc}: {s.packets} packets{lost} ({s.source})"


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------

_ANCHOR: Final = {"start": "start", "middle": "middle", "end": "end"}


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _svg_shape(s: Shape) -> str:
    if isinstance(s, Line):
        dash = f' stroke-dasharray="{s.dash[0]} {s.dash[1]}"' if s.dash else ""
        return f'<line x1="{_num(s.x1)}" y1="{_num(s.y1)}" x2="{_num(s.x2)}" y2="{_num(s.y2)}" stroke="{s.color}" stroke-width="{_num(s.width)}"{dash}/>'
    if isinstance(s, Rect):
        stroke = (
            f' stroke="{s.stroke}" stroke-opacity="{min(1.0, s.opacity * 4):.2f}"'
            if s.stroke
            else ""
        )
        radius = f' rx="{_num(s.radius)}"' if s.radius else ""
        opacity = f' fill-opacity="{s.opacity:.2f}"' if s.opacity < 1 else ""
        return f'<rect x="{_num(s.x)}" y="{_num(s.y)}" width="{_num(s.w)}" height="{_num(s.h)}" fill="{s.fill}"{opacity}{stroke}{radius}/>'
    if isinstance(s, Polygon):
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in s.points)
        return f'<polygon points="{pts}" fill="{s.color}"/>'
    weight = ' font-weight="bold"' if s.bold else ""
    cls = f" class={quoteattr(s.cls)}" if s.cls else ""
    return (
        f'<text x="{_num(s.x)}" y="{_num(s.y)}" font-size="{s.size}" text-anchor="{_ANCHOR[s.anchor]}" '
        f'fill="{s.color}"{weight}{cls}>{escape(s.text)}</text>'
    )


def to_svg(diagram: Diagram) -> str:
    """The chart as a standalone SVG document (UTF-8 text)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{diagram.width}" height="{diagram.height}" '
        f'viewBox="0 0 {diagram.width} {diagram.height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
        'class="msc" role="img">',
        f"<title>{escape(diagram.title or 'SIP call flow')}</title>",
        f'<rect x="0" y="0" width="{diagram.width}" height="{diagram.height}" fill="#ffffff"/>',
    ]
    for g in diagram.groups:
        attrs = "".join(f" data-{k}={quoteattr(v)}" for k, v in g.data.items())
        out.append(f'<g class="{g.cls}"{attrs}>')
        if g.title:
            out.append(f"<title>{escape(g.title)}</title>")
        out.extend(_svg_shape(s) for s in g.shapes)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# PNG (Pillow)
# ---------------------------------------------------------------------------

MAX_PNG_PIXELS: Final = 16_000_000  # about 48 MB of RGB while drawing
# glyphs Pillow's built-in font lacks
_PNG_TEXT: Final = str.maketrans({"→": "->", "←": "<-", "—": "-", "–": "-"})


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _blend(color: str, opacity: float) -> tuple[int, int, int]:
    r, g, b = _rgb(color)
    return tuple(round(255 + (c - 255) * opacity) for c in (r, g, b))  # type: ignore[return-value]


def to_png(diagram: Diagram, scale: float = 1.0) -> bytes:
    """The chart as a PNG (``scale`` 1 = the SVG's pixel size; reduced for huge charts)."""
    from PIL import Image, ImageDraw, ImageFont

    while scale > 0.25 and diagram.width * diagram.height * scale * scale > MAX_PNG_PIXELS:
        scale /= 2
    w, h = max(1, round(diagram.width * scale)), max(1, round(diagram.height * scale))
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    fonts: dict[tuple[int, bool], ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(size: int, bold: bool):
        key = (size, bold)
        if key not in fonts:
            fonts[key] = ImageFont.load_default(size=max(6, round(size * scale)))
        return fonts[key]

    def p(v: float) -> float:
        return v * scale

    for g in diagram.groups:
        for s in g.shapes:
            if isinstance(s, Rect):
                box = [p(s.x), p(s.y), p(s.x + s.w), p(s.y + s.h)]
                fill = _blend(s.fill, s.opacity)
                outline = _blend(s.stroke, min(1.0, s.opacity * 4)) if s.stroke else None
                if s.radius:
                    draw.rounded_rectangle(box, radius=p(s.radius), fill=fill, outline=outline)
                else:
                    draw.rectangle(box, fill=fill, outline=outline)
            elif isinstance(s, Line):
                width = max(1, round(s.width * scale))
                if s.dash:
                    _dashed(draw, s, scale, width)
                else:
                    draw.line([p(s.x1), p(s.y1), p(s.x2), p(s.y2)], fill=_rgb(s.color), width=width)
            elif isinstance(s, Polygon):
                draw.polygon([(p(x), p(y)) for x, y in s.points], fill=_rgb(s.color))
            else:
                anchor = {"start": "ls", "middle": "ms", "end": "rs"}[s.anchor]
                f = font(s.size, s.bold)
                text = s.text.translate(_PNG_TEXT)
                draw.text((p(s.x), p(s.y)), text, fill=_rgb(s.color), font=f, anchor=anchor)
                if s.bold:  # the built-in font has no bold face: overstrike
                    draw.text(
                        (p(s.x) + max(1, scale) * 0.6, p(s.y)),
                        text,
                        fill=_rgb(s.color),
                        font=f,
                        anchor=anchor,
                    )
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def _dashed(draw, s: Line, scale: float, width: int) -> None:
    on, off = s.dash or (4, 4)
    length = ((s.x2 - s.x1) ** 2 + (s.y2 - s.y1) ** 2) ** 0.5
    if length == 0:
        return
    dx, dy = (s.x2 - s.x1) / length, (s.y2 - s.y1) / length
    pos = 0.0
    while pos < length:
        end = min(length, pos + on)
        draw.line(
            [
                (s.x1 + dx * pos) * scale,
                (s.y1 + dy * pos) * scale,
                (s.x1 + dx * end) * scale,
                (s.y1 + dy * end) * scale,
            ],
            fill=_rgb(s.color),
            width=width,
        )
        pos = end + off
