"""Synthesize one VoIP call as captured packets: a SIP dialog plus G.711 RTP.

:func:`generate_call` turns a :class:`CallSpec` into a :class:`CallResult`: the SIP
packets (INVITE with SDP, 100, 180, then 200/ACK/RTP/BYE/200 or a failure such as
486, CANCEL→487, 503, 404, 480 with its ACK), the RTP packets of both directions,
and the numbers the sniffer would have stored for the call (durations, received/lost
counters, addresses, ports, flags), so a demo CDR row matches its spool files.

Conventions copied from the real sniffer fixtures (SIPp calls captured by sniffer
2026.04.0): Ethernet/IPv4 (or IPv6)/UDP frames, IPv4 with DF and TTL 64, RTP at 20 ms
ptime with 160-byte G.711 payloads, the called party's stream starting ~0.5 ms
after its 200 OK and the caller's ~1 ms later (so the called stream gets index 0),
BYE ~0.3 s after the last RTP packet.

SIP frames are built with dpkt. RTP frames (thousands per call, hundreds of calls
per demo run) are built with numpy in one go per stream, checksums included; the
test-suite cross-checks them against dpkt. Same spec (incl. seed) → same bytes.

Times: ``CallSpec.calldate`` is the sniffer's local wall-clock time (naive). Packet
timestamps need an epoch; it is taken as UTC, like the fixtures (sniffer TZ = UTC).
"""

from __future__ import annotations

import calendar
import hashlib
import ipaddress
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, NamedTuple

import dpkt
import numpy as np
import numpy.typing as npt

from cdr.demo.signals import DTMF_EVENT_CODES, SAMPLE_RATE, SignalSpec
from cdr.flags import (
    FLAG_AUDIO,
    FLAG_RTP_PAYLOAD,
    FLAG_RTP_PCAP,
    FLAG_SAVE_FLAGS_VALID,
    FLAG_SDP_AUDIO,
    FLAG_SIP_PCAP,
    FLAG_TELEVENT_REQUEST,
    FLAG_TELEVENT_RESPONSE,
    FLAG_TRANSPORT_UDP,
)
from cdr.media.codecs import (
    PAYLOAD_PCMA,
    PAYLOAD_PCMU,
    g711_decode,
    g711_encode,
)

__all__ = [
    "CallResult",
    "CallSpec",
    "LINKTYPE_ETHERNET",
    "PCAP_SNAPLEN",
    "Packet",
    "PacketArray",
    "REASON_PHRASES",
    "StreamStats",
    "TELEPHONE_EVENT_PT",
    "file_flags",
    "generate_call",
    "pcap_global_header",
]

#: Snaplen the sniffer writes in every spool pcap header.
PCAP_SNAPLEN: Final = 10000
#: DLT_EN10MB; the sniffer converts other link types to Ethernet when it can.
LINKTYPE_ETHERNET: Final = 1
#: Dynamic payload type offered for RFC 2833/4733 DTMF (as SIPp and most phones do).
TELEPHONE_EVENT_PT: Final = 101

PTIME_MS: Final = 20
SAMPLES_PER_PACKET: Final = SAMPLE_RATE * PTIME_MS // 1000  # 160 bytes of G.711
_PACKET_US: Final = PTIME_MS * 1000

# RFC 4733 event shape: 6 packets with growing duration (the 6th has the E bit),
# then the end packet twice more, then a gap of audio packets before the next digit.
_DTMF_EVENT_PACKETS: Final = 6
_DTMF_END_REPEATS: Final = 2
_DTMF_SLOTS: Final = _DTMF_EVENT_PACKETS + _DTMF_END_REPEATS
_DTMF_GAP_SLOTS: Final = 7
_DTMF_VOLUME: Final = 10  # -10 dBm0

_ETH_LEN: Final = 14
_RTP_HDR_LEN: Final = 12

REASON_PHRASES: Final[dict[int, str]] = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    480: "Temporarily Unavailable",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
}

_CODEC_RTPMAP: Final = {PAYLOAD_PCMU: "PCMU/8000", PAYLOAD_PCMA: "PCMA/8000"}


# ---------------------------------------------------------------------------
# Packets and pcap serialisation
# ---------------------------------------------------------------------------


class Packet(NamedTuple):
    """One captured frame: capture time in integer µs since the epoch, and its bytes."""

    ts_us: int
    data: bytes

    @property
    def ts(self) -> float:
        """Capture time as float seconds since the epoch (pcap/dpkt style)."""
        return self.ts_us / 1e6


def pcap_global_header(snaplen: int = PCAP_SNAPLEN, linktype: int = LINKTYPE_ETHERNET) -> bytes:
    """The 24-byte libpcap header the sniffer writes (LE, µs, v2.4, snaplen 10000)."""
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


