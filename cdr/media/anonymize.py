"""IP address anonymisation of a call: a consistent address map, SIP text and whole pcaps.

``IpMap`` replaces every IP address by a fake one, the same fake for the same real address
wherever it appears (IP headers, SIP headers, SDP bodies, the share page, its JSON and ladder):

* The fake is derived from a secret key (one per share) with HMAC-SHA-256, so every request
  of a share computes the same map without storing it, and nobody without the key can invert
  it. Fakes never equal one of the ``known`` real addresses of the call (the CDR's and
  ``cdr_rtp``'s), and two real addresses never share a fake within one map.
* Fakes keep the **text length** of the real address: an IPv4 fake has the same number of
  digits in each octet, an IPv6 fake the same number of hex digits in each 16-bit group (zero
  groups stay zero, so ``::`` compression is unchanged). Rewriting SIP text therefore never
  changes a packet's length: no Content-Length, IP length, TCP sequence number or fragment
  offset has to move, and a length-preserving rewrite of a TCP stream stays a valid stream.
* ``0.0.0.0`` and ``::`` (SDP "hold", "any") are kept: they name no host.

``anonymize_pcap`` rewrites a classic pcap stream packet by packet (memory bounded): IPv4/IPv6
source and destination, the addresses written in SIP messages (UDP datagrams, TCP segments of
flows that carry SIP, IP fragments reassembled first), then the IPv4 header checksum and the
UDP/TCP checksums. RTP and every other payload is left byte for byte as it was, so the audio
decodes to the same samples. Limits (docs/sharing.md): addresses inside ICMP errors, ARP and
non-SIP payloads are not rewritten; a datagram whose fragments are not all in the capture,
or a TCP segment held back longer than the hold limit, keeps its original checksum fixed
incrementally.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import struct
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from cdr.media.pcap import global_header, network_layer
from cdr.media.spool import MediaError

__all__ = ["IpMap", "anonymize_pcap"]

# IPv4 in text: four 1-3 digit numbers (leading zeros allowed), not part of a longer dotted
# number ("1.2.3.4.5" is a version, not an address).
_V4_TEXT: Final = re.compile(r"(?<![0-9.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![0-9]|\.\d)")
# IPv6 in text: hex groups and colons (2..7 colons), not inside a longer hex/colon run; the
# IPv4 tail of "::ffff:1.2.3.4" is rewritten by the IPv4 rule.
_V6_TEXT: Final = re.compile(
    r"(?<![0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Za-z:]|\.\d)"
)
_KEEP_V4: Final = frozenset({b"\0\0\0\0", b"\xff\xff\xff\xff"})
_KEEP_V6: Final = frozenset({bytes(16)})
_MAX_TRIES: Final = 64


def _digits10(n: int) -> int:
    return 1 if n < 10 else 2 if n < 100 else 3


def _digits16(n: int) -> int:
    return 0 if n == 0 else (n.bit_length() + 3) // 4


class IpMap:
    """Real → fake IP addresses of one share (see the module docstring)."""

    def __init__(self, key: bytes, known: Iterable[str | bytes | None] = ()) -> None:
        if len(key) < 16:
            raise ValueError("the anonymisation key needs at least 16 bytes")
        self._key = key
        self._fakes: dict[bytes, bytes] = {}
        self._used: set[bytes] = set()
        reals: set[bytes] = set()
        for ip in known:
            raw = self._raw(ip)
            if raw is not None:
                reals.add(raw)
        self._reserved = frozenset(reals)
        # Assigned in a fixed order: a collision is resolved the same way on every request.
        for raw in sorted(reals, key=lambda r: (len(r), r)):
            self.fake(raw)

    @staticmethod
    def _raw(ip: str | bytes | None) -> bytes | None:
        if ip is None or ip == "" or ip == b"":
            return None
        if isinstance(ip, bytes):
            return ip if len(ip) in (4, 16) else None
        try:
            return ipaddress.ip_address(ip.strip().strip("[]").split("%", 1)[0]).packed
        except ValueError:
            return None

    # -- addresses ------------------------------------------------------------

    def _draw(self, raw: bytes, attempt: int) -> bytes:
        mac = hmac.new(self._key, bytes([len(raw), attempt]) + raw, hashlib.sha256).digest()
        if len(raw) == 4:
            out = bytearray(4)
            for i, octet in enumerate(raw):
                r = int.from_bytes(mac[2 * i : 2 * i + 2], "big")
                width = _digits10(octet)
                out[i] = r % 10 if width == 1 else 10 + r % 90 if width == 2 else 100 + r % 156
            return bytes(out)
        out = bytearray(16)
        for i in range(8):
            group = int.from_bytes(raw[2 * i : 2 * i + 2], "big")
            width = _digits16(group)
            if width:
                lo = 1 << (4 * (width - 1)) if width > 1 else 1
                hi = 1 << (4 * width)
                r = int.from_bytes(mac[3 * i : 3 * i + 3], "big")
                out[2 * i : 2 * i + 2] = (lo + r % (hi - lo)).to_bytes(2, "big")
        return bytes(out)

    def fake(self, raw: bytes) -> bytes:
        """The fake of 4 or 16 address bytes (same length)."""
        got = self._fakes.get(raw)
        if got is not None:
            return got
        if raw in _KEEP_V4 or raw in _KEEP_V6:
            return raw
        candidate = raw
        for attempt in range(_MAX_TRIES):
            candidate = self._draw(raw, attempt)
            if (
                candidate != raw
                and candidate not in self._reserved
                and candidate not in self._used
                and candidate not in _KEEP_V4
                and candidate not in _KEEP_V6
            ):
                break
        self._fakes[raw] = candidate
        self._used.add(candidate)
        return candidate

    def address(self, ip: str | None) -> str | None:
        """The fake of an address written as text (canonical text); other text is kept."""
        if not ip:
            return ip
        raw = self._raw(ip)
        if raw is None:
            return self.text(ip)
        return str(ipaddress.ip_address(self.fake(raw)))

    def pairs(self) -> dict[str, str]:
        """Every real → fake address met so far (canonical text), for the share's own records."""
        return {
            str(ipaddress.ip_address(r)): str(ipaddress.ip_address(f))
            for r, f in self._fakes.items()
        }

    # -- text -------------------------------------------------------------------

    def _v4_sub(self, m: re.Match[str]) -> str:
        parts = [int(g) for g in m.groups()]
        if any(p > 255 for p in parts):
            return m.group(0)
        fake = self.fake(bytes(parts))
        return ".".join(str(f).zfill(len(g)) for f, g in zip(fake, m.groups(), strict=True))

    def _v6_sub(self, m: re.Match[str]) -> str:
        token = m.group(1)
        try:
            real = ipaddress.IPv6Address(token)
        except ValueError:
            return token
        fake = self.fake(real.packed)
        groups = [int.from_bytes(fake[2 * i : 2 * i + 2], "big") for i in range(8)]
        if "::" in token:
            head_text, tail_text = token.split("::", 1)
        else:
            head_text, tail_text = token, ""
        head = head_text.split(":") if head_text else []
        tail = tail_text.split(":") if tail_text else []
        if "::" not in token:
            tail = []
        upper = any(c in "ABCDEF" for c in token)

        def render(piece: str, value: int) -> str:
            text = f"{value:x}".zfill(len(piece)) if piece else ""
            return text.upper() if upper else text

        new_head = [render(p, groups[i]) for i, p in enumerate(head)]
        new_tail = [render(p, groups[8 - len(tail) + i]) for i, p in enumerate(tail)]
        if "::" in token:
            return ":".join(new_head) + "::" + ":".join(new_tail)
        return ":".join(new_head)

    def text(self, value: str) -> str:
        """``value`` with every IP address written in it replaced (length kept)."""
        if not value or ("." not in value and ":" not in value):
            return value
        value = _V4_TEXT.sub(self._v4_sub, value)
        return _V6_TEXT.sub(self._v6_sub, value)

    def payload(self, data: bytes) -> bytes:
        """``text`` on raw bytes (read as latin-1: byte for byte, same length)."""
        out = self.text(data.decode("latin-1")).encode("latin-1")
        if len(out) != len(data):  # cannot happen (fakes keep the text length); never corrupt
            raise MediaError("address rewriting changed a payload's length")
        return out


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------


