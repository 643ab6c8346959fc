"""A call's SIP history as plain text: every message in full, ticket-friendly."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.conf import settings

from cdr.media.service import CallMedia
from cdr.siphistory.extract import CallFlow


def clock(ts_us: int) -> str:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` in the sniffer's zone (VMGUI_TIME_ZONE)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    when = dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def text_dump(flow: CallFlow, calls: Sequence[CallMedia]) -> str:
    """Every message in full (one header line per message), then RTP streams and DTMF."""
    start = flow.start_us or 0
    call_ids = ", ".join(dict.fromkeys(c.call_id for c in calls))
    lines = [
        f"SIP history of CDR {', '.join(str(c.cdr_id) for c in calls)} (Call-ID {call_ids})",
        f"{len(flow.messages)} SIP messages; times in {settings.TIME_ZONE}",
    ]
    lines += [f"note: {n}" for n in flow.notes]
    lines.append("")
    for msg in flow.messages:
        flags = ""
        if msg.retransmission:
            flags += " retransmission"
        if msg.truncated:
            flags += " truncated"
        lines.append(
            f"===== [{msg.index + 1}] {clock(msg.ts_us)} (+{(msg.ts_us - start) / 1e6:.6f} s) "
            f"{msg.transport} {msg.src_endpoint} -> {msg.dst_endpoint} ({msg.size} bytes){flags}"
        )
        lines.append(msg.text.rstrip("\n"))
        lines.append("")
    if flow.streams:
        lines.append("===== RTP streams")
        for s in flow.streams:
            lost = "" if s.lost is None else f", {s.lost} lost"
            lines.append(
                f"{s.src}:{s.sport} -> {s.dst}:{s.dport} {s.codec}: {s.packets} packets{lost}"
                f" ({s.source})"
            )
        lines.append("")
    if flow.dtmf:
        lines.append("===== DTMF")
        for d in flow.dtmf:
            lines.append(f"{clock(d.ts_us)} {d.digit} ({d.kind}) {d.src} -> {d.dst}")
        lines.append("")
    return "\n".join(lines)
