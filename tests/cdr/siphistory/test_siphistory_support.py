"""Shared helpers of the SIP history tests (this module has no tests of its own).

* ``SIP_DIR`` holds the real SIPp captures (tests/fixtures/sip/README.md) and ``EXPECTED``
  lists, per capture, the messages it holds in order: (source, destination, label).
* ``frames`` / ``pcap_bytes`` read and write classic pcaps (dpkt), to re-wrap real frames.
* ``spool_capture`` files a capture into a spool like the sniffer (SIP packets in
  ``SIP/<Call-ID>.pcap``, RTP in ``RTP/<Call-ID>.pcap``) and inserts its CDR row.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from pathlib import Path

import dpkt
from django.conf import settings

from cdr.media.spool import sanitize_name
from cdr.siphistory.extract import CallFlow, parse_pcap
from tests.conftest import FIXTURES_ROOT
from tests.factories import make_call

SIP_DIR = FIXTURES_ROOT / "sip"
SIPP_UAC_PCAP = FIXTURES_ROOT / "sipp_uac_pcap.pcap"

A71, A72 = "127.0.0.71", "127.0.0.72"
A73, A74 = "127.0.0.73", "127.0.0.74"
A75, A76 = "127.0.0.75", "127.0.0.76"
A77, A78 = "127.0.0.77", "127.0.0.78"
A79, A80 = "127.0.0.79", "127.0.0.80"
CALLER, RELAY, CALLEE = "127.0.0.81:5070", "127.0.0.82", "127.0.0.83:5060"
V6A, V6B = "[::1]:5062", "[::1]:5060"


def _fork(a: str, b: str) -> list[tuple[str, str, str]]:
    return [
        (a, b, "INVITE (SDP)"),
        (b, a, "100 Trying"),
        (b, a, "180 Ringing"),
        (b, a, "180 Ringing (SDP)"),
        (b, a, "200 OK (SDP)"),
        (a, b, "ACK"),
        (a, b, "BYE"),
        (b, a, "200 OK (BYE)"),
    ]


#: capture → [(source, destination, label)] in order; sources/destinations are IPs, or
#: ip:port where the test compares endpoints (TCP relay, IPv6 on one address).
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "udp_retrans": [
        (A71, A72, "INVITE (SDP)"),
        (A71, A72, "INVITE (SDP)"),
        (A72, A71, "100 Trying"),
        (A72, A71, "180 Ringing"),
        (A72, A71, "200 OK (SDP)"),
        (A72, A71, "200 OK (SDP)"),
        (A71, A72, "ACK"),
        (A71, A72, "BYE"),
        (A72, A71, "200 OK (BYE)"),
    ],
    "udp_fork": _fork(A73, A74),
    "udp_reinvite": [
        (A75, A76, "INVITE (SDP)"),
        (A76, A75, "100 Trying"),
        (A76, A75, "180 Ringing"),
        (A76, A75, "200 OK (SDP)"),
        (A75, A76, "ACK"),
        (A75, A76, "INVITE (SDP)"),
        (A76, A75, "200 OK (SDP)"),
        (A75, A76, "ACK"),
        (A76, A75, "BYE"),
        (A75, A76, "200 OK (BYE)"),
    ],
    "sll2_cancel": [
        (A77, A78, "INVITE (SDP)"),
        (A78, A77, "100 Trying"),
        (A78, A77, "180 Ringing"),
        (A77, A78, "CANCEL"),
        (A78, A77, "200 OK (CANCEL)"),
        (A78, A77, "487 Request Terminated"),
        (A77, A78, "ACK"),
    ],
    "sll_reject": [
        (A79, A80, "INVITE (SDP)"),
        (A80, A79, "407 Proxy Authentication Required"),
        (A79, A80, "ACK"),
        (A79, A80, "INVITE (SDP)"),
        (A80, A79, "100 Trying"),
        (A80, A79, "486 Busy Here"),
        (A79, A80, "ACK"),
    ],
    # TCP through the relay: the relay's own port towards the callee is ephemeral ("*")
    "tcp_split": [
        (CALLER, f"{RELAY}:5060", "INVITE (SDP)"),
        (f"{RELAY}:*", CALLEE, "INVITE (SDP)"),
        (CALLEE, f"{RELAY}:*", "100 Trying"),
        (CALLEE, f"{RELAY}:*", "180 Ringing"),
        (f"{RELAY}:5060", CALLER, "100 Trying"),
        (f"{RELAY}:5060", CALLER, "180 Ringing"),
        (CALLEE, f"{RELAY}:*", "200 OK (SDP)"),
        (f"{RELAY}:5060", CALLER, "200 OK (SDP)"),
        (CALLER, f"{RELAY}:5060", "ACK"),
        (f"{RELAY}:*", CALLEE, "ACK"),
        (CALLER, f"{RELAY}:5060", "BYE"),
        (f"{RELAY}:*", CALLEE, "BYE"),
        (CALLEE, f"{RELAY}:*", "200 OK (BYE)"),
        (f"{RELAY}:5060", CALLER, "200 OK (BYE)"),
    ],
    "ipv6_fork": _fork(V6A, V6B),
}
CALL_IDS = {
    "udp_retrans": "retrans-1@sipfixture.test",
    "udp_fork": "fork-1@sipfixture.test",
    "udp_reinvite": "reinvite-1@sipfixture.test",
    "sll2_cancel": "cancel-1@sipfixture.test",
    "sll_reject": "reject-1@sipfixture.test",
    "tcp_split": "tcp-1@sipfixture.test",
    "ipv6_fork": "fork6-1@sipfixture.test",
}


def capture(name: str) -> Path:
    return SIP_DIR / f"{name}.pcap"


def frames(path: Path) -> tuple[int, list[tuple[float, bytes]]]:
    """(link type, [(time, frame)]) of a classic pcap."""
    with path.open("rb") as fh:
        reader = dpkt.pcap.Reader(fh)
        return reader.datalink(), [(ts, bytes(buf)) for ts, buf in reader]


def pcap_bytes(packets: list[tuple[float, bytes]], linktype: int = 1) -> bytes:
    """A classic pcap (µs) of ``packets``."""
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=65535, linktype=linktype)
    for ts, buf in packets:
        writer.writepkt(buf, ts=ts)
    return out.getvalue()


def parse_bytes(data: bytes) -> CallFlow:
    return parse_pcap(io.BytesIO(data), "test pcap")


def parse_capture(name: str) -> CallFlow:
    with capture(name).open("rb") as fh:
        return parse_pcap(fh, name)


def ladder(flow: CallFlow, *, ports: bool = False) -> list[tuple[str, str, str]]:
    """(source, destination, label) of every message."""
    if ports:
        return [(m.src_endpoint, m.dst_endpoint, m.label) for m in flow.messages]
    return [(m.src, m.dst, m.label) for m in flow.messages]


def matches(actual: list[tuple[str, str, str]], expected: list[tuple[str, str, str]]) -> bool:
    """Equal, ``host:*`` matching any port."""
    if len(actual) != len(expected):
        return False
    for got, want in zip(actual, expected, strict=True):
        for g, w in zip(got, want, strict=True):
            if w.endswith(":*") and g.rsplit(":", 1)[0] == w[:-2]:
                continue
            if g != w:
                return False
    return True


def _is_sip(buf: bytes, linktype: int) -> bool:
    """SIP (and fragments, TCP) vs RTP for splitting a capture like the sniffer does."""
    from cdr.media.pcap import udp_of

    l4 = udp_of(buf, linktype)
    if l4 is None:
        return True  # TCP, IP fragments
    return 5060 in (l4[1], l4[3]) or 5062 in (l4[1], l4[3])


def wall_clock(ts: float) -> dt.datetime:
    """The sniffer's naive wall-clock time (VMGUI_TIME_ZONE) of a capture time."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(zone).replace(tzinfo=None)