def _sum16(data: bytes | bytearray | memoryview) -> int:
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _checksum(*parts: bytes | bytearray | memoryview) -> int:
    return (~_fold(sum(_sum16(p) for p in parts))) & 0xFFFF


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def _adjust(old_ck: int, old: bytes, new: bytes) -> int:
    """RFC 1624 incremental update of a checksum for ``old`` → ``new`` (even lengths)."""
    total = (~old_ck & 0xFFFF) + (~_sum16(old) & 0xFFFF) + _sum16(new)
    return (~_fold(total)) & 0xFFFF


# ---------------------------------------------------------------------------
# Packets
# ---------------------------------------------------------------------------

_SIP_START: Final = re.compile(
    rb"^(?:\r\n)*(?:[A-Z]{2,16} \S{1,2048} SIP/2\.0\r?\n|SIP/2\.0 \d{3} )"
)
# A TCP flow carries SIP once a segment has a SIP version or starts a request.
_SIP_HINT: Final = re.compile(rb"SIP/2\.0|^(?:\r\n)*[A-Z]{2,16} sips?:")
# Packets held back (TCP segments waiting for the next one, fragments for their datagram).
MAX_HELD: Final = 4096
MAX_HELD_BYTES: Final = 16 << 20
# Longest run of address characters at a TCP segment's end held back for the next segment.
_TAIL: Final = 64
_MAX_FLOWS: Final = 4096
_ADDR_CHARS: Final = frozenset(b"0123456789abcdefABCDEF.:")


