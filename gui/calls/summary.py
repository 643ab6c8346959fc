"""What the call detail page shows, as plain data: the summary, both sides' quality, the RTP
streams, DTMF, the other legs, the SIP history with its ladder, and which media exist.

Everything is read through services with the user's scope (``cdr.query.detail.call_detail``,
``cdr.media.service``, ``cdr.siphistory``); a call outside the scope is ``None`` here, exactly
like one that does not exist. Nothing is decoded for the page itself: audio and graphs are
separate requests (``gui.calls.views``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from django.utils.safestring import SafeString, mark_safe

from accounts.permissions import Effective
from cdr.codecnumbers import codec_name
from cdr.media import service as media
from cdr.media.spool import MediaError, MediaMissing
from cdr.query.customheaders import header_names
from cdr.query.detail import WHO_HANGED, call_detail, end_reason
from cdr.query.engine import CdrFilter, fetch_rows
from cdr.query.rows import number, scaled
from cdr.query.scope import CdrScope, header_visible
from cdr.siphistory import msc
from cdr.siphistory.extract import CallFlow, call_flow

# The ladder draws at most this many rows and the page lists at most this many messages
# (a broken capture can hold thousands; the text download has every one).
MSC_ROWS: Final = 1000
MAX_LISTED: Final = 1000
# Largest id a sniffer's bigint unsigned ID holds that every database accepts as a parameter.
MAX_CDR_ID: Final = (1 << 63) - 1


def visible_headers(scope: CdrScope) -> list[str]:
    """The custom headers this scope may read (every one when it is not restricted)."""
    return [h for h in header_names() if header_visible(scope, h)]


def _mos(value) -> float | None:
    """A ``*_mos_*_mult10`` column as MOS; 0 means "not measured" (written only if > 0)."""
    return scaled(value, 10) if value else None


def side_quality(row: dict, side: str) -> dict[str, Any]:
    """One direction's quality ("a": sent by the caller, "b": by the called party)."""
    mos = {k: _mos(row.get(f"{side}_mos_{k}_mult10")) for k in ("f1", "f2", "adapt")}
    measured = [v for v in mos.values() if v is not None]
    payload = row.get(f"{side}_payload")
    loss = row.get(f"{side}_packet_loss_perc_mult1000")
    return {
        "side": side,
        "label": "Caller → called" if side == "a" else "Called → caller",
        "codec": codec_name(payload) if payload is not None and payload >= 0 else None,
        # a_received is the packets captured (the sniffer's counter + the 2 it skips)
        "received": row.get(f"{side}_received"),
        "lost": row.get(f"{side}_lost"),
        "loss_pct": scaled(loss, 1000),
        "jitter_avg_ms": scaled(row.get(f"{side}_avgjitter_mult10"), 10),
        "jitter_max_ms": row.get(f"{side}_maxjitter"),
        # the sniffer's own pick (mos_min: by default the f2 average), else the worst measured
        "mos": _mos(row.get(f"{side}_mos_min_mult10")) or (min(measured) if measured else None),
        "mos_f1": mos["f1"],
        "mos_f2": mos["f2"],
        "mos_adapt": mos["adapt"],
        "ua": row.get(f"{side}_ua"),
    }


def _percent(lost: int | None, total: int) -> float | int | None:
    """Loss as a percentage of the packets expected (two decimals; whole numbers as int)."""
    if not total:
        return None
    value = round(100 * (lost or 0) / total, 2)
    return int(value) if value == int(value) else value


def _stream_rows(row: dict, sides: list[dict]) -> list[dict]:
    """``cdr_rtp`` streams with loss % and, for the streams the sniffer chose as a/b, their MOS
    (cdr_rtp has none of its own; a_index/b_index are 0-based, cdr_rtp.index 1-based)."""
    out = []
    chosen = {row.get("a_index"): sides[0], row.get("b_index"): sides[1]}
    chosen.pop(None, None)
    for s in row.get("rtp", []):
        received, lost = s["received"], s["lost"]
        total = (received or 0) + (lost or 0)
        side = chosen.get(s["index"] - 1) if s["index"] is not None else None
        out.append(
            {
                **s,
                "max_jitter_ms": _plain(s["max_jitter_ms"]),
                "start_s": _plain(s["start_s"]),
                "duration_s": _plain(s["duration_s"]),
                "loss_pct": _percent(lost, total),
                "mos": side["mos"] if side else None,
                "direction": side["label"] if side else "",
            }
        )
    return out


def _flow_stream_rows(flow: CallFlow) -> list[dict]:
    """Streams read from the RTP pcap, for a call whose database has no cdr_rtp rows."""
    out = []
    for s in flow.streams:
        total = s.packets + (s.lost or 0)
        out.append(
            {
                "index": None,
                "src": s.src,
                "src_port": s.sport,
                "dst": s.dst,
                "dst_port": s.dport,
                "ssrc": s.ssrc,
                "codec": s.codec,
                "received": s.packets,
                "lost": s.lost,
                "loss_pct": _percent(s.lost, total),
                "start_s": None,
                "duration_s": None
                if s.first_us is None or s.last_us is None
                else round((s.last_us - s.first_us) / 1e6, 3),
                "max_jitter_ms": None,
                "mos": None,
                "direction": "",
            }
        )
    return out