def spool_capture(
    spool: Path,
    name: str | Path,
    call_id: str | None = None,
    *,
    rtp_file: bool = True,
    **cdr_fields,
) -> int:
    """File a capture into ``spool`` as the sniffer would and insert its CDR; its ``cdr.ID``."""
    path = capture(name) if isinstance(name, str) else name
    linktype, packets = frames(path)
    call_id = call_id or CALL_IDS[str(name)]
    start = wall_clock(packets[0][0])
    minute = spool / start.strftime("%Y-%m-%d") / start.strftime("%H") / start.strftime("%M")
    sip = [(ts, buf) for ts, buf in packets if _is_sip(buf, linktype)]
    rtp = [(ts, buf) for ts, buf in packets if not _is_sip(buf, linktype)]
    base = sanitize_name(call_id)
    (minute / "SIP").mkdir(parents=True, exist_ok=True)
    (minute / "SIP" / f"{base}.pcap").write_bytes(pcap_bytes(sip, linktype))
    if rtp and rtp_file:
        (minute / "RTP").mkdir(parents=True, exist_ok=True)
        (minute / "RTP" / f"{base}.pcap").write_bytes(pcap_bytes(rtp, linktype))
    duration = round(packets[-1][0] - packets[0][0], 3)
    # cdr.flags as the sniffer sets them: "flags valid", SIP pcap saved (+ RTP pcap and payload)
    flags = (1 << 23) | (1 << 24) | ((1 << 25) | (1 << 26) if rtp and rtp_file else 0)
    fields = dict(
        call_id=call_id, duration=max(duration, 0.001), connect_duration=None, flags=flags
    )
    fields.update(cdr_fields)
    cdr = make_call(start.isoformat(sep=" ", timespec="milliseconds"), **fields)
    return cdr.ID
