"""SIP history of a call: every SIP message of its SIP pcap, its RTP streams and DTMF events.

Plain data in, plain data out (no HTTP): ``/php/pcap2text.php`` (api.legacy.pcap2text) turns
a ``CallFlow`` into JSON, an HTML table, a plain-text dump or a ladder diagram (cdr.siphistory.msc).

Packets (the spool's pcaps, read as streams by ``cdr.media.pcap.PcapReader``):

* link layers: Ethernet (with 802.1Q / 802.1ad VLAN tags and MPLS labels), Linux cooked
  capture v1 (SLL) and v2 (SLL2), raw IP, BSD loopback;
* IPv4 and IPv6 headers decoded with dpkt; **IP fragments reassembled** (IPv4 and the IPv6
  fragment header), bounded (``MAX_PENDING_DATAGRAMS`` open datagrams of at most 64 KiB);
* UDP: one SIP message per datagram (several when Content-Length says so);
* TCP: one byte stream per direction, **segments reassembled** by sequence number
  (retransmitted and overlapping segments trimmed, out-of-order segments held until the gap
  fills, a gap that never fills skipped), then cut into messages by ``Content-Length``: a
  segment may carry several messages, a message may span several segments. A message's time
  is that of the packet that completed it (as Wireshark shows reassembled PDUs).
* SIP is recognised by its start line, not by port. Encrypted SIP (TLS) and SIP over
  WebSocket are not decoded.

RTP: from the call's RTP pcap (or RTP packets inside the SIP pcap when the sniffer ran with
``pcapsplit=no``): one stream per (source, destination, SSRC) with packet count, sequence
loss, codec (through the call's SDP ``a=rtpmap``, else the static payload types) and RFC 2833
/ 4733 telephone events; without an RTP pcap, from the sniffer's ``cdr_rtp`` rows (and
``cdr_dtmf`` when it wrote them). DTMF sent as SIP INFO is read from the messages.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import struct
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Final

import dpkt

from cdr import schema
from cdr.media.codecs import codec_name
from cdr.media.pcap import PcapReader, network_layer, udp_of
from cdr.media.service import CallMedia, pcap_files
from cdr.media.spool import KIND_RTP, MediaError, MediaMissing, SpoolFile, SpoolLayout, locate
from cdr.models import CdrDtmf, CdrRtp
from cdr.query.rows import rows_of_calls

__all__ = [
    "CallFlow",
    "DtmfEvent",
    "KEY_HEADERS",
    "RtpStream",
    "SipExtractor",
    "SipMessage",
    "call_flow",
    "ip_text",
    "parse_pcap",
    "message_spans",
    "split_messages",
]

#: Headers that ``SipMessage.brief`` shows after the start line (canonical lower-case names).
KEY_HEADERS: Final = (
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "content-type",
    "reason",
    "user-agent",
    "server",
)
#: Most messages one history holds (a call's SIP pcap has dozens; this bounds a broken one).
MAX_MESSAGES: Final = 20000
#: Largest SIP message accepted (the sniffer's snaplen is 10000; TCP bodies may be larger).
MAX_MESSAGE_BYTES: Final = 1 << 20
#: IP datagrams waiting for their missing fragments (oldest dropped beyond this).
MAX_PENDING_DATAGRAMS: Final = 256
#: Out-of-order TCP segments held per direction before the gap is given up.
MAX_PENDING_SEGMENTS: Final = 64
MAX_RTP_STREAMS: Final = 512
MAX_DTMF_PER_STREAM: Final = 1000

# RFC 3261 §7.3.3 compact header forms (and later RFCs').
_COMPACT: Final = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}
_TOKEN: Final = rb"[A-Za-z][A-Za-z0-9.!%*_+`'~-]*"
# A message starts with a request line or a status line.
_START: Final = re.compile(rb"(?:" + _TOKEN + rb" +\S+ +SIP/2\.0|SIP/2\.0 +\d{3}[^\r\n]*)\r?\n")
_START_ANYWHERE: Final = re.compile(
    rb"(?m)^(?:" + _TOKEN + rb" +\S+ +SIP/2\.0|SIP/2\.0 +\d{3}[^\r\n]*)\r?\n"
)
_CONTENT_LENGTH: Final = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)")
_REQUEST: Final = re.compile(r"^(\S+)\s+(\S+)\s+SIP/2\.0$")
_STATUS: Final = re.compile(r"^SIP/2\.0\s+(\d{3})\s*(.*)$")
_TAG: Final = re.compile(r";\s*tag\s*=\s*([^;,\s]+)", re.I)
_BRANCH: Final = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.I)
# C0 controls other than TAB, LF, CR (and DEL) become "." in texts shown to people.
_CONTROLS: Final = {c: "." for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}

_STATIC_PT: Final = {
    0: "PCMU",
    3: "GSM",
    4: "G723",
    5: "DVI4",
    6: "DVI4",
    7: "LPC",
    8: "PCMA",
    9: "G722",
    10: "L16",
    11: "L16",
    12: "QCELP",
    13: "CN",
    14: "MPA",
    15: "G728",
    16: "DVI4",
    17: "DVI4",
    18: "G729",
}
_DTMF_DIGITS: Final = "0123456789*#ABCD"


def ip_text(raw: bytes) -> str:
    """Dotted IPv4 or compressed IPv6 text of 4 or 16 address bytes."""
    return str(ipaddress.ip_address(raw))


def endpoint(ip: str, port: int) -> str:
    """``ip:port`` (``[v6]:port`` for IPv6)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _printable(text: str) -> str:
    return text.translate(_CONTROLS)