class PacketArray:
    """Frames stored compactly (one byte buffer + offsets) in capture-time order.

    A 30 s call has 3,000 RTP frames; keeping them as numpy arrays lets the spool
    writer serialise a pcap without a Python object per packet. Iterating yields
    :class:`Packet` tuples.
    """

    __slots__ = ("data", "offsets", "ts_us")

    def __init__(
        self,
        ts_us: npt.NDArray[np.int64],
        offsets: npt.NDArray[np.int64],
        data: npt.NDArray[np.uint8],
    ) -> None:
        self.ts_us = ts_us
        self.offsets = offsets
        self.data = data

    @classmethod
    def empty(cls) -> PacketArray:
        """No packets."""
        return cls(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.uint8))

    @classmethod
    def from_packets(cls, packets: Sequence[Packet]) -> PacketArray:
        """Build from (ts_us, bytes) pairs; sorts by time (stable)."""
        if not packets:
            return cls.empty()
        order = sorted(range(len(packets)), key=lambda i: packets[i].ts_us)
        ts = np.array([packets[i].ts_us for i in order], dtype=np.int64)
        lengths = np.array([len(packets[i].data) for i in order], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        data = np.frombuffer(b"".join(packets[i].data for i in order), dtype=np.uint8)
        return cls(ts, offsets, data)

    @classmethod
    def from_frame_groups(
        cls, groups: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]]
    ) -> PacketArray:
        """Merge groups of equal-length frames (``ts[N]``, ``frames[N, L]``) by time."""
        groups = [(t, f) for t, f in groups if len(t)]
        if not groups:
            return cls.empty()
        ts = np.concatenate([t for t, _ in groups])
        lengths = np.concatenate([np.full(len(t), f.shape[1], np.int64) for t, f in groups])
        order = np.argsort(ts, kind="stable")
        offsets = np.concatenate(([0], np.cumsum(lengths[order])))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        data = np.empty(int(offsets[-1]), dtype=np.uint8)
        first = 0
        for t, frames in groups:
            dest = offsets[rank[first : first + len(t)]]
            data[dest[:, None] + np.arange(frames.shape[1])[None, :]] = frames
            first += len(t)
        return cls(ts[order], offsets, data)

    def __len__(self) -> int:
        return len(self.ts_us)

    def __getitem__(self, i: int) -> Packet:
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return Packet(int(self.ts_us[i]), self.data[lo:hi].tobytes())

    def __iter__(self) -> Iterator[Packet]:
        raw = self.data.tobytes()
        offsets = self.offsets.tolist()
        for i, ts in enumerate(self.ts_us.tolist()):
            yield Packet(ts, raw[offsets[i] : offsets[i + 1]])

    def packets(self) -> list[Packet]:
        """All frames as a list of :class:`Packet`."""
        return list(self)

    def pcap_bytes(self, snaplen: int = PCAP_SNAPLEN, linktype: int = LINKTYPE_ETHERNET) -> bytes:
        """The whole libpcap file (global header + records), built with numpy.

        Frames longer than ``snaplen`` are cut to it (caplen < len), like libpcap.
        """
        n = len(self)
        lengths = np.diff(self.offsets)
        caplen = np.minimum(lengths, snaplen)
        cap_offsets = np.concatenate(([0], np.cumsum(caplen)))
        total_cap = int(cap_offsets[-1])
        out = np.empty(24 + 16 * n + total_cap, dtype=np.uint8)
        out[:24] = np.frombuffer(pcap_global_header(snaplen, linktype), dtype=np.uint8)
        if n:
            rec_start = 24 + 16 * np.arange(n, dtype=np.int64) + cap_offsets[:-1]
            hdr = np.empty((n, 4), dtype="<u4")
            hdr[:, 0] = self.ts_us // 1_000_000
            hdr[:, 1] = self.ts_us % 1_000_000
            hdr[:, 2] = caplen
            hdr[:, 3] = lengths
            out[rec_start[:, None] + np.arange(16)[None, :]] = hdr.view(np.uint8).reshape(n, 16)
            # captured byte k of packet i: source offsets[i] + k, destination rec_start[i] + 16 + k
            k = np.arange(total_cap, dtype=np.int64) - np.repeat(cap_offsets[:-1], caplen)
            src = np.repeat(self.offsets[:-1], caplen) + k
            dst = np.repeat(rec_start + 16, caplen) + k
            out[dst] = self.data[src]
        return out.tobytes()

    def pcap_write_sizes(self) -> npt.NDArray[np.int64]:
        """Sizes of the sniffer's ``write()`` calls for this pcap, in order.

        The sniffer writes the 24-byte file header, then for each packet its
        16-byte record header and its data as two separate writes. Its compressed
        file writer buffers these (8 KiB) and compresses per buffer flush, so the
        LZO chunk boundaries depend on this sequence.
        """
        n = len(self)
        sizes = np.empty(1 + 2 * n, dtype=np.int64)
        sizes[0] = 24
        sizes[1::2] = 16
        sizes[2::2] = np.minimum(np.diff(self.offsets), PCAP_SNAPLEN)
        return sizes


# ---------------------------------------------------------------------------
# Frame building
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Host:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    mac: bytes

    @property
    def packed(self) -> bytes:
        return self.ip.packed

    @property
    def v6(self) -> bool:
        return self.ip.version == 6

    @property
    def uri_host(self) -> str:
        """Host part for SIP URIs/Via: IPv6 in brackets."""
        return f"[{self.ip.compressed}]" if self.v6 else str(self.ip)

    @property
    def sdp_addr(self) -> str:
        return f"IP6 {self.ip.compressed}" if self.v6 else f"IP4 {self.ip}"


def _host(ip: str) -> _Host:
    addr = ipaddress.ip_address(ip)
    # A stable, locally administered unicast MAC per IP (0x02 prefix).
    mac = b"\x02" + hashlib.md5(addr.packed, usedforsecurity=False).digest()[:5]
    return _Host(addr, mac)


