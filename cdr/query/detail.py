"""One call in full: its CDR row plus its RTP streams, proxies and DTMF, and its other legs.

Plain data for the faces that show a call (REST ``/cdrs/{id}/``, the GUI's call detail). The
CDR is found through the query engine with the caller's scope, so a call outside the scope is
"not found", exactly like one that does not exist. Child rows are read with the call's
``calldate`` when the table has it (partition pruning) and only with the columns this
database really has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cdr import schema
from cdr.codecnumbers import codec_name
from cdr.models import CdrDtmf, CdrProxy, CdrRtp
from cdr.query.engine import CdrFilter, fetch_rows
from cdr.query.scope import CdrScope

DTMF_TYPES = {0: "SIP INFO", 1: "inband", 2: "RFC 2833"}
# cdr.bye: how the call ended (sniffer schema §2.4).
END_REASONS = {
    0: "never answered (no 200 OK to the INVITE)",
    1: "answered, no BYE seen",
    2: "BYE without a 200 OK",
    3: "BYE confirmed by 200 OK",
    100: "pcap drop",
    101: "one-way call",
    102: "absolute timeout",
    103: "BYE timeout",
    104: "RTP timeout",
    105: "one-way timeout",
    106: "BYE with no 2xx and no 18x",
    107: "zombie timeout",
    108: "SIP without RTP timeout",
    109: "too many SIP/INVITE packets",
    110: "force-terminated",
}
WHO_HANGED = {
    "caller": "the caller",
    "callee": "the called party",
    "1": "the caller",
    "2": "the called party",
}
# Legs of one call share its Call-ID; they are looked for this far around its start.
LEG_WINDOW = dt.timedelta(hours=12)
MAX_LEGS = 50


def _child_rows(model, cdr_id: int, calldate, columns: Sequence[str], order: str) -> list[dict]:
    table = model._meta.db_table
    info = schema.table_info(table)
    if info is None:
        return []
    wanted = [c for c in columns if info.has(c)]
    qs = model.objects.filter(cdr_id=cdr_id)
    if calldate is not None and info.has("calldate"):
        qs = qs.filter(calldate=calldate)
    if info.has(order):
        qs = qs.order_by(order)
    return list(qs.values(*wanted))


def _seconds(value) -> float | None:
    return None if value is None else float(value)


def rtp_streams(cdr_id: int, calldate) -> list[dict]:
    """The call's ``cdr_rtp`` rows, with codec names and jitter in ms."""
    columns = [
        "index", "saddr", "sport", "daddr", "dport", "ssrc", "payload", "received", "loss",
        "firsttime", "duration", "maxjitter_mult10",
    ]  # fmt: skip
    out = []
    for row in _child_rows(CdrRtp, cdr_id, calldate, columns, "index"):
        out.append(
            {
                "index": row.get("index"),
                "src": row.get("saddr"),
                "src_port": row.get("sport"),
                "dst": row.get("daddr"),
                "dst_port": row.get("dport"),
                "ssrc": row.get("ssrc"),
                "payload": row.get("payload"),
                "codec": codec_name(row.get("payload")) if row.get("payload") is not None else None,
                "received": row.get("received"),
                "lost": row.get("loss"),
                "start_s": _seconds(row.get("firsttime")),
                "duration_s": _seconds(row.get("duration")),
                "max_jitter_ms": None
                if row.get("maxjitter_mult10") is None
                else row["maxjitter_mult10"] / 10,
            }
        )
    return out


def proxies(cdr_id: int, calldate) -> list[str]:
    return [r["dst"] for r in _child_rows(CdrProxy, cdr_id, calldate, ["dst"], "dst")]


def dtmf(cdr_id: int, calldate) -> list[dict]:
    rows = _child_rows(
        CdrDtmf, cdr_id, calldate, ["firsttime", "dtmf", "type", "saddr", "daddr"], "firsttime"
    )
    return [
        {
            "time_s": _seconds(r.get("firsttime")),
            "digit": r.get("dtmf"),
            "kind": DTMF_TYPES.get(r.get("type"), str(r.get("type"))),
            "src": r.get("saddr"),
            "dst": r.get("daddr"),
        }
        for r in rows
    ]


def end_reason(bye) -> str | None:
    """Text of a ``cdr.bye`` code (None when NULL; unknown codes are named by number)."""
    if bye is None:
        return None
    return END_REASONS.get(int(bye), f"end code {int(bye)}")


def legs(row: dict, scope: CdrScope) -> list[int]:
    """Ids of the other CDRs (legs) with the same Call-ID around this call that the caller may see."""
    call_id = row.get("fbasename")
    calldate = row.get("calldate")
    if not call_id or calldate is None:
        return []
    f = CdrFilter(
        call_ids=[call_id], date_from=calldate - LEG_WINDOW, date_to=calldate + LEG_WINDOW
    )
    others = fetch_rows(f, scope, order=("calldate",), limit=MAX_LEGS + 1)
    return [r["ID"] for r in others if r["ID"] != row["ID"]][:MAX_LEGS]


def call_detail(cdr_id: int, scope: CdrScope, custom_headers: Sequence[str] = ()) -> dict | None:
    """The call (engine row + ``rtp``, ``proxies``, ``dtmf``, ``legs``), or None when the
    caller may not see it or it does not exist."""
    rows = fetch_rows(CdrFilter(cdr_ids=[cdr_id]), scope, limit=1, custom_headers=custom_headers)
    if not rows:
        return None
    row = dict(rows[0])
    calldate = row.get("calldate")
    row["rtp"] = rtp_streams(cdr_id, calldate)
    row["proxies"] = proxies(cdr_id, calldate)
    row["dtmf"] = dtmf(cdr_id, calldate)
    row["legs"] = legs(row, scope)
    return row