@dataclass
class _Record:
    """One pcap record on its way out (header + frame), and where its layers start."""

    data: bytearray
    waiting: int = 0  # how many holds still keep it back

    def frame(self) -> memoryview:
        return memoryview(self.data)[16:]


@dataclass
class _L3:
    version: int
    off: int  # offset of the IP header in the frame
    hlen: int  # IP header length (IPv6: with extension headers up to L4 or the fragment)
    proto: int
    src: bytes
    dst: bytes
    l4: int  # offset of the L4 header (or fragment data) in the frame
    end: int  # end of the IP payload in the frame (capped to the captured bytes)
    full: bool  # the whole IP packet was captured
    frag_off: int = 0  # fragment offset in bytes
    more: bool = False
    frag_id: int | None = None  # identification when it is a fragment


def _parse_l3(frame: memoryview, linktype: int) -> _L3 | None:
    net = network_layer(frame, linktype)
    if net is None:
        return None
    ethertype, off, _ = net
    n = len(frame)
    if ethertype == 0x0800:
        if n < off + 20 or frame[off] >> 4 != 4:
            return None
        ihl = (frame[off] & 0x0F) * 4
        if ihl < 20 or n < off + ihl:
            return None
        total = int.from_bytes(frame[off + 2 : off + 4], "big")
        flags = int.from_bytes(frame[off + 6 : off + 8], "big")
        end = min(off + total, n) if total >= ihl else n
        l3 = _L3(
            4, off, ihl, frame[off + 9], bytes(frame[off + 12 : off + 16]),
            bytes(frame[off + 16 : off + 20]), off + ihl, end, total >= ihl and off + total <= n,
        )  # fmt: skip
        if flags & 0x3FFF:
            l3.frag_off = (flags & 0x1FFF) * 8
            l3.more = bool(flags & 0x2000)
            l3.frag_id = int.from_bytes(frame[off + 4 : off + 6], "big")
        return l3
    if ethertype == 0x86DD:
        if n < off + 40 or frame[off] >> 4 != 6:
            return None
        plen = int.from_bytes(frame[off + 4 : off + 6], "big")
        end = min(off + 40 + plen, n) if plen else n
        l3 = _L3(
            6, off, 40, frame[off + 6], bytes(frame[off + 8 : off + 24]),
            bytes(frame[off + 24 : off + 40]), off + 40, end, bool(plen) and off + 40 + plen <= n,
        )  # fmt: skip
        nxt, pos = l3.proto, off + 40
        while nxt in (0, 43, 60) and n >= pos + 8:
            nxt, pos = frame[pos], pos + 8 + frame[pos + 1] * 8
        if nxt == 44 and n >= pos + 8:
            field = int.from_bytes(frame[pos + 2 : pos + 4], "big")
            l3.frag_off = field & 0xFFF8
            l3.more = bool(field & 1)
            l3.frag_id = int.from_bytes(frame[pos + 4 : pos + 8], "big")
            nxt, pos = frame[pos], pos + 8
        l3.proto, l3.l4 = nxt, pos
        return l3
    return None