def _fold(s: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    s = (s & 0xFFFF) + (s >> 16)
    return (s & 0xFFFF) + (s >> 16)


def _words(b: bytes) -> int:
    """Sum of big-endian 16-bit words of ``b`` (even length)."""
    return int(np.frombuffer(b, dtype=">u2").astype(np.int64).sum())


def _udp_frames(
    src: _Host,
    dst: _Host,
    sport: int,
    dport: int,
    payload: npt.NDArray[np.uint8],
    ip_id: npt.NDArray[np.int64],
    ttl: int = 64,
) -> npt.NDArray[np.uint8]:
    """Ethernet/IP/UDP frames for each row of ``payload`` (vectorised, checksums set).

    Produces the same bytes as dpkt would (IPv4: DF, given ID, header checksum;
    UDP checksum over the pseudo-header, 0 transmitted as 0xFFFF).
    """
    n, plen = payload.shape
    udp_len = 8 + plen
    if src.v6:
        ethertype, ip_hlen = 0x86DD, 40
    else:
        ethertype, ip_hlen = 0x0800, 20
    frame_len = _ETH_LEN + ip_hlen + udp_len
    frames = np.empty((n, frame_len), dtype=np.uint8)
    eth = dst.mac + src.mac + struct.pack(">H", ethertype)
    udp_off = _ETH_LEN + ip_hlen
    if src.v6:
        ip_hdr = struct.pack(">IHBB", 6 << 28, udp_len, 17, ttl) + src.packed + dst.packed
        pseudo = _words(src.packed + dst.packed) + udp_len + 17
    else:
        ip_hdr = (
            struct.pack(">BBHHHBBH", 0x45, 0, ip_hlen + udp_len, 0, 0x4000, ttl, 17, 0)
            + src.packed
            + dst.packed
        )
        pseudo = _words(src.packed + dst.packed) + 17 + udp_len
    head = eth + ip_hdr + struct.pack(">HHHH", sport, dport, udp_len, 0)
    frames[:, : udp_off + 8] = np.frombuffer(head, dtype=np.uint8)
    frames[:, udp_off + 8 :] = payload
    if not src.v6:
        ids = (ip_id & 0xFFFF).astype(">u2")
        frames[:, 18:20] = ids.view(np.uint8).reshape(n, 2)
        ip_sum = _fold(_words(ip_hdr) + ids.astype(np.int64))
        frames[:, 24:26] = (~ip_sum & 0xFFFF).astype(">u2").view(np.uint8).reshape(n, 2)
    # UDP checksum: pseudo-header + UDP header + payload (padded to even length).
    body = payload.astype(np.int64)
    if plen % 2:
        body = np.concatenate([body, np.zeros((n, 1), np.int64)], axis=1)
    data_sum = (body[:, 0::2] << 8).sum(axis=1) + body[:, 1::2].sum(axis=1)
    udp_sum = ~_fold(pseudo + sport + dport + udp_len + data_sum) & 0xFFFF
    udp_sum[udp_sum == 0] = 0xFFFF
    frames[:, udp_off + 6 : udp_off + 8] = udp_sum.astype(">u2").view(np.uint8).reshape(n, 2)
    return frames


def _dpkt_udp_frame(
    src: _Host, dst: _Host, sport: int, dport: int, payload: bytes, ip_id: int, ttl: int = 64
) -> bytes:
    """One Ethernet/IP/UDP frame built with dpkt (used for SIP)."""
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    ip: dpkt.Packet
    if src.v6:
        ip = dpkt.ip6.IP6(src=src.packed, dst=dst.packed, nxt=17, hlim=ttl, data=udp)
        ip.plen = len(udp)
        ethertype = dpkt.ethernet.ETH_TYPE_IP6
    else:
        ip = dpkt.ip.IP(src=src.packed, dst=dst.packed, p=17, ttl=ttl, id=ip_id & 0xFFFF, data=udp)
        ip.df = 1
        ip.len = 20 + len(udp)
        ethertype = dpkt.ethernet.ETH_TYPE_IP
    eth = dpkt.ethernet.Ethernet(src=src.mac, dst=dst.mac, type=ethertype, data=ip)
    return bytes(eth)


def _be(values: npt.NDArray[np.int64], dtype: str, n_bytes: int) -> npt.NDArray[np.uint8]:
    return values.astype(dtype).view(np.uint8).reshape(len(values), n_bytes)


def _rtp_headers(
    marker: npt.NDArray[np.bool_],
    pt: int,
    seq: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
    ssrc: int,
) -> npt.NDArray[np.uint8]:
    n = len(seq)
    hdr = np.empty((n, _RTP_HDR_LEN), dtype=np.uint8)
    hdr[:, 0] = 0x80  # V=2, no padding/extension/CSRC
    hdr[:, 1] = (marker.astype(np.uint8) << 7) | pt
    hdr[:, 2:4] = _be(seq & 0xFFFF, ">u2", 2)
    hdr[:, 4:8] = _be(ts & 0xFFFFFFFF, ">u4", 4)
    hdr[:, 8:12] = np.frombuffer(struct.pack(">I", ssrc), dtype=np.uint8)
    return hdr


# ---------------------------------------------------------------------------
# Call description and results
# ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class CallSpec:
    """Everything that defines one demo call. All times are seconds.

    ``calldate`` is the INVITE time in the sniffer's local time (naive; treated as
    UTC for packet timestamps). ``answered`` calls get ``final_code`` 200; failed
    ones use ``final_code`` (default 486): 487 is produced by a caller CANCEL after
    ``ring_s``; other codes are sent by the callee after ``ring_s`` of ringing
    (with a 180) or immediately after the 100 Trying when ``ring_s`` is 0.
    ``loss_ratio`` drops packets of the caller→callee ("a") stream with a seeded
    Bernoulli pattern, ``callee_loss_ratio`` of the other one. ``dtmf`` digits are
    sent as RFC 2833 events in the caller's stream, starting 1 s into the call
    (300 ms per digit; digits that do not fit into ``talk_s`` are dropped).
    ``extra_headers`` go into the INVITE (custom headers such as X-Custom-Header),
    ``final_headers`` into the final response (e.g. ``Reason`` for a 486).
    ``early_media`` (failed calls that ring): the callee answers 183 Session Progress with SDP
    instead of 180 and plays ``called_signal`` (a carrier's announcement) until its final
    response, one RTP stream the sniffer records like any other.
    """

    call_id: str
    calldate: datetime
    caller: str
    called: str
    caller_ip: str
    called_ip: str
    callername: str = ""
    caller_domain: str = ""
    called_domain: str = ""
    caller_sip_port: int = 5060
    called_sip_port: int = 5060
    caller_rtp_port: int = 10000
    called_rtp_port: int = 20000
    codec: int = PAYLOAD_PCMU
    answered: bool = True
    final_code: int | None = None
    final_reason: str = ""
    ring_s: float = 1.0
    talk_s: float = 10.0
    hangup_by: Literal["caller", "callee"] = "caller"
    user_agent: str = "vmgui-demo-phone/1.0"
    server: str = "vmgui-demo-pbx/1.0"
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    final_headers: Mapping[str, str] = field(default_factory=dict)
    dtmf: str = ""
    loss_ratio: float = 0.0
    callee_loss_ratio: float = 0.0
    caller_signal: SignalSpec = field(default_factory=lambda: SignalSpec(kind="speech", f0=120.0))
    called_signal: SignalSpec = field(default_factory=lambda: SignalSpec(kind="speech", f0=210.0))
    seed: int = 0
    early_media: bool = False

    def __post_init__(self) -> None:
        if self.final_code is None:
            self.final_code = 200 if self.answered else 486
        if self.answered != (200 <= self.final_code < 300):
            raise ValueError(f"answered={self.answered} contradicts final_code={self.final_code}")
        if not self.answered and self.final_code < 300:
            raise ValueError("a failed call needs a final_code >= 300")
        if self.codec not in _CODEC_RTPMAP:
            raise ValueError(f"only G.711 is supported (codec 0 or 8), got {self.codec}")
        if (
            ipaddress.ip_address(self.caller_ip).version
            != ipaddress.ip_address(self.called_ip).version
        ):
            raise ValueError("caller_ip and called_ip must be the same IP version")
        if self.hangup_by not in ("caller", "callee"):
            raise ValueError(f"hangup_by must be 'caller' or 'callee', got {self.hangup_by!r}")
        if not (0.0 <= self.loss_ratio < 1.0 and 0.0 <= self.callee_loss_ratio < 1.0):
            raise ValueError("loss ratios must be in [0, 1)")
        if self.ring_s < 0 or self.talk_s < 0:
            raise ValueError("ring_s and talk_s must not be negative")
        unknown = set(self.dtmf.upper()) - set(DTMF_EVENT_CODES)
        if unknown:
            raise ValueError(f"invalid DTMF digits: {''.join(sorted(unknown))}")

    @property
    def reason_phrase(self) -> str:
        """The final response's reason phrase (``final_reason`` or the standard one)."""
        assert self.final_code is not None
        return self.final_reason or REASON_PHRASES.get(self.final_code, "Unknown")


@dataclass
class StreamStats:
    """One RTP stream as the sniffer would report it (a ``cdr_rtp`` row).

    ``received`` is what the sniffer stores in ``a_received``/``cdr_rtp.received``:
    its internal counter plus 2 (it skips two packets and adds them back "to match
    Wireshark"), i.e. the number of packets actually captured — fixture call #9
    has 574 captured, 26 lost, ``a_received`` = 574. ``lost`` counts sequence gaps.
    """

    index: int
    is_caller: bool
    saddr: str
    sport: int
    daddr: str
    dport: int
    ssrc: int
    codec: int
    sent: int
    received: int
    lost: int
    first_time: float
    duration: float
    last_rtp_from_end: float
    ptime: int = PTIME_MS
    dtmf: list[tuple[float, str]] = field(default_factory=list)

    @property
    def loss_perc_mult1000(self) -> int:
        """``a_packet_loss_perc_mult1000`` as the sniffer defines it."""
        total = self.received + self.lost
        return round(self.lost / total * 100_000) if total else 0


@dataclass
class _StreamMedia:
    """Decodable audio of one stream: where it starts and which slots arrived."""

    start_sample: int  # offset from the INVITE, in 8 kHz samples
    slots: npt.NDArray[np.int64]  # slot numbers of received *audio* packets
    codes: npt.NDArray[np.uint8]  # [len(slots), 160] G.711 payloads
    codec: int


def file_flags(*, sip: bool, rtp: bool, rtp_payload: bool, audio: bool) -> int:
    """``cdr.flags`` bits 23–29 for the spool files that exist (no graph/RTCP here)."""
    flags = FLAG_SAVE_FLAGS_VALID
    if sip:
        flags |= FLAG_SIP_PCAP
    if rtp:
        flags |= FLAG_RTP_PCAP
        if rtp_payload:
            flags |= FLAG_RTP_PAYLOAD
    if audio:
        flags |= FLAG_AUDIO
    return flags


@dataclass
class CallResult:
    """Packets and sniffer-style measurements of one generated call.

    Durations are seconds (floats, µs resolution); the sniffer stores them as
    ``decimal(9,3)`` (ms mode) or truncated whole seconds. ``flags`` holds the
    signalling bits the sniffer would set (telephone-event in request/response SDP,
    SDP audio, UDP, "flags valid"); OR it with :meth:`file_flags` or
    ``CallFiles.flags`` for the spool-file bits 24–29.
    """

    spec: CallSpec
    sip: PacketArray
    rtp: PacketArray
    streams: list[StreamStats]
    callend: datetime
    duration: float
    connect_duration: float | None
    progress_time: float | None
    first_rtp_time: float | None
    post_bye_delay: float | None
    response_time_100: int | None
    response_time_xxx: int | None
    last_sip_response_num: int
    last_sip_response: str
    whohanged: Literal["caller", "callee"] | None
    bye: int
    sipcallerip: str
    sipcallerport: int
    sipcalledip: str
    sipcalledport: int
    flags: int
    media: list[_StreamMedia] = field(default_factory=list, repr=False)

    # -- convenience views matching cdr columns ---------------------------------

    @property
    def calldate(self) -> datetime:
        return self.spec.calldate

    @property
    def sip_packets(self) -> list[Packet]:
        return self.sip.packets()

    @property
    def rtp_packets(self) -> list[Packet]:
        return self.rtp.packets()

    @property
    def a(self) -> StreamStats | None:
        """The caller's stream (sent by the caller), the CDR's "a" side."""
        return next((s for s in self.streams if s.is_caller), None)

    @property
    def b(self) -> StreamStats | None:
        """The called party's stream, the CDR's "b" side."""
        return next((s for s in self.streams if not s.is_caller), None)

    @property
    def a_received(self) -> int | None:
        return self.a.received if self.a else None

    @property
    def b_received(self) -> int | None:
        return self.b.received if self.b else None

    @property
    def a_lost(self) -> int | None:
        return self.a.lost if self.a else None

    @property
    def b_lost(self) -> int | None:
        return self.b.lost if self.b else None

    @property
    def a_saddr(self) -> str | None:
        return self.a.saddr if self.a else None

    @property
    def b_saddr(self) -> str | None:
        return self.b.saddr if self.b else None

    @property
    def a_port(self) -> int | None:
        return self.a.sport if self.a else None

    @property
    def b_port(self) -> int | None:
        return self.b.sport if self.b else None

    @property
    def a_index(self) -> int | None:
        return self.a.index if self.a else None

    @property
    def b_index(self) -> int | None:
        return self.b.index if self.b else None

    @property
    def a_payload(self) -> int | None:
        return self.a.codec if self.a else None

    @property
    def b_payload(self) -> int | None:
        return self.b.codec if self.b else None

    @property
    def payload(self) -> int | None:
        """``cdr.payload``: a_payload, else b_payload."""
        return self.a_payload if self.a_payload is not None else self.b_payload

    @property
    def has_rtp(self) -> bool:
        return len(self.rtp) > 0

    @property
    def has_audio(self) -> bool:
        """Whether the sniffer would write a WAV (answered and some audio captured)."""
        return self.spec.answered and any(len(m.slots) for m in self.media)

    def file_flags(self, *, audio: bool = True) -> int:
        """Flag bits 23–29 of the files a spool for this call contains."""
        return file_flags(
            sip=True, rtp=self.has_rtp, rtp_payload=self.has_rtp, audio=audio and self.has_audio
        )

    def stereo_pcm(self) -> npt.NDArray[np.int16]:
        """The sniffer's WAV content: ``[n, 2]`` int16, left = caller, right = called.

        The timeline starts at the INVITE (``saveaudio_from_first_invite``), so
        ringing is leading silence; every received audio packet is decoded at its
        RTP slot; lost packets and DTMF-event slots stay silent; trailing silence
        is dropped (conversions §5–6).
        """
        channels = [np.zeros(0, np.int16), np.zeros(0, np.int16)]
        for stats, media in zip(self.streams, self.media, strict=True):
            if not len(media.slots):
                continue
            length = media.start_sample + (int(media.slots[-1]) + 1) * SAMPLES_PER_PACKET
            pcm = np.zeros(length, dtype=np.int16)
            body = pcm[media.start_sample :].reshape(-1, SAMPLES_PER_PACKET)
            body[media.slots] = g711_decode(media.codes, media.codec)
            channels[0 if stats.is_caller else 1] = pcm
        n = max(len(c) for c in channels)
        out = np.zeros((n, 2), dtype=np.int16)
        out[: len(channels[0]), 0] = channels[0]
        out[: len(channels[1]), 1] = channels[1]
        # Drop trailing all-zero frames; scan backwards in blocks (usually just one).
        frames = out.view(np.uint32).reshape(-1)  # one word per stereo frame
        end = len(frames)
        while end > 0:
            lo = max(end - 4096, 0)
            nz = np.flatnonzero(frames[lo:end])
            if len(nz):
                return out[: lo + int(nz[-1]) + 1]
            end = lo
        return out[:0]


# ---------------------------------------------------------------------------
# SIP dialog
# ---------------------------------------------------------------------------


def _sip_bytes(start_line: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    lines = [start_line, *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _quote_display(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sdp(host: _Host, port: int, codec: int, session_id: int) -> str:
    pt = codec  # PCMU/PCMA use their static payload type
    lines = [
        "v=0",
        f"o=- {session_id} {session_id} IN {host.sdp_addr}",
        "s=-",
        f"c=IN {host.sdp_addr}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {pt} {TELEPHONE_EVENT_PT}",
        f"a=rtpmap:{pt} {_CODEC_RTPMAP[codec]}",
        f"a=rtpmap:{TELEPHONE_EVENT_PT} telephone-event/8000",
        f"a=fmtp:{TELEPHONE_EVENT_PT} 0-16",
        f"a=ptime:{PTIME_MS}",
        "a=sendrecv",
    ]
    return "\r\n".join(lines) + "\r\n"


class _Dialog:
    """Builds the SIP messages of one call; keeps tags, branches and IP IDs."""

    def __init__(self, spec: CallSpec, rng: np.random.Generator, caller: _Host, callee: _Host):
        self.spec = spec
        self.caller = caller
        self.callee = callee
        hexes = [f"{int(x):08x}" for x in rng.integers(0, 2**32, 6)]
        self.from_tag = hexes[0]
        self.to_tag = hexes[1]
        self.branch_inv = f"z9hG4bK{hexes[2]}"
        self.branch_ack = f"z9hG4bK{hexes[3]}"
        self.branch_bye = f"z9hG4bK{hexes[4]}"
        self.session_id = int(rng.integers(10**8, 10**9))
        self.ip_ids = {
            True: int(rng.integers(0, 65536)),  # caller → callee
            False: int(rng.integers(0, 65536)),  # callee → caller
        }
        self.packets: list[Packet] = []
        c_dom = spec.caller_domain or caller.uri_host
        d_dom = spec.called_domain or callee.uri_host
        self.from_uri = f"sip:{spec.caller}@{c_dom}"
        self.to_uri = f"sip:{spec.called}@{d_dom}"
        display = _quote_display(spec.callername) + " " if spec.callername else ""
        self.from_hdr = f"{display}<{self.from_uri}>;tag={self.from_tag}"
        self.to_hdr = f"<{self.to_uri}>"
        self.to_hdr_tagged = f"<{self.to_uri}>;tag={self.to_tag}"
        self.caller_contact = f"sip:{spec.caller}@{caller.uri_host}:{spec.caller_sip_port}"
        self.callee_contact = f"sip:{spec.called}@{callee.uri_host}:{spec.called_sip_port}"
        self.via_inv = (
            f"SIP/2.0/UDP {caller.uri_host}:{spec.caller_sip_port};branch={self.branch_inv};rport"
        )

    def _send(self, t_us: int, from_caller: bool, payload: bytes) -> None:
        spec = self.spec
        src, dst = (self.caller, self.callee) if from_caller else (self.callee, self.caller)
        sport, dport = (
            (spec.caller_sip_port, spec.called_sip_port)
            if from_caller
            else (spec.called_sip_port, spec.caller_sip_port)
        )
        ip_id = self.ip_ids[from_caller]
        self.ip_ids[from_caller] = (ip_id + 1) & 0xFFFF
        self.packets.append(Packet(t_us, _dpkt_udp_frame(src, dst, sport, dport, payload, ip_id)))

    def invite(self, t_us: int) -> None:
        spec = self.spec
        headers = [
            ("Via", self.via_inv),
            ("Max-Forwards", "70"),
            ("From", self.from_hdr),
            ("To", self.to_hdr),
            ("Call-ID", spec.call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<{self.caller_contact}>"),
        ]
        if spec.user_agent:
            headers.append(("User-Agent", spec.user_agent))
        headers.append(("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
        headers.extend(spec.extra_headers.items())
        headers.append(("Content-Type", "application/sdp"))
        body = _sdp(self.caller, spec.caller_rtp_port, spec.codec, self.session_id)
        self._send(t_us, True, _sip_bytes(f"INVITE {self.to_uri} SIP/2.0", headers, body))

    def response(
        self,
        t_us: int,
        code: int,
        reason: str,
        *,
        cseq: str = "1 INVITE",
        tagged: bool = True,
        contact: bool = True,
        sdp: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        spec = self.spec
        headers = [
            ("Via", self.via_inv),
            ("From", self.from_hdr),
            ("To", self.to_hdr_tagged if tagged else self.to_hdr),
            ("Call-ID", spec.call_id),
            ("CSeq", cseq),
        ]
        if contact:
            headers.append(("Contact", f"<{self.callee_contact}>"))
        if spec.server:
            headers.append(("Server", spec.server))
        if extra:
            headers.extend(extra.items())
        body = ""
        if sdp:
            headers.append(("Content-Type", "application/sdp"))
            body = _sdp(self.callee, spec.called_rtp_port, spec.codec, self.session_id + 1)
        self._send(t_us, False, _sip_bytes(f"SIP/2.0 {code} {reason}", headers, body))

    def ack(self, t_us: int, *, for_2xx: bool) -> None:
        spec = self.spec
        if for_2xx:  # a new transaction to the callee's Contact
            ruri = self.callee_contact
            via = f"SIP/2.0/UDP {self.caller.uri_host}:{spec.caller_sip_port};branch={self.branch_ack};rport"
        else:  # part of the INVITE transaction: same branch, same Request-URI
            ruri, via = self.to_uri, self.via_inv
        headers = [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("From", self.from_hdr),
            ("To", self.to_hdr_tagged),
            ("Call-ID", spec.call_id),
            ("CSeq", "1 ACK"),
        ]
        if for_2xx:
            headers.append(("Contact", f"<{self.caller_contact}>"))
        self._send(t_us, True, _sip_bytes(f"ACK {ruri} SIP/2.0", headers))

    def cancel(self, t_us: int) -> None:
        spec = self.spec
        headers = [
            ("Via", self.via_inv),
            ("Max-Forwards", "70"),
            ("From", self.from_hdr),
            ("To", self.to_hdr),
            ("Call-ID", spec.call_id),
            ("CSeq", "1 CANCEL"),
        ]
        self._send(t_us, True, _sip_bytes(f"CANCEL {self.to_uri} SIP/2.0", headers))

    def bye(self, t_us: int, t_ok_us: int, *, by_caller: bool) -> None:
        spec = self.spec
        if by_caller:
            via = f"SIP/2.0/UDP {self.caller.uri_host}:{spec.caller_sip_port};branch={self.branch_bye};rport"
            ruri, frm, to, cseq = self.callee_contact, self.from_hdr, self.to_hdr_tagged, "2 BYE"
        else:
            via = f"SIP/2.0/UDP {self.callee.uri_host}:{spec.called_sip_port};branch={self.branch_bye};rport"
            display = _quote_display(spec.callername) + " " if spec.callername else ""
            ruri = self.caller_contact
            frm = f"<{self.to_uri}>;tag={self.to_tag}"
            to = f"{display}<{self.from_uri}>;tag={self.from_tag}"
            cseq = "1 BYE"
        headers = [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("From", frm),
            ("To", to),
            ("Call-ID", spec.call_id),
            ("CSeq", cseq),
        ]
        if by_caller and spec.user_agent:
            headers.append(("User-Agent", spec.user_agent))
        self._send(t_us, by_caller, _sip_bytes(f"BYE {ruri} SIP/2.0", headers))
        ok = [h for h in headers if h[0] not in ("Max-Forwards", "User-Agent")]
        self._send(t_ok_us, not by_caller, _sip_bytes("SIP/2.0 200 OK", ok))


# ---------------------------------------------------------------------------
# RTP streams
# ---------------------------------------------------------------------------


@dataclass
class _StreamPlan:
    is_caller: bool
    src: _Host
    dst: _Host
    sport: int
    dport: int
    start_us: int  # first packet time, relative to the INVITE
    n_slots: int
    signal: SignalSpec
    loss_ratio: float
    dtmf: str


@dataclass
class _RawStats:
    ssrc: int
    sent: int
    received: int
    lost: int
    first_us: int  # relative to the INVITE; meaningful only if received > 0
    last_us: int
    dtmf: list[tuple[int, str]]  # (µs since INVITE, digit)


def _build_stream(
    plan: _StreamPlan, codec: int, rng: np.random.Generator, t0_us: int, signal_seed: int
) -> tuple[list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]], _StreamMedia, _RawStats]:
    """Frames (grouped by length), decodable media and raw stats of one RTP stream."""
    n = plan.n_slots
    ssrc = int(rng.integers(1, 2**32))
    seq0 = int(rng.integers(0, 65536))
    ts0 = int(rng.integers(0, 2**32))
    ip_id0 = int(rng.integers(0, 65536))
    slots = np.arange(n, dtype=np.int64)
    # Sender jitter: up to 0.3 ms late per packet; keeps packets strictly ordered.
    times = t0_us + plan.start_us + slots * _PACKET_US + rng.integers(0, 300, n)

    # Which slots carry telephone-event packets instead of audio.
    event_code = np.full(n, -1, dtype=np.int64)
    event_start = np.zeros(n, dtype=np.int64)
    event_k = np.zeros(n, dtype=np.int64)
    dtmf_log: list[tuple[int, str]] = []
    first_dtmf = min(50, max(n // 4, 1))  # 1 s into the stream, earlier for short calls
    for i, digit in enumerate(plan.dtmf.upper()):
        s = first_dtmf + i * (_DTMF_SLOTS + _DTMF_GAP_SLOTS)
        if s + _DTMF_SLOTS > n:
            break
        event_code[s : s + _DTMF_SLOTS] = DTMF_EVENT_CODES[digit]
        event_start[s : s + _DTMF_SLOTS] = s
        event_k[s : s + _DTMF_SLOTS] = np.arange(_DTMF_SLOTS)
        dtmf_log.append((s, digit))
    is_event = event_code >= 0

    # Seeded loss; the first and last packets always arrive so lost = sent - received.
    received = rng.random(n) >= plan.loss_ratio
    if n:
        received[0] = received[-1] = True

    pcm = plan.signal.render(n * SAMPLES_PER_PACKET, seed=signal_seed)
    codes = g711_encode(pcm, codec).reshape(n, SAMPLES_PER_PACKET)

    seq = seq0 + slots
    rtp_ts = ts0 + slots * SAMPLES_PER_PACKET
    ip_ids = ip_id0 + slots
    groups: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]] = []

    audio = received & ~is_event
    a_idx = np.flatnonzero(audio)
    if len(a_idx):
        hdr = _rtp_headers(a_idx == 0, codec, seq[a_idx], rtp_ts[a_idx], ssrc)
        payload = np.concatenate([hdr, codes[a_idx]], axis=1)
        frames = _udp_frames(plan.src, plan.dst, plan.sport, plan.dport, payload, ip_ids[a_idx])
        groups.append((times[a_idx], frames))

    e_idx = np.flatnonzero(received & is_event)
    if len(e_idx):
        k = event_k[e_idx]
        hdr = _rtp_headers(
            k == 0,
            TELEPHONE_EVENT_PT,
            seq[e_idx],
            ts0 + event_start[e_idx] * SAMPLES_PER_PACKET,
            ssrc,
        )
        end = k >= _DTMF_EVENT_PACKETS - 1
        duration = (np.minimum(k, _DTMF_EVENT_PACKETS - 1) + 1) * SAMPLES_PER_PACKET
        ev = np.empty((len(e_idx), 4), dtype=np.uint8)
        ev[:, 0] = event_code[e_idx]
        ev[:, 1] = (end.astype(np.uint8) << 7) | _DTMF_VOLUME
        ev[:, 2:4] = _be(duration, ">u2", 2)
        payload = np.concatenate([hdr, ev], axis=1)
        frames = _udp_frames(plan.src, plan.dst, plan.sport, plan.dport, payload, ip_ids[e_idx])
        groups.append((times[e_idx], frames))

    got = np.flatnonzero(received)
    media = _StreamMedia(
        start_sample=plan.start_us * SAMPLE_RATE // 1_000_000,
        slots=a_idx,
        codes=codes[a_idx],
        codec=codec,
    )
    stats = _RawStats(
        ssrc=ssrc,
        sent=n,
        received=len(got),
        # sequence gaps between the first and the last packet seen, like the sniffer
        lost=int(got[-1] - got[0] + 1 - len(got)) if len(got) else 0,
        first_us=int(times[got[0]]) - t0_us if len(got) else 0,
        last_us=int(times[got[-1]]) - t0_us if len(got) else 0,
        dtmf=[(int(times[s]) - t0_us, d) for s, d in dtmf_log],
    )
    return groups, media, stats


# ---------------------------------------------------------------------------
# The call
# ---------------------------------------------------------------------------


def _epoch_us(dt: datetime) -> int:
    """µs since the epoch; a naive ``dt`` is taken as UTC (the fixtures' sniffer TZ)."""
    if dt.tzinfo is not None:
        return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return calendar.timegm(dt.timetuple()) * 1_000_000 + dt.microsecond


def _rng_for(spec: CallSpec) -> np.random.Generator:
    # Mix the Call-ID in so two calls with the same seed still get distinct tags/SSRCs.
    return np.random.default_rng([spec.seed & 0xFFFFFFFF, zlib.crc32(spec.call_id.encode())])


def _build_streams(plans, spec, rng, t0, groups, media) -> list[tuple[_StreamPlan, _RawStats]]:
    """The packets of each planned stream (added to ``groups``/``media``); the streams that
    exist for the sniffer (something captured) with their raw statistics."""
    built: list[tuple[_StreamPlan, _RawStats]] = []
    for i, plan in enumerate(plans):
        g, m, st = _build_stream(plan, spec.codec, rng, t0, spec.seed * 2 + i)
        if st.received:  # a stream with nothing captured does not exist for the sniffer
            groups.extend(g)
            media.append(m)
            built.append((plan, st))
    return built


def _stream_stats(built, codec: int, t_end: int) -> list[StreamStats]:
    return [
        StreamStats(
            index=index,
            is_caller=plan.is_caller,
            saddr=str(plan.src.ip),
            sport=plan.sport,
            daddr=str(plan.dst.ip),
            dport=plan.dport,
            ssrc=st.ssrc,
            codec=codec,
            sent=st.sent,
            received=st.received,
            lost=st.lost,
            first_time=st.first_us / 1e6,
            duration=(st.last_us - st.first_us) / 1e6,
            last_rtp_from_end=(t_end - st.last_us) / 1e6,
            dtmf=[(t / 1e6, d) for t, d in st.dtmf],
        )
        for index, (plan, st) in enumerate(built)
    ]


def generate_call(spec: CallSpec) -> CallResult:
    """Build the SIP dialog and RTP of ``spec`` and measure it like the sniffer."""
    assert spec.final_code is not None
    rng = _rng_for(spec)
    caller, callee = _host(spec.caller_ip), _host(spec.called_ip)
    dialog = _Dialog(spec, rng, caller, callee)
    t0 = _epoch_us(spec.calldate)
    # Sub-millisecond variation of the signalling delays (µs); drawn up front so the
    # RTP random stream does not depend on which branch below runs.
    jitter = [int(x) for x in rng.integers(0, 1000, 8)]
    ring_us = round(spec.ring_s * 1_000_000)
    non_100: list[int] = []  # times of responses other than 100 (response_time_xxx)

    # Offsets below are µs after the INVITE; delays mimic the SIPp fixture calls.
    dialog.invite(t0)
    t_100 = 100 + jitter[0] // 10
    dialog.response(t0 + t_100, 100, "Trying", tagged=False)
    t_180: int | None = None
    early = spec.early_media and not spec.answered and ring_us > 0
    if ring_us > 0:
        t_180 = 1200 + jitter[1] // 5
        if early:
            dialog.response(t0 + t_180, 183, "Session Progress", sdp=True)
        else:
            dialog.response(t0 + t_180, 180, "Ringing")
        non_100.append(t_180)

    streams: list[StreamStats] = []
    media: list[_StreamMedia] = []
    groups: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]] = []
    t_connect: int | None = None
    t_bye: int | None = None
    flags = FLAG_TELEVENT_REQUEST | FLAG_SDP_AUDIO | FLAG_SAVE_FLAGS_VALID | FLAG_TRANSPORT_UDP

    if spec.answered:
        t_connect = max(ring_us, t_180 or t_100) + 7000 + jitter[2]
        dialog.response(
            t0 + t_connect, spec.final_code, spec.reason_phrase, sdp=True, extra=spec.final_headers
        )
        non_100.append(t_connect)
        t_ack = t_connect + 80 + jitter[3] // 25
        dialog.ack(t0 + t_ack, for_2xx=True)
        flags |= FLAG_TELEVENT_RESPONSE

        n_slots = round(spec.talk_s * 1000 / PTIME_MS)
        # The called side starts sending right after its 200 OK, the caller after its
        # ACK: the called stream is seen first and gets index 0 (as in the fixtures).
        plans = [
            _StreamPlan(
                is_caller=False,
                src=callee,
                dst=caller,
                sport=spec.called_rtp_port,
                dport=spec.caller_rtp_port,
                start_us=t_connect + 300 + jitter[4] // 2,
                n_slots=n_slots,
                signal=spec.called_signal,
                loss_ratio=spec.callee_loss_ratio,
                dtmf="",
            ),
            _StreamPlan(
                is_caller=True,
                src=caller,
                dst=callee,
                sport=spec.caller_rtp_port,
                dport=spec.called_rtp_port,
                start_us=t_ack + 900 + jitter[5] // 2,
                n_slots=n_slots,
                signal=spec.caller_signal,
                loss_ratio=spec.loss_ratio,
                dtmf=spec.dtmf,
            ),
        ]
        built = _build_streams(plans, spec, rng, t0, groups, media)
        last_rtp = max((st.last_us for _, st in built), default=t_ack)
        t_bye = last_rtp + 300_000 + jitter[6] * 30
        t_end = t_bye + 90 + jitter[7] // 20
        dialog.bye(t0 + t_bye, t0 + t_end, by_caller=spec.hangup_by == "caller")
        streams.extend(_stream_stats(built, spec.codec, t_end))
    elif spec.final_code == 487:
        # The caller gives up after ring_s: CANCEL, 200 to it, 487 to the INVITE, ACK.
        t_cancel = max(ring_us, t_180 or t_100) + 3700 + jitter[2] // 10
        dialog.cancel(t0 + t_cancel)
        dialog.response(t0 + t_cancel + 90, 200, "OK", cseq="1 CANCEL", contact=False)
        t_final = t_cancel + 1100 + jitter[3] // 10
        dialog.response(
            t0 + t_final, 487, spec.reason_phrase, contact=False, extra=spec.final_headers
        )
        non_100.append(t_cancel + 90)
        t_end = t_final + 25
        dialog.ack(t0 + t_end, for_2xx=False)
    else:
        # Rejected by the callee: after ringing, or straight after the 100 Trying.
        t_final = ring_us + 7000 + jitter[2] if ring_us > 0 else t_100 + 900 + jitter[2] // 10
        built = []
        if early and t_180 is not None:
            # The announcement: the called side's early media from its 183 until the final
            # response.
            plan = _StreamPlan(
                is_caller=False,
                src=callee,
                dst=caller,
                sport=spec.called_rtp_port,
                dport=spec.caller_rtp_port,
                start_us=t_180 + 300 + jitter[4] // 2,
                n_slots=max(1, (t_final - t_180 - 2000) // (PTIME_MS * 1000)),
                signal=spec.called_signal,
                loss_ratio=spec.callee_loss_ratio,
                dtmf="",
            )
            built = _build_streams([plan], spec, rng, t0, groups, media)
        dialog.response(t0 + t_final, spec.final_code, spec.reason_phrase, extra=spec.final_headers)
        non_100.append(t_final)
        t_end = t_final + 60
        dialog.ack(t0 + t_end, for_2xx=False)
        streams.extend(_stream_stats(built, spec.codec, t_end))

    # PDD: first 18x, else the 2xx; a rejection without 18x has none (fixture #7, #10).
    progress = t_180 if t_180 is not None else t_connect
    return CallResult(
        spec=spec,
        sip=PacketArray.from_packets(dialog.packets),
        rtp=PacketArray.from_frame_groups(groups),
        streams=streams,
        callend=spec.calldate + timedelta(microseconds=t_end),
        duration=t_end / 1e6,
        connect_duration=(t_end - t_connect) / 1e6 if t_connect is not None else None,
        progress_time=progress / 1e6 if progress is not None else None,
        first_rtp_time=min((s.first_time for s in streams), default=None),
        post_bye_delay=(t_end - t_bye) / 1e6 if t_bye is not None else None,
        response_time_100=min(t_100 // 1000, 65535),
        response_time_xxx=min(min(non_100) // 1000, 65535),
        last_sip_response_num=spec.final_code,
        last_sip_response=f"{spec.final_code} {spec.reason_phrase}",
        whohanged=spec.hangup_by if spec.answered else None,
        bye=3 if spec.answered else 0,
        sipcallerip=str(caller.ip),
        sipcallerport=spec.caller_sip_port,
        sipcalledip=str(callee.ip),
        sipcalledport=spec.called_sip_port,
        flags=flags,
        media=media,
    )