def canonical(name: str) -> str:
    """Lower-case header name with compact forms expanded (``i`` → ``call-id``)."""
    low = name.strip().lower()
    return _COMPACT.get(low, low)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass
class SipMessage:
    """One SIP message as captured."""

    ts_us: int
    src: str
    sport: int
    dst: str
    dport: int
    transport: str  # "UDP" or "TCP"
    first_line: str
    headers: list[tuple[str, str]]  # (name as written, value), folded lines joined
    body: str
    size: int  # bytes on the wire (start line to the end of the body)
    frames: int = 1  # packets it arrived in (fragments, segments)
    retransmission: bool = False
    truncated: bool = False  # the capture ended (or was cut) before the whole body
    cdr_id: int | None = None  # the leg (CDR) whose pcap held it
    vlan: int | None = None
    index: int = 0  # position in the history (0-based), set by the history

    # -- start line ---------------------------------------------------------

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        """The request's method, or the method a response answers (from CSeq)."""
        if self.is_request:
            m = _REQUEST.match(self.first_line)
            return m.group(1) if m else self.first_line.split(" ", 1)[0]
        return self.cseq_method

    @property
    def request_uri(self) -> str:
        m = _REQUEST.match(self.first_line)
        return m.group(2) if m and self.is_request else ""

    @property
    def status(self) -> int | None:
        m = _STATUS.match(self.first_line)
        return int(m.group(1)) if m else None

    @property
    def reason_phrase(self) -> str:
        m = _STATUS.match(self.first_line)
        return m.group(2).strip() if m else ""

    # -- headers ------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """The first value of a header (compact forms and case ignored)."""
        want = canonical(name)
        for key, value in self.headers:
            if canonical(key) == want:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        want = canonical(name)
        return [value for key, value in self.headers if canonical(key) == want]

    @property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @property
    def cseq(self) -> str:
        return self.header("cseq") or ""

    @property
    def cseq_number(self) -> int | None:
        head = self.cseq.split(None, 1)[0] if self.cseq.strip() else ""
        return int(head) if head.isdigit() else None

    @property
    def cseq_method(self) -> str:
        parts = self.cseq.split()
        return parts[1] if len(parts) > 1 else ""

    @property
    def from_(self) -> str:
        return self.header("from") or ""

    @property
    def to(self) -> str:
        return self.header("to") or ""

    @property
    def from_tag(self) -> str:
        return _tag_of(self.from_)

    @property
    def to_tag(self) -> str:
        return _tag_of(self.to)

    @property
    def branch(self) -> str:
        via = self.header("via") or ""
        m = _BRANCH.search(via)
        return m.group(1) if m else ""

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    @property
    def has_sdp(self) -> bool:
        ctype = self.content_type.lower()
        return "application/sdp" in ctype or (bool(self.body) and "\nm=" in self.body)

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or self.header("server") or ""

    # -- views ----------------------------------------------------------------

    @property
    def label(self) -> str:
        """Short label: ``INVITE``, ``180 Ringing``, ``200 OK (BYE)``, with ``(SDP)``."""
        if self.is_request:
            text = self.method
        else:
            text = self.first_line[len("SIP/2.0 ") :].strip()
            if self.cseq_method and self.cseq_method != "INVITE":
                text += f" ({self.cseq_method})"
        if self.has_sdp:
            text += " (SDP)"
        return text

    def header_lines(self, only: Iterable[str] | None = None) -> list[str]:
        wanted = None if only is None else set(only)
        return [
            f"{name}: {value}"
            for name, value in self.headers
            if wanted is None or canonical(name) in wanted
        ]

    @property
    def brief(self) -> str:
        """The start line and the key headers (``KEY_HEADERS``), one per line."""
        return _printable("\n".join([self.first_line, *self.header_lines(KEY_HEADERS)]))

    @property
    def text(self) -> str:
        """The whole message (start line, every header, body), lines ending in LF."""
        lines = [self.first_line, *self.header_lines(), ""]
        body = self.body.replace("\r\n", "\n")
        return _printable("\n".join(lines) + "\n" + body)

    @property
    def src_endpoint(self) -> str:
        return endpoint(self.src, self.sport)

    @property
    def dst_endpoint(self) -> str:
        return endpoint(self.dst, self.dport)


def _tag_of(value: str) -> str:
    # the tag is a header parameter: look after the URI's closing '>' when there is one
    tail = value[value.rfind(">") + 1 :] if ">" in value else value
    m = _TAG.search(tail)
    return m.group(1) if m else ""


@dataclass
class RtpStream:
    """One RTP stream (one direction, one SSRC)."""

    src: str
    sport: int
    dst: str
    dport: int
    ssrc: int | None
    codec: str
    packets: int
    lost: int | None
    first_us: int | None
    last_us: int | None
    payload_type: int | None = None
    source: str = "pcap"  # "pcap" or "cdr_rtp"
    cdr_id: int | None = None

    @property
    def label(self) -> str:
        lost = f", {self.lost} lost" if self.lost else ""
        return f"{self.codec or 'RTP'} {self.packets} pkts{lost}"