def _rewrite_ip(frame: memoryview, l3: _L3, ips: IpMap) -> None:
    """New addresses in the IP header (and the IPv4 header checksum)."""
    off = l3.off
    if l3.version == 4:
        frame[off + 12 : off + 16] = ips.fake(l3.src)
        frame[off + 16 : off + 20] = ips.fake(l3.dst)
        frame[off + 10 : off + 12] = b"\0\0"
        frame[off + 10 : off + 12] = _checksum(frame[off : off + l3.hlen]).to_bytes(2, "big")
    else:
        frame[off + 8 : off + 24] = ips.fake(l3.src)
        frame[off + 24 : off + 40] = ips.fake(l3.dst)


def _ck_offset(proto: int) -> int:
    return 6 if proto == 17 else 16


def _fix_l4(frame: memoryview, l3: _L3, ips: IpMap, old_l4: bytes | None) -> None:
    """Recompute the UDP/TCP checksum of a whole (unfragmented) segment.

    When the segment was not captured whole, the old checksum is updated incrementally for
    what changed (the addresses and ``old_l4`` → the new bytes) instead.
    """
    pos = _ck_offset(l3.proto)
    if l3.end < l3.l4 + pos + 2:
        return
    ck_at = l3.l4 + pos
    old_ck = int.from_bytes(frame[ck_at : ck_at + 2], "big")
    if l3.proto == 17 and old_ck == 0 and l3.version == 4:
        return  # "no checksum" (IPv4 UDP) stays so
    new_src, new_dst = ips.fake(l3.src), ips.fake(l3.dst)
    if l3.full:
        length = l3.end - l3.l4
        frame[ck_at : ck_at + 2] = b"\0\0"
        value = _checksum(_pseudo(new_src, new_dst, l3.proto, length), frame[l3.l4 : l3.end])
        if l3.proto == 17 and value == 0:
            value = 0xFFFF
        frame[ck_at : ck_at + 2] = value.to_bytes(2, "big")
        return
    value = _adjust(old_ck, l3.src + l3.dst, new_src + new_dst)
    if old_l4 is not None:
        new_l4 = bytes(frame[l3.l4 : l3.l4 + len(old_l4)])
        old_even = old_l4 + b"\0" * (len(old_l4) % 2)
        new_even = new_l4 + b"\0" * (len(new_l4) % 2)
        value = _adjust(value, old_even, new_even)
    frame[ck_at : ck_at + 2] = value.to_bytes(2, "big")


@dataclass
class _Datagram:
    """The fragments of one IP datagram, held until the datagram is complete."""

    records: list[tuple[_Record, _L3]] = field(default_factory=list)
    size: int | None = None  # known when the last fragment arrived
    have: int = 0


@dataclass
class _Segment:
    """The last TCP segment of a flow direction, held for an address cut at its end."""

    record: _Record
    l3: _L3
    tail_at: int  # frame offset of the trailing run of address characters (not rewritten yet)
    tail: bytes  # that run, as captured
    next_seq: int
    old_l4: bytes