def _plain(value):
    """9.0 → 9 (numbers read as people write them)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _time(ts_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC)


@dataclass
class History:
    """The SIP history part of the page."""

    svg: SafeString | None = None
    messages: list[dict] = field(default_factory=list)
    total: int = 0
    notes: list[str] = field(default_factory=list)
    missing: str = ""  # why there is no SIP history (no SIP pcap, damaged file)
    flow: CallFlow | None = None


def history(call: media.CallMedia, *, full: bool, time_zone: str) -> History:
    """Messages (whole ones with ``full``, start lines otherwise) and the ladder."""
    try:
        flow = call_flow([call])
    except MediaMissing as exc:
        return History(missing=exc.reason)
    except MediaError as exc:
        return History(missing=f"the SIP history cannot be read: {exc.reason}")
    start = flow.start_us or 0
    diagram = msc.build(
        flow, time_zone=time_zone, title=f"SIP call flow of CDR {call.cdr_id}", max_rows=MSC_ROWS
    )
    listed = []
    for m in flow.messages[:MAX_LISTED]:
        listed.append(
            {
                "index": m.index,
                "time": _time(m.ts_us),
                "rel": (m.ts_us - start) / 1e6,
                "src": m.src_endpoint,
                "dst": m.dst_endpoint,
                "transport": m.transport,
                "size": m.size,
                "label": m.label,
                "first_line": m.first_line,
                "status": m.status,
                "retransmission": m.retransmission,
                "text": m.text if full else "",
            }
        )
    # every text in the SVG was XML-escaped by cdr.siphistory.msc
    return History(
        svg=mark_safe(msc.to_svg(diagram)),  # noqa: S308
        messages=listed,
        total=len(flow.messages),
        notes=list(flow.notes),
        flow=flow,
    )


def _legs(ids: list[int], scope: CdrScope) -> list[dict]:
    if not ids:
        return []
    rows = fetch_rows(CdrFilter(cdr_ids=ids), scope, order=("calldate",), limit=len(ids))
    return [
        {
            "id": r["ID"],
            "calldate": r.get("calldate"),
            "caller": r.get("caller"),
            "called": r.get("called"),
            "code": r.get("lastSIPresponseNum"),
            "response": r.get("lastSIPresponse"),
            "duration": r.get("duration"),
        }
        for r in rows
    ]


def _dtmf(row: dict, flow: CallFlow | None) -> tuple[list[dict], str]:
    """DTMF from the database (cdr_dtmf), else from the capture (RFC 2833 / SIP INFO)."""
    if row.get("dtmf"):
        return row["dtmf"], "database (cdr_dtmf)"
    if flow is None or not flow.dtmf:
        return [], ""
    start = flow.start_us or 0
    events = [
        {
            "time_s": round((d.ts_us - start) / 1e6, 3),
            "digit": d.digit,
            "kind": d.kind,
            "src": d.src,
            "dst": d.dst,
        }
        for d in flow.dtmf
    ]
    return events, "capture"


def page_data(cdr_id: int, granted: Effective, time_zone: str) -> dict[str, Any] | None:
    """Everything the call page shows, or None when the user may not see the call."""
    if not 1 <= cdr_id <= MAX_CDR_ID:
        return None
    scope = granted.scope
    row = call_detail(cdr_id, scope, visible_headers(scope))
    if row is None:
        return None
    (call,) = media.find_calls([cdr_id], scope)
    available = media.media_available(call)
    sip = history(call, full=granted.has("can_pcap"), time_zone=time_zone)
    sides = [side_quality(row, "a"), side_quality(row, "b")]
    streams = _stream_rows(row, sides)
    streams_source = "database (cdr_rtp)"
    if not streams and sip.flow is not None and sip.flow.streams:
        streams, streams_source = _flow_stream_rows(sip.flow), "capture (RTP pcap)"
    dtmf, dtmf_source = _dtmf(row, sip.flow)
    who = row.get("whohanged")
    return {
        "row": row,
        "call_id": row.get("fbasename") or call.call_id,
        "duration": number(row.get("duration")),
        "connect_duration": number(row.get("connect_duration")),
        "codecs": [c for c in (sides[0]["codec"], sides[1]["codec"]) if c],
        "sides": sides,
        "end_reason": end_reason(row.get("bye")),
        "hung_up_by": WHO_HANGED.get(str(who)) if who not in (None, "") else None,
        "streams": streams,
        "streams_source": streams_source,
        "dtmf": dtmf,
        "dtmf_source": dtmf_source,
        "legs": _legs(row.get("legs", []), scope),
        "custom_headers": [
            (name, value) for name, value in (row.get("custom_headers") or {}).items() if value
        ],
        "history": sip,
        "available": available,
    }