@dataclass
class DtmfEvent:
    """One DTMF key press."""

    ts_us: int
    digit: str
    src: str
    dst: str
    kind: str  # "RFC 2833", "SIP INFO", "inband"
    sport: int | None = None
    dport: int | None = None
    duration_ms: int | None = None


@dataclass
class CallFlow:
    """A call's SIP messages (time order), RTP streams and DTMF events."""

    messages: list[SipMessage]
    streams: list[RtpStream] = field(default_factory=list)
    dtmf: list[DtmfEvent] = field(default_factory=list)
    cdr_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def start_us(self) -> int | None:
        times = [m.ts_us for m in self.messages]
        times += [s.first_us for s in self.streams if s.first_us is not None]
        times += [d.ts_us for d in self.dtmf]
        return min(times) if times else None


# ---------------------------------------------------------------------------
# Cutting byte streams into SIP messages
# ---------------------------------------------------------------------------


def _skip_crlf(data: bytes | bytearray, pos: int) -> int:
    n = len(data)
    while pos < n and data[pos] in (0x0D, 0x0A):
        pos += 1
    return pos


def _header_end(data: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(end of the header block, start of the body) from ``pos``, or None."""
    end = data.find(b"\r\n\r\n", pos)
    if end >= 0:
        bare = data.find(b"\n\n", pos, end)
        return (bare, bare + 2) if bare >= 0 else (end, end + 4)
    end = data.find(b"\n\n", pos)
    return (end, end + 2) if end >= 0 else None


def message_spans(
    data: bytes | bytearray, *, stream: bool
) -> tuple[list[tuple[int, int, bool]], int]:
    """Where the SIP messages in ``data`` are: ``([(start, end, truncated)], consumed)``.

    ``stream`` (TCP): a message needs its whole header block and ``Content-Length`` body
    bytes (0 when absent); anything incomplete is left for more data, and bytes that are not
    SIP are skipped up to the next start line. Datagram (UDP): the body is ``Content-Length``
    bytes (the rest of the datagram without one; ``truncated`` when fewer bytes came), and a
    datagram that does not start like SIP gives nothing.
    """
    out: list[tuple[int, int, bool]] = []
    pos = 0
    n = len(data)
    while True:
        pos = _skip_crlf(data, pos)
        if pos >= n:
            return out, n
        if not _START.match(data, pos):
            if not stream:
                return out, n
            m = _START_ANYWHERE.search(data, pos)
            if m is None:
                return out, max(pos, n - 256)  # a start line may be beginning in the tail
            pos = m.start()
            continue
        ends = _header_end(data, pos)
        if ends is None:
            if stream and n - pos <= MAX_MESSAGE_BYTES:
                return out, pos
            out.append((pos, n, True))
            return out, n
        head_end, body_start = ends
        m = _CONTENT_LENGTH.search(data, pos, head_end)
        if m is None:
            length = 0 if stream else n - body_start
        else:
            length = min(int(m.group(1)), MAX_MESSAGE_BYTES)
        end = body_start + length
        if end > n:
            if stream:
                return out, pos
            out.append((pos, n, True))
            return out, n
        out.append((pos, end, False))
        pos = end


def split_messages(
    data: bytes | bytearray, *, stream: bool
) -> tuple[list[tuple[bytes, bool]], int]:
    """The complete SIP messages in ``data`` as ``([(bytes, truncated)], consumed)``
    (see ``message_spans``)."""
    spans, used = message_spans(data, stream=stream)
    return [(bytes(data[a:b]), cut) for a, b, cut in spans], used


def parse_message(raw: bytes) -> tuple[str, list[tuple[str, str]], str] | None:
    """(start line, headers, body text) of one message's bytes."""
    ends = _header_end(raw, 0)
    if ends is None:
        head, body = raw, b""
    else:
        head, body = raw[: ends[0]], raw[ends[1] :]
    lines = re.split(r"\r?\n", head.decode("utf-8", "replace"))
    first = lines[0].strip()
    if not first:
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation (RFC 3261 §7.3.1)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return first, headers, body.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Packets → transport payloads
# ---------------------------------------------------------------------------


@dataclass
class _Datagram:
    parts: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None
    frames: int = 0


class _Reassembler:
    """IPv4 / IPv6 fragment reassembly with a bounded number of open datagrams."""

    def __init__(self) -> None:
        self.open: OrderedDict[tuple, _Datagram] = OrderedDict()

    def add(self, key: tuple, offset: int, more: bool, data: bytes) -> tuple[bytes, int] | None:
        """Add one fragment; (whole payload, fragment count) once complete."""
        dgram = self.open.get(key)
        if dgram is None:
            dgram = self.open[key] = _Datagram()
            while len(self.open) > MAX_PENDING_DATAGRAMS:
                self.open.popitem(last=False)
        dgram.frames += 1
        if offset + len(data) > 65535 + 40:
            del self.open[key]
            return None
        dgram.parts.setdefault(offset, data)
        if not more:
            dgram.total = offset + len(data)
        if dgram.total is None:
            return None
        covered = 0
        for start in sorted(dgram.parts):
            if start > covered:
                return None
            covered = max(covered, start + len(dgram.parts[start]))
        if covered < dgram.total:
            return None
        whole = bytearray(dgram.total)
        for start in sorted(dgram.parts, reverse=True):  # earlier fragments win overlaps
            piece = dgram.parts[start][: dgram.total - start]
            whole[start : start + len(piece)] = piece
        del self.open[key]
        return bytes(whole), dgram.frames


_L4 = tuple[int, bytes, bytes, bytes, int]  # (protocol, src, dst, transport bytes, frames)


def _ip_payload(ethertype: int, buf: bytes, frags: _Reassembler) -> _L4 | None:
    """The transport-layer bytes of an IPv4/IPv6 packet, reassembling fragments."""
    if ethertype == 0x0800:
        ip = dpkt.ip.IP(buf)
        start = ip.hl * 4
        end = ip.len if ip.len else len(buf)  # 0: TCP segmentation offload
        payload = buf[start:end]
        src, dst, proto = ip.src, ip.dst, ip.p
        if ip.mf or ip.offset:
            done = frags.add((4, src, dst, ip.id, proto), ip.offset * 8, bool(ip.mf), payload)
            if done is None:
                return None
            return proto, src, dst, done[0], done[1]
        return proto, src, dst, payload, 1
    if ethertype == 0x86DD:
        ip6 = dpkt.ip6.IP6(buf)
        start = 40 + sum(h.length for h in ip6.all_extension_headers)
        end = 40 + ip6.plen if ip6.plen else len(buf)
        payload = buf[start:end]
        src, dst, proto = ip6.src, ip6.dst, ip6.p
        frag = next(
            (h for h in ip6.all_extension_headers if h.__class__.__name__ == "IP6FragmentHeader"),
            None,
        )
        if frag is not None and (frag.m_flag or frag.frag_off):
            done = frags.add(
                (6, src, dst, frag.id, proto), frag.frag_off * 8, bool(frag.m_flag), payload
            )
            if done is None:
                return None
            return proto, src, dst, done[0], done[1]
        return proto, src, dst, payload, 1
    return None


# ---------------------------------------------------------------------------
# TCP streams
# ---------------------------------------------------------------------------

_SEQ_MOD: Final = 1 << 32


def _seq_delta(a: int, b: int) -> int:
    """a - b in sequence space (signed 32-bit)."""
    return (a - b + (1 << 31)) % _SEQ_MOD - (1 << 31)


@dataclass
class _TcpFlow:
    """One direction of a TCP connection: the bytes not yet cut into messages.

    ``marks`` remembers, for every chunk appended to ``buf``, where it ends and when its
    packet arrived: a message's time is the arrival of the last of its bytes, and its
    ``frames`` is the number of chunks it spans.
    """

    next_seq: int | None = None
    buf: bytearray = field(default_factory=bytearray)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (end in buf, time)
    pending: dict[int, tuple[bytes, int]] = field(default_factory=dict)  # seq → (data, time)
    last_ts: int = 0

    def _append(self, data: bytes, ts: int) -> None:
        assert self.next_seq is not None
        self.buf += data
        self.marks.append((len(self.buf), ts))
        self.next_seq = (self.next_seq + len(data)) % _SEQ_MOD

    def segment(self, seq: int, data: bytes, ts: int) -> None:
        """Add one segment's payload at ``seq`` (reordered, trimmed, deduplicated)."""
        if self.next_seq is None:
            self.next_seq = seq
        delta = _seq_delta(seq, self.next_seq)
        if delta < 0:
            if -delta >= len(data):
                return  # a retransmission of data already taken
            data, delta = data[-delta:], 0
        if delta > 0:
            if delta > MAX_MESSAGE_BYTES:  # unrelated sequence space: start over here
                self.reset(seq)
                self._append(data, ts)
                return
            if seq not in self.pending or len(self.pending[seq][0]) < len(data):
                self.pending[seq] = (data, ts)
            if len(self.pending) > MAX_PENDING_SEGMENTS:
                self.skip_gap()
            return
        self._append(data, ts)
        self._drain()

    def _drain(self) -> None:
        progressed = True
        while progressed and self.pending:
            progressed = False
            for seq in list(self.pending):
                assert self.next_seq is not None
                delta = _seq_delta(seq, self.next_seq)
                if delta > 0:
                    continue
                data, ts = self.pending.pop(seq)
                if -delta < len(data):
                    self._append(data[-delta:] if delta else data, ts)
                progressed = True

    def reset(self, seq: int) -> None:
        self.buf.clear()
        self.marks.clear()
        self.next_seq = seq

    def skip_gap(self) -> None:
        """Give up waiting for a segment the capture lacks: continue after the gap.

        The message the gap cut is lost; cutting resumes at the next start line.
        """
        if not self.pending:
            return
        assert self.next_seq is not None
        base = self.next_seq
        first = min(self.pending, key=lambda s: _seq_delta(s, base))
        pending = self.pending
        self.pending = {}
        self.reset(first)
        self.pending = pending
        self._drain()

    def consume(self, used: int) -> None:
        del self.buf[:used]
        self.marks = [(end - used, ts) for end, ts in self.marks if end > used]

    def span_info(self, start: int, end: int) -> tuple[int, int]:
        """(arrival of the last byte, number of chunks) of ``buf[start:end]``."""
        last, chunks, begin = 0, 0, 0
        for mark_end, ts in self.marks:
            if mark_end > start and begin < end:
                last = max(last, ts)
                chunks += 1
            begin = mark_end
            if begin >= end:
                break
        return last or self.last_ts, max(1, chunks)


# ---------------------------------------------------------------------------
# RTP
# ---------------------------------------------------------------------------


@dataclass
class _RtpAcc:
    key: tuple[bytes, int, bytes, int, int]
    first_us: int
    last_us: int = 0
    packets: int = 0
    pts: Counter = field(default_factory=Counter)
    base_seq: int | None = None
    max_ext: int = 0
    events: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    cdr_id: int | None = None


class _RtpScan:
    """Streams and telephone events of RTP packets (UDP payloads)."""

    def __init__(self) -> None:
        self.streams: dict[tuple[bytes, int, bytes, int, int], _RtpAcc] = {}

    def add(
        self,
        ts: int,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        payload: bytes | memoryview,
        cdr_id: int | None = None,
    ) -> bool:
        """Count one packet if it is RTP; False when it is not."""
        if len(payload) < 12 or payload[0] >> 6 != 2:
            return False
        pt = payload[1] & 0x7F
        if 72 <= pt <= 76:  # RTCP (200-204 with the marker bit)
            return False
        seq, rtp_ts, ssrc = struct.unpack_from(">HII", payload, 2)
        key = (bytes(src), sport, bytes(dst), dport, ssrc)
        acc = self.streams.get(key)
        if acc is None:
            if len(self.streams) >= MAX_RTP_STREAMS:
                return True
            acc = self.streams[key] = _RtpAcc(key, first_us=ts, cdr_id=cdr_id)
        acc.packets += 1
        acc.last_us = ts
        if len(acc.pts) < 16 or pt in acc.pts:
            acc.pts[pt] += 1
        if acc.base_seq is None:
            acc.base_seq = acc.max_ext = seq
        else:
            # extend the 16-bit sequence number around the highest one seen
            cand = acc.max_ext + ((seq - acc.max_ext) & 0xFFFF)
            if cand - acc.max_ext >= 0x8000:
                cand -= 0x10000
            acc.max_ext = max(acc.max_ext, cand)
        if pt >= 96:  # a dynamic type: maybe telephone-event (RFC 4733), decided later
            hlen = 12 + 4 * (payload[0] & 0x0F)
            if payload[0] & 0x10 and len(payload) >= hlen + 4:
                hlen += 4 + 4 * int.from_bytes(payload[hlen + 2 : hlen + 4], "big")
            if len(payload) - hlen == 4:
                event, flags, duration = struct.unpack_from(">BBH", payload, hlen)
                ev = acc.events.get((pt, rtp_ts))
                if ev is None:
                    if len(acc.events) < MAX_DTMF_PER_STREAM:
                        acc.events[(pt, rtp_ts)] = [ts, event, duration, flags >> 7]
                else:
                    ev[2] = max(ev[2], duration)
                    ev[3] |= flags >> 7
        return True

    def result(self, rtpmap: dict[int, tuple[str, int]]) -> tuple[list[RtpStream], list[DtmfEvent]]:
        """Streams and DTMF events, payload types named through the call's SDP ``rtpmap``."""
        events_pts = {pt for pt, (name, _) in rtpmap.items() if name.lower() == "telephone-event"}
        if not events_pts:
            events_pts = {101}  # the usual choice, when no SDP tells
        streams: list[RtpStream] = []
        dtmf: list[DtmfEvent] = []
        for acc in self.streams.values():
            src, sport, dst, dport, ssrc = acc.key
            src_ip, dst_ip = ip_text(src), ip_text(dst)
            media = [
                (n, pt) for pt, n in acc.pts.most_common() if pt not in events_pts and pt != 13
            ]
            main = media[0][1] if media else (acc.pts.most_common(1)[0][0] if acc.pts else None)
            if main is None:
                codec = ""
            elif main in rtpmap:
                codec = rtpmap[main][0]
            else:
                codec = _STATIC_PT.get(main, f"PT {main}")
            if not media and main in events_pts:
                codec = "telephone-event"
            expected = acc.max_ext - (acc.base_seq or 0) + 1
            streams.append(
                RtpStream(
                    src=src_ip,
                    sport=sport,
                    dst=dst_ip,
                    dport=dport,
                    ssrc=ssrc,
                    codec=codec,
                    packets=acc.packets,
                    lost=max(0, expected - acc.packets),
                    first_us=acc.first_us,
                    last_us=acc.last_us,
                    payload_type=main,
                    cdr_id=acc.cdr_id,
                )
            )
            for (pt, _), (first, event, duration, _end) in acc.events.items():
                if pt not in events_pts:
                    continue
                clock = rtpmap.get(pt, ("", 8000))[1] or 8000
                digit = (
                    _DTMF_DIGITS[event]
                    if event < 16
                    else ("flash" if event == 16 else f"event {event}")
                )
                dtmf.append(
                    DtmfEvent(
                        ts_us=first,
                        digit=digit,
                        src=src_ip,
                        dst=dst_ip,
                        sport=sport,
                        dport=dport,
                        kind="RFC 2833",
                        duration_ms=round(duration * 1000 / clock),
                    )
                )
        streams.sort(key=lambda s: (s.first_us or 0, s.src, s.sport))
        return streams, dtmf


def _sdp_rtpmap(body: str) -> dict[int, tuple[str, int]]:
    out: dict[int, tuple[str, int]] = {}
    for m in re.finditer(r"(?m)^a=rtpmap:(\d+)\s+([^/\s]+)/(\d+)", body):
        out.setdefault(int(m.group(1)), (m.group(2), int(m.group(3))))
    return out


def _info_dtmf(msg: SipMessage) -> DtmfEvent | None:
    """DTMF carried by a SIP INFO (application/dtmf-relay or application/dtmf)."""
    if not msg.is_request or msg.method.upper() != "INFO" or msg.retransmission:
        return None
    ctype = msg.content_type.lower()
    digit = ""
    duration = None
    if "dtmf-relay" in ctype:
        m = re.search(r"(?im)^\s*signal\s*=\s*(\S+)", msg.body)
        digit = m.group(1) if m else ""
        d = re.search(r"(?im)^\s*duration\s*=\s*(\d+)", msg.body)
        duration = int(d.group(1)) if d else None
    elif "application/dtmf" in ctype:
        digit = msg.body.strip()[:5]
    if not digit:
        return None
    return DtmfEvent(
        ts_us=msg.ts_us,
        digit=digit,
        src=msg.src,
        dst=msg.dst,
        sport=msg.sport,
        dport=msg.dport,
        kind="SIP INFO",
        duration_ms=duration,
    )


# ---------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------


class SipExtractor:
    """Feed captured frames in capture order; collects SIP messages (and RTP streams).

    ``packet()`` never raises for a malformed packet: it is skipped. ``finish()`` returns the
    messages in time order (stable for equal times).
    """

    def __init__(self, *, collect_rtp: bool = True) -> None:
        self.messages: list[SipMessage] = []
        self.frags = _Reassembler()
        self.flows: dict[tuple, _TcpFlow] = {}
        self.seen: set[bytes] = set()
        self.rtp = _RtpScan() if collect_rtp else None
        self.full = False

    def packet(
        self, ts: int, frame: bytes | memoryview, linktype: int, cdr_id: int | None = None
    ) -> None:
        if self.full:
            return
        try:
            frame = bytes(frame)
            net = network_layer(frame, linktype)
            if net is None:
                return
            ethertype, off, vlan = net
            buf = frame[off:]
            l4 = _ip_payload(ethertype, buf, self.frags)
            if l4 is None:
                return
            proto, src, dst, data, frames = l4
            if proto == 17:
                self._udp(ts, src, dst, data, frames, vlan, cdr_id)
            elif proto == 6:
                self._tcp(ts, src, dst, data, vlan, cdr_id)
        except (dpkt.Error, struct.error, IndexError, ValueError):
            return  # a malformed or cut packet: skip it

    def _udp(
        self,
        ts: int,
        src: bytes,
        dst: bytes,
        data: bytes,
        frames: int,
        vlan: int | None,
        cdr_id: int | None,
    ) -> None:
        udp = dpkt.udp.UDP(data)
        ulen = udp.ulen if 8 <= udp.ulen <= len(data) else len(data)
        payload = data[8:ulen]
        if not payload:
            return
        if payload[0] >= 0x80:  # RTP/RTCP (version 2), never SIP text
            if self.rtp is not None:
                self.rtp.add(ts, src, udp.sport, dst, udp.dport, payload, cdr_id)
            return
        messages, _ = split_messages(payload, stream=False)
        for raw, truncated in messages:
            # per leg: two sensors' copies of one packet are not a retransmission
            digest = hashlib.blake2b(
                b"%d|%b|%d|%b|%d|%b" % (cdr_id or 0, src, udp.sport, dst, udp.dport, raw),
                digest_size=16,
            ).digest()
            retrans = digest in self.seen
            self.seen.add(digest)
            self._emit(
                ts,
                src,
                udp.sport,
                dst,
                udp.dport,
                "UDP",
                raw,
                frames,
                retrans,
                truncated,
                vlan,
                cdr_id,
            )

    def _tcp(
        self, ts: int, src: bytes, dst: bytes, data: bytes, vlan: int | None, cdr_id: int | None
    ) -> None:
        tcp = dpkt.tcp.TCP(data)
        key = (src, tcp.sport, dst, tcp.dport)
        flow = self.flows.get(key)
        if tcp.flags & dpkt.tcp.TH_SYN:
            self.flows[key] = _TcpFlow(next_seq=(tcp.seq + 1) % _SEQ_MOD, last_ts=ts)
            return
        payload = bytes(tcp.data)
        if flow is None:
            if not payload:
                return
            flow = self.flows[key] = _TcpFlow()
        flow.last_ts = ts
        if payload:
            flow.segment(tcp.seq, payload, ts)
            self._cut(key, flow, vlan, cdr_id)
        if tcp.flags & (dpkt.tcp.TH_FIN | dpkt.tcp.TH_RST):
            self._close(key, flow, vlan, cdr_id)

    def _cut(self, key: tuple, flow: _TcpFlow, vlan: int | None, cdr_id: int | None) -> None:
        spans, used = message_spans(flow.buf, stream=True)
        src, sport, dst, dport = key
        for start, end, truncated in spans:
            when, chunks = flow.span_info(start, end)
            raw = bytes(flow.buf[start:end])
            self._emit(
                when, src, sport, dst, dport, "TCP", raw, chunks, False, truncated, vlan, cdr_id
            )
        if used:
            flow.consume(used)

    def _close(self, key: tuple, flow: _TcpFlow, vlan: int | None, cdr_id: int | None) -> None:
        """The connection ended (or the capture did): skip gaps that will never fill, cut
        what is left; an unfinished last message is kept, marked truncated."""
        while flow.pending:
            flow.skip_gap()
            self._cut(key, flow, vlan, cdr_id)
        start = _skip_crlf(flow.buf, 0)
        if start < len(flow.buf) and _START.match(flow.buf, start):
            src, sport, dst, dport = key
            when, chunks = flow.span_info(start, len(flow.buf))
            raw = bytes(flow.buf[start:])
            self._emit(when, src, sport, dst, dport, "TCP", raw, chunks, False, True, vlan, cdr_id)
        self.flows.pop(key, None)

    def _emit(
        self,
        ts: int,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        transport: str,
        raw: bytes,
        frames: int,
        retrans: bool,
        truncated: bool,
        vlan: int | None,
        cdr_id: int | None,
    ) -> None:
        parsed = parse_message(raw)
        if parsed is None:
            return
        first, headers, body = parsed
        self.messages.append(
            SipMessage(
                ts_us=ts,
                src=ip_text(src),
                sport=sport,
                dst=ip_text(dst),
                dport=dport,
                transport=transport,
                first_line=_printable(first),
                headers=headers,
                body=body,
                size=len(raw),
                frames=frames,
                retransmission=retrans,
                truncated=truncated,
                cdr_id=cdr_id,
                vlan=vlan,
            )
        )
        if len(self.messages) >= MAX_MESSAGES:
            self.full = True

    def finish(self) -> list[SipMessage]:
        for key, flow in list(self.flows.items()):
            if flow.buf or flow.pending:
                self._close(key, flow, None, None)
        self.messages.sort(key=lambda m: m.ts_us)
        for n, msg in enumerate(self.messages):
            msg.index = n
        return self.messages

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """Payload type → (encoding, clock) over every SDP of the messages (first wins)."""
        out: dict[int, tuple[str, int]] = {}
        for msg in self.messages:
            if msg.has_sdp:
                for pt, value in _sdp_rtpmap(msg.body).items():
                    out.setdefault(pt, value)
        return out


def parse_pcap(stream, name: str = "SIP pcap", *, collect_rtp: bool = True) -> CallFlow:
    """Every SIP message (and RTP stream) of one pcap stream (tests, tools)."""
    extractor = SipExtractor(collect_rtp=collect_rtp)
    reader = PcapReader(stream, name)
    for ts, frame, _ in reader.packets():
        extractor.packet(ts, frame, reader.linktype)
    messages = extractor.finish()
    flow = CallFlow(messages)
    if extractor.rtp is not None:
        flow.streams, flow.dtmf = extractor.rtp.result(extractor.rtpmap())
    flow.dtmf = sorted(
        flow.dtmf + [d for m in messages if (d := _info_dtmf(m))], key=lambda d: d.ts_us
    )
    return flow


# ---------------------------------------------------------------------------
# A call's history from the spool (and the database)
# ---------------------------------------------------------------------------


def _file_key(f: SpoolFile) -> tuple:
    """Legs merged by the sniffer share the main call's files: read each file once."""
    return (getattr(f, "path", None), f.filename, getattr(f, "positions", ()))


def _open(f: SpoolFile) -> tuple[BinaryIO, PcapReader] | None:
    """The file's pcap reader (header read), or None when it is not in its tar after all."""
    try:
        fh = f.open()
    except (MediaMissing, FileNotFoundError):  # removed by cleanspool meanwhile
        return None
    try:
        return fh, PcapReader(fh, f.describe())
    except (MediaMissing, FileNotFoundError):
        fh.close()
        return None
    except BaseException:
        fh.close()
        raise


def _read_sip(extractor: SipExtractor, f: SpoolFile, cdr_id: int) -> bool:
    opened = _open(f)
    if opened is None:
        return False
    fh, reader = opened
    try:
        for ts, frame, _ in reader.packets():
            extractor.packet(ts, frame, reader.linktype, cdr_id)
    finally:
        fh.close()
    return True


def _read_rtp(scan: _RtpScan, f: SpoolFile, cdr_id: int) -> bool:
    """Count the RTP of a call's RTP pcap (fast path: no dpkt objects per packet)."""
    opened = _open(f)
    if opened is None:
        return False
    fh, reader = opened
    try:
        for ts, frame, _ in reader.packets():
            l4 = udp_of(frame, reader.linktype)
            if l4 is not None:
                scan.add(ts, l4[0], l4[1], l4[2], l4[3], l4[4], cdr_id)
    finally:
        fh.close()
    return True


_DTMF_KINDS: Final = {0: "SIP INFO", 1: "inband", 2: "RFC 2833"}


def _seconds(value) -> float | None:
    return None if value is None else float(value)


def _db_media(calls: Sequence[CallMedia]) -> tuple[list[RtpStream], list[DtmfEvent]]:
    """Streams from the sniffer's ``cdr_rtp`` rows (and DTMF from ``cdr_dtmf``) of calls
    whose RTP pcap is not in the spool. The CDRs were found through the query engine."""
    of_calls = [(c.cdr_id, c.calldate) for c in calls]
    start = {c.cdr_id: c.start_us() for c in calls}
    streams: list[RtpStream] = []
    dtmf: list[DtmfEvent] = []
    if schema.has_table("cdr_rtp"):
        wanted = ("saddr", "sport", "daddr", "dport", "ssrc", "received", "loss", "firsttime")
        wanted += ("payload", "duration")
        cols = [c for c in wanted if schema.has_column("cdr_rtp", c)]
        for r in rows_of_calls(CdrRtp, of_calls).values("cdr_id", *cols):
            first = _seconds(r.get("firsttime"))
            length = _seconds(r.get("duration"))
            first_us = None if first is None else start[r["cdr_id"]] + int(first * 1_000_000)
            last_us = (
                None if first_us is None or length is None else first_us + int(length * 1_000_000)
            )
            payload = r.get("payload")
            streams.append(
                RtpStream(
                    src=r.get("saddr") or "",
                    sport=r.get("sport") or 0,
                    dst=r.get("daddr") or "",
                    dport=r.get("dport") or 0,
                    ssrc=r.get("ssrc"),
                    codec=codec_name(payload) if payload is not None else "",
                    packets=r.get("received") or 0,
                    lost=r.get("loss"),
                    first_us=first_us,
                    last_us=last_us,
                    source="cdr_rtp",
                    cdr_id=r["cdr_id"],
                )
            )
    if schema.has_table("cdr_dtmf"):
        for r in rows_of_calls(CdrDtmf, of_calls).values(
            "cdr_id", "saddr", "daddr", "firsttime", "dtmf", "type"
        ):
            if r.get("type") == 0:
                continue  # SIP INFO: read from the messages themselves
            first = _seconds(r.get("firsttime")) or 0.0
            dtmf.append(
                DtmfEvent(
                    ts_us=start[r["cdr_id"]] + int(first * 1_000_000),
                    digit=r.get("dtmf") or "?",
                    src=r.get("saddr") or "",
                    dst=r.get("daddr") or "",
                    kind=_DTMF_KINDS.get(r.get("type"), "DTMF"),
                )
            )
    streams.sort(key=lambda s: (s.first_us or 0, s.src, s.sport))
    return streams, dtmf


def call_flow(calls: Sequence[CallMedia], *, rtp: bool = True) -> CallFlow:
    """The SIP history of one call (or of several legs, merged in time order).

    ``calls`` come from ``cdr.media.service.find_calls`` / ``find_legs`` (the caller's scope already
    applied). ``MediaMissing`` when none of them has a SIP pcap in the spool; legs without
    one are named in ``notes``. ``rtp``: also RTP streams and DTMF (RTP pcap, else the
    database).
    """
    layout = SpoolLayout.from_settings()
    extractor = SipExtractor(collect_rtp=rtp)
    seen: set[tuple] = set()
    missing: list[MediaError] = []
    read = 0
    for call in calls:
        try:
            files = pcap_files(call, rtp=False)
        except MediaMissing as exc:
            missing.append(exc)
            continue
        found = False
        for f in files:
            key = _file_key(f)
            if key in seen:
                found = True
                continue
            seen.add(key)
            found = _read_sip(extractor, f, call.cdr_id) or found
        if found:
            read += 1
        else:
            missing.append(MediaMissing(f"no pcap for CDR {call.cdr_id}: it is not in the spool"))
    if not read:
        raise missing[0] if missing else MediaMissing("no SIP pcap in the spool")
    messages = extractor.finish()
    flow = CallFlow(messages, cdr_ids=[c.cdr_id for c in calls])
    flow.notes = [m.reason for m in missing]
    if extractor.full:
        flow.notes.append(f"only the first {MAX_MESSAGES} SIP messages are shown")
    dtmf: list[DtmfEvent] = []
    if rtp:
        assert extractor.rtp is not None
        without: list[CallMedia] = []
        for call in calls:
            f = locate(call.ref, KIND_RTP, layout)
            if f is None:
                without.append(call)
                continue
            key = _file_key(f)
            if key in seen:
                continue  # pcapsplit=no: the RTP came with the SIP
            seen.add(key)
            if not _read_rtp(extractor.rtp, f, call.cdr_id):
                without.append(call)
        flow.streams, dtmf = extractor.rtp.result(extractor.rtpmap())
        if without:
            db_streams, db_dtmf = _db_media(without)
            if db_streams:
                flow.notes.append("RTP streams from the database (cdr_rtp): no RTP pcap")
            flow.streams += db_streams
            dtmf += db_dtmf
    dtmf += [d for m in messages if (d := _info_dtmf(m)) is not None]
    flow.dtmf = sorted(dtmf, key=lambda d: d.ts_us)
    return flow