def _tail_cut(text: bytes) -> int:
    """Where the trailing run of address characters starts (``len(text)`` when there is none
    or it is too long to end in an address)."""
    i = len(text)
    while i > 0 and text[i - 1] in _ADDR_CHARS and len(text) - i < _TAIL:
        i -= 1
    if i > 0 and text[i - 1] in _ADDR_CHARS:
        return len(text)  # a longer run: no address can start inside it
    return i


class _Anonymizer:
    def __init__(self, ips: IpMap, linktype: int) -> None:
        self.ips = ips
        self.linktype = linktype
        self.queue: list[_Record] = []
        self.held_bytes = 0
        self.datagrams: OrderedDict[tuple, _Datagram] = OrderedDict()
        self.segments: OrderedDict[tuple, _Segment] = OrderedDict()
        self.sip_flows: OrderedDict[tuple, None] = OrderedDict()

    # -- the queue ----------------------------------------------------------------

    def add(self, record: _Record) -> Iterator[bytes]:
        self.queue.append(record)
        self.held_bytes += len(record.data)
        while len(self.queue) > MAX_HELD or self.held_bytes > MAX_HELD_BYTES:
            if not self._force_oldest():
                break
        yield from self._release()

    def _release(self) -> Iterator[bytes]:
        n = 0
        while n < len(self.queue) and self.queue[n].waiting == 0:
            n += 1
        if n:
            out = b"".join(bytes(r.data) for r in self.queue[:n])
            self.held_bytes -= len(out)
            del self.queue[:n]
            yield out

    def _force_oldest(self) -> bool:
        """Give up the hold keeping the queue's first record back."""
        head = self.queue[0]
        for key, seg in list(self.segments.items()):
            if seg.record is head:
                self._finish_segment(self.segments.pop(key))
                return True
        for key, dg in list(self.datagrams.items()):
            if any(r is head for r, _ in dg.records):
                self._finish_incomplete(self.datagrams.pop(key))
                return True
        return False

    def finish(self) -> Iterator[bytes]:
        for seg in self.segments.values():
            self._finish_segment(seg)
        self.segments.clear()
        for dg in self.datagrams.values():
            self._finish_incomplete(dg)
        self.datagrams.clear()
        yield from self._release()

    # -- packets ------------------------------------------------------------------

    def packet(self, record: _Record) -> None:
        frame = record.frame()
        l3 = _parse_l3(frame, self.linktype)
        if l3 is None:
            return
        if l3.frag_id is not None:
            self._fragment(record, l3)
            return
        old_l4 = bytes(frame[l3.l4 : l3.end]) if not l3.full else None
        if l3.proto == 17 and l3.end >= l3.l4 + 8:
            payload = frame[l3.l4 + 8 : l3.end]
            if _SIP_START.match(payload):
                payload[:] = self.ips.payload(bytes(payload))
            _rewrite_ip(frame, l3, self.ips)
            _fix_l4(frame, l3, self.ips, old_l4)
        elif l3.proto == 6 and l3.end >= l3.l4 + 20:
            self._tcp(record, l3)
        else:
            _rewrite_ip(frame, l3, self.ips)

    def _tcp(self, record: _Record, l3: _L3) -> None:
        frame = record.frame()
        at = l3.l4 + (frame[l3.l4 + 12] >> 4) * 4
        seq = int.from_bytes(frame[l3.l4 + 4 : l3.l4 + 8], "big")
        ports = bytes(frame[l3.l4 : l3.l4 + 4])
        key = (l3.src, l3.dst, ports)
        flow = frozenset((l3.src + ports[:2], l3.dst + ports[2:]))
        old_l4 = bytes(frame[l3.l4 : l3.end])
        payload = frame[at : l3.end] if at <= l3.end else memoryview(bytearray())
        if len(payload) and flow not in self.sip_flows and _SIP_HINT.search(payload):
            self.sip_flows[flow] = None
            while len(self.sip_flows) > _MAX_FLOWS:
                self.sip_flows.popitem(last=False)
        sip = flow in self.sip_flows and len(payload) > 0
        prev = self.segments.pop(key, None)
        if prev is not None and not (sip and prev.next_seq == seq):
            self._finish_segment(prev)
            prev = None
        _rewrite_ip(frame, l3, self.ips)
        if not sip:
            _fix_l4(frame, l3, self.ips, old_l4)
            return
        tail = prev.tail if prev is not None else b""
        text = tail + bytes(payload)
        cut = _tail_cut(text) if l3.full else len(text)
        if cut < len(tail):
            cut = len(text)  # the whole segment continues one address: no more waiting
        new = self.ips.payload(text[:cut]) + text[cut:]
        if prev is not None:
            pframe = prev.record.frame()
            pframe[prev.tail_at : prev.tail_at + len(tail)] = new[: len(tail)]
            _fix_l4(pframe, prev.l3, self.ips, prev.old_l4)
            prev.record.waiting -= 1
        payload[:] = new[len(tail) :]
        if cut < len(text):
            # an address may go on in the next segment: keep this one back until then
            record.waiting += 1
            tail_at = at + cut - len(tail)
            self.segments[key] = _Segment(
                record, l3, tail_at, bytes(text[cut:]), seq + len(payload), old_l4
            )
            while len(self.segments) > _MAX_FLOWS:
                self._finish_segment(self.segments.popitem(last=False)[1])
            return
        _fix_l4(frame, l3, self.ips, old_l4)

    def _finish_segment(self, seg: _Segment) -> None:
        """No next segment: the held tail is rewritten on its own, then the checksum."""
        frame = seg.record.frame()
        end = seg.tail_at + len(seg.tail)
        frame[seg.tail_at : end] = self.ips.payload(seg.tail)
        _fix_l4(frame, seg.l3, self.ips, seg.old_l4)
        seg.record.waiting -= 1

    # -- fragments -----------------------------------------------------------------

    def _fragment(self, record: _Record, l3: _L3) -> None:
        key = (l3.version, l3.src, l3.dst, l3.frag_id, l3.proto)
        dg = self.datagrams.get(key)
        if dg is None:
            dg = self.datagrams[key] = _Datagram()
            while len(self.datagrams) > _MAX_FLOWS:
                self._finish_incomplete(self.datagrams.popitem(last=False)[1])
        record.waiting += 1
        dg.records.append((record, l3))
        dg.have += l3.end - l3.l4
        if not l3.more:
            dg.size = l3.frag_off + (l3.end - l3.l4)
        if dg.size is not None and dg.have >= dg.size and self._complete(dg):
            del self.datagrams[key]
            self._finish_datagram(dg)

    @staticmethod
    def _complete(dg: _Datagram) -> bool:
        covered = 0
        for _, l3 in sorted(dg.records, key=lambda x: x[1].frag_off):
            if l3.frag_off > covered or not l3.full:
                return False
            covered = max(covered, l3.frag_off + l3.end - l3.l4)
        return covered == dg.size

    def _finish_datagram(self, dg: _Datagram) -> None:
        """Reassemble, rewrite SIP text, split back, recompute every checksum."""
        assert dg.size is not None
        whole = bytearray(dg.size)
        for record, l3 in dg.records:
            frame = record.frame()
            whole[l3.frag_off : l3.frag_off + l3.end - l3.l4] = frame[l3.l4 : l3.end]
        _, first = min(dg.records, key=lambda x: x[1].frag_off)
        proto = first.proto
        if proto == 17 and len(whole) >= 8:
            if _SIP_START.match(whole[8:]):
                whole[8:] = self.ips.payload(bytes(whole[8:]))
            self._l4_checksum(whole, first, 6, udp=True)
        elif proto == 6 and len(whole) >= 20:
            self._l4_checksum(whole, first, 16, udp=False)
        for record, l3 in dg.records:
            frame = record.frame()
            frame[l3.l4 : l3.end] = whole[l3.frag_off : l3.frag_off + l3.end - l3.l4]
            _rewrite_ip(frame, l3, self.ips)
            record.waiting -= 1

    def _l4_checksum(self, whole: bytearray, l3: _L3, pos: int, *, udp: bool) -> None:
        if udp and l3.version == 4 and whole[6:8] == b"\0\0":
            return
        whole[pos : pos + 2] = b"\0\0"
        src, dst = self.ips.fake(l3.src), self.ips.fake(l3.dst)
        value = _checksum(_pseudo(src, dst, l3.proto, len(whole)), whole)
        if udp and value == 0:
            value = 0xFFFF
        whole[pos : pos + 2] = value.to_bytes(2, "big")

    def _finish_incomplete(self, dg: _Datagram) -> None:
        """Fragments whose datagram is not whole: headers rewritten; checksum adjusted for
        the addresses only (the SIP text of such fragments is rewritten fragment by fragment)."""
        for record, l3 in dg.records:
            frame = record.frame()
            if l3.frag_off == 0 and l3.proto in (6, 17):
                pos = l3.l4 + _ck_offset(l3.proto)
                if l3.end >= pos + 2:
                    old = int.from_bytes(frame[pos : pos + 2], "big")
                    if not (l3.proto == 17 and old == 0 and l3.version == 4):
                        new = _adjust(
                            old, l3.src + l3.dst, self.ips.fake(l3.src) + self.ips.fake(l3.dst)
                        )
                        frame[pos : pos + 2] = new.to_bytes(2, "big")
            start = l3.l4 + (8 if l3.frag_off == 0 and l3.proto == 17 else 0)
            if l3.proto == 17 and start <= l3.end:
                data = frame[start : l3.end]
                data[:] = self.ips.payload(bytes(data))
            _rewrite_ip(frame, l3, self.ips)
            record.waiting -= 1


class _Chunks:
    """Exact reads over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.source = iter(chunks)
        self.buf = b""
        self.pos = 0  # read offset in buf (no copying of the rest per read)

    def read(self, n: int) -> bytes:
        if len(self.buf) - self.pos < n:
            parts = [self.buf[self.pos :]]
            have = len(parts[0])
            while have < n:
                chunk = next(self.source, None)
                if chunk is None:
                    break
                parts.append(bytes(chunk))
                have += len(chunk)
            self.buf, self.pos = b"".join(parts), 0
        out = self.buf[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def anonymize_pcap(chunks: Iterable[bytes], ips: IpMap) -> Iterator[bytes]:
    """A classic pcap stream with every IP address replaced through ``ips`` (streamed).

    The input is what ``cdr.media.pcap.merge`` writes (little-endian µs; other byte orders
    and ns timestamps are accepted too); the output is little-endian µs.
    """
    src = _Chunks(chunks)
    head = src.read(24)
    if len(head) < 24:
        raise MediaError("empty or truncated pcap")
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise MediaError("not a classic pcap stream")
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    snaplen, linktype = struct.unpack(order + "II", head[16:24])
    linktype &= 0x0FFFFFFF
    yield global_header(snaplen or 65535, linktype)
    work = _Anonymizer(ips, linktype)
    record_header = struct.Struct(order + "IIII")
    while True:
        hdr = src.read(16)
        if len(hdr) < 16:
            break
        sec, frac, caplen, wirelen = record_header.unpack(hdr)
        if caplen > 262144:
            raise MediaError(f"corrupt pcap record (length {caplen})")
        frame = src.read(caplen)
        if len(frame) < caplen:
            break  # a cut last record is dropped, as the merge does
        if nanos:
            frac //= 1000
        record = _Record(bytearray(struct.pack("<IIII", sec, frac, caplen, wirelen) + frame))
        work.packet(record)
        yield from work.add(record)
    yield from work.finish()
