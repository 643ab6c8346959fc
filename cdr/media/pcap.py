"""Streaming classic-pcap reading and time-ordered merging with bounded memory.

``PcapReader`` reads a libpcap stream (either byte order, µs or ns timestamps) block by block:
each ``Block`` is about a megabyte of whole records with numpy arrays of their offsets and
timestamps, so the per-packet work is one small Python step (finding the record boundary) and
everything else is vectorised. ``merge`` k-way merges several readers into one classic pcap
(little-endian, µs; what ``mergecap -F pcap`` writes): it only ever holds one block per input.
Within one input the packet order is kept as it is (like mergecap); inputs are interleaved by
timestamp, ties going to the earlier input.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from cdr.media.spool import MediaError

__all__ = [
    "LINKTYPE_ETHERNET",
    "Block",
    "PcapReader",
    "global_header",
    "merge",
    "network_layer",
    "udp_of",
]

LINKTYPE_ETHERNET: Final = 1
BLOCK_SIZE: Final = 1 << 18
# A record longer than this is corruption, not a packet (libpcap's own maximum snaplen).
MAX_CAPLEN: Final = 262144
_MAGIC_US: Final = 0xA1B2C3D4
_MAGIC_NS: Final = 0xA1B23C4D
_PCAPNG: Final = b"\x0a\x0d\x0d\x0a"
_HDR_IDX: Final = np.arange(16, dtype=np.int64)


def global_header(snaplen: int, linktype: int) -> bytes:
    """The 24-byte classic pcap header we write: little-endian, µs, version 2.4."""
    return struct.pack("<IHHiIII", _MAGIC_US, 2, 4, 0, 0, snaplen, linktype)


@dataclass
class Block:
    """Whole pcap records as stored, with numpy views of their layout.

    ``data[starts[i]:ends[i]]`` is record ``i`` (16-byte header + captured bytes) in the
    output format (little-endian µs); ``ts`` is its time in µs since the epoch.
    """

    data: bytes
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    ts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.starts)


class PcapReader:
    """Reads a classic pcap stream in blocks; the file header is read (and checked) at once."""

    def __init__(self, stream: BinaryIO, name: str = "pcap", block_size: int = BLOCK_SIZE):
        self.stream = stream
        self.name = name
        self.block_size = block_size
        head = stream.read(24)
        if len(head) < 24:
            raise MediaError(f"{name}: empty or truncated pcap file")
        if head[:4] == _PCAPNG:
            raise MediaError(f"{name}: pcapng is not supported (classic pcap expected)")
        magic_le = struct.unpack("<I", head[:4])[0]
        magic_be = struct.unpack(">I", head[:4])[0]
        if magic_le in (_MAGIC_US, _MAGIC_NS):
            self.order, magic = "<", magic_le
        elif magic_be in (_MAGIC_US, _MAGIC_NS):
            self.order, magic = ">", magic_be
        else:
            raise MediaError(f"{name}: not a pcap file")
        self.nanos = magic == _MAGIC_NS
        _, _, _, _, snaplen, linktype = struct.unpack(self.order + "HHiIII", head[4:])
        self.snaplen = snaplen or 65535
        self.linktype = linktype & 0x0FFFFFFF
        # Headers can be passed through untouched when they already are what we write.
        self._native = self.order == "<" and not self.nanos

    def blocks(self) -> Iterator[Block]:
        """Every record, grouped in blocks of about ``block_size`` bytes."""
        unpack = struct.Struct(self.order + "I").unpack_from
        pending = b""
        while True:
            chunk = self.stream.read(self.block_size)
            buf = pending + chunk if pending else chunk
            if not buf:
                return
            starts: list[int] = []
            runs: list[npt.NDArray[np.int64]] = []
            off, n = 0, len(buf)
            raw = np.frombuffer(buf, dtype=np.uint8)
            while off + 16 <= n:
                caplen = unpack(buf, off + 8)[0]
                if caplen > MAX_CAPLEN:
                    raise MediaError(f"{self.name}: corrupt pcap record (length {caplen})")
                end = off + 16 + caplen
                if end > n:
                    break
                starts.append(off)
                off = end
                # RTP streams are runs of equal-length records: find the whole run at once.
                if off + 16 <= n and unpack(buf, off + 8)[0] == caplen:
                    run = self._equal_run(raw, off, 16 + caplen, caplen)
                    if len(run):
                        if starts:
                            runs.append(np.asarray(starts, dtype=np.int64))
                            starts = []
                        runs.append(run)
                        off = int(run[-1]) + 16 + caplen
            pending = buf[off:]
            if starts:
                runs.append(np.asarray(starts, dtype=np.int64))
            if runs:
                yield self._block(buf[:off], np.concatenate(runs))
            if not chunk:
                return  # EOF: a cut last record (file still being written) is dropped

    def _equal_run(
        self, raw: npt.NDArray[np.uint8], off: int, size: int, caplen: int
    ) -> npt.NDArray[np.int64]:
        """Offsets of the consecutive records of ``size`` bytes starting at ``off``."""
        count = (len(raw) - off) // size
        cand = off + size * np.arange(count, dtype=np.int64)
        caps = raw[cand[:, None] + np.arange(8, 12)].view(self.order + "u4").reshape(-1)
        bad = np.flatnonzero(caps != caplen)
        return cand[: int(bad[0]) if len(bad) else count]

    def _block(self, buf: bytes, starts: npt.NDArray[np.int64]) -> Block:
        raw = np.frombuffer(buf, dtype=np.uint8)
        hdr = raw[starts[:, None] + _HDR_IDX].view(self.order + "u4").reshape(-1, 4)
        sec = hdr[:, 0].astype(np.int64)
        frac = hdr[:, 1].astype(np.int64)
        if self.nanos:
            frac //= 1000
        ts = sec * 1_000_000 + frac
        caplen = hdr[:, 2].astype(np.int64)
        ends = starts + 16 + caplen
        if not self._native:
            out = raw.copy()
            new = np.empty((len(starts), 4), dtype="<u4")
            new[:, 0] = sec
            new[:, 1] = frac
            new[:, 2] = caplen
            new[:, 3] = hdr[:, 3]
            out[starts[:, None] + _HDR_IDX] = new.view(np.uint8).reshape(-1, 16)
            buf = out.tobytes()
        return Block(buf, starts, ends, ts)

    def packets(self) -> Iterator[tuple[int, memoryview, int]]:
        """(time in µs, captured bytes, original length) of every packet."""
        for block in self.blocks():
            view = memoryview(block.data)
            wire = np.frombuffer(block.data, dtype=np.uint8)
            lens = wire[block.starts[:, None] + np.arange(12, 16)].view("<u4").reshape(-1)
            for ts, start, end, wirelen in zip(
                block.ts.tolist(),
                block.starts.tolist(),
                block.ends.tolist(),
                lens.tolist(),
                strict=True,
            ):
                yield ts, view[start + 16 : end], wirelen


class _Input:
    """One merge input: the current block and how far it has been consumed."""

    def __init__(self, reader: PcapReader) -> None:
        self.blocks = reader.blocks()
        self.block: Block | None = None
        self.cur = 0

    def ready(self) -> bool:
        while self.block is None or self.cur >= len(self.block):
            self.block = next(self.blocks, None)
            self.cur = 0
            if self.block is None:
                return False
        return True

    def last_ts(self) -> int:
        assert self.block is not None
        return int(self.block.ts[-1])

    def count_upto(self, watermark: int) -> int:
        assert self.block is not None
        rest = self.block.ts[self.cur :]
        later = np.flatnonzero(rest > watermark)
        return int(later[0]) if len(later) else len(rest)

    def take(self, k: int) -> tuple[int, int]:
        """Consume ``k`` records; returns their (first, end) index range."""
        first = self.cur
        self.cur += k
        return first, self.cur

    def span(self, first: int, end: int) -> memoryview:
        assert self.block is not None
        lo = int(self.block.starts[first])
        hi = int(self.block.ends[end - 1])
        return memoryview(self.block.data)[lo:hi]


_VLAN_TPIDS: Final = (0x8100, 0x88A8, 0x9100)
_MPLS: Final = (0x8847, 0x8848)


def network_layer(frame: bytes | memoryview, linktype: int) -> tuple[int, int, int | None] | None:
    """(ethertype, offset of the network header, outer VLAN id) of a captured frame.

    Link types: Ethernet (VLAN/QinQ tags, MPLS labels), Linux cooked (SLL, SLL2), raw IP,
    BSD/OpenBSD loopback. None for anything else or a truncated frame.
    """
    vlan: int | None = None
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        ethertype, off = struct.unpack_from(">H", frame, 12)[0], 14
    elif linktype == 113:  # Linux cooked capture v1
        if len(frame) < 16:
            return None
        ethertype, off = struct.unpack_from(">H", frame, 14)[0], 16
    elif linktype == 276:  # Linux cooked capture v2
        if len(frame) < 20:
            return None
        ethertype, off = struct.unpack_from(">H", frame, 0)[0], 20
    elif linktype in (12, 14, 101, 228, 229):  # raw IP
        if not len(frame):
            return None
        return (0x86DD if frame[0] >> 4 == 6 else 0x0800), 0, None
    elif linktype in (0, 108):  # BSD loopback / OpenBSD loop: 4-byte address family
        if len(frame) < 5:
            return None
        return (0x86DD if frame[4] >> 4 == 6 else 0x0800), 4, None
    else:
        return None
    while ethertype in _VLAN_TPIDS and len(frame) >= off + 4:
        if vlan is None:
            vlan = struct.unpack_from(">H", frame, off)[0] & 0x0FFF
        ethertype = struct.unpack_from(">H", frame, off + 2)[0]
        off += 4
    if ethertype in _MPLS:  # pop labels to the bottom of the stack, then guess the version
        while len(frame) >= off + 4:
            bottom = frame[off + 2] & 0x01
            off += 4
            if bottom:
                break
        if len(frame) <= off:
            return None
        ethertype = 0x86DD if frame[off] >> 4 == 6 else 0x0800
    return ethertype, off, vlan


def udp_of(
    frame: memoryview | bytes, linktype: int, *, tcp: bool = False
) -> tuple[bytes, int, bytes, int, memoryview] | None:
    """(source IP bytes, source port, destination IP bytes, destination port, payload).

    Link layers as ``network_layer``. Anything that is not the first fragment of a UDP datagram (or, with ``tcp``, a TCP
    segment) over IPv4/IPv6 gives None.
    """
    protocols = (17, 6) if tcp else (17,)
    view = memoryview(frame)
    net = network_layer(view, linktype)
    if net is None:
        return None
    ethertype, off, _vlan = net
    if ethertype == 0x0800:
        if len(view) < off + 20 or view[off + 9] not in protocols:
            return None
        proto = view[off + 9]
        ihl = (view[off] & 0x0F) * 4
        if int.from_bytes(view[off + 6 : off + 8], "big") & 0x1FFF:
            return None  # a later fragment: no UDP header here
        total = int.from_bytes(view[off + 2 : off + 4], "big")
        src, dst = bytes(view[off + 12 : off + 16]), bytes(view[off + 16 : off + 20])
        end = off + total if total else len(view)
        off += ihl
    elif ethertype == 0x86DD:
        if len(view) < off + 40:
            return None
        nxt = view[off + 6]
        plen = int.from_bytes(view[off + 4 : off + 6], "big")
        src, dst = bytes(view[off + 8 : off + 24]), bytes(view[off + 24 : off + 40])
        end = off + 40 + plen if plen else len(view)
        off += 40
        while nxt in (0, 43, 60) and len(view) >= off + 8:  # hop-by-hop, routing, dest opts
            nxt, off = view[off], off + 8 + view[off + 1] * 8
        if nxt == 44:  # fragment header: only a first fragment carries the UDP header
            if len(view) < off + 8 or int.from_bytes(view[off + 2 : off + 4], "big") & 0xFFF8:
                return None
            nxt, off = view[off], off + 8
        if nxt not in protocols:
            return None
        proto = nxt
    else:
        return None
    if len(view) < off + 8:
        return None
    sport = int.from_bytes(view[off : off + 2], "big")
    dport = int.from_bytes(view[off + 2 : off + 4], "big")
    header = 8
    if proto == 6:
        if len(view) < off + 20:
            return None
        header = (view[off + 12] >> 4) * 4
    return src, sport, dst, dport, view[off + header : min(end, len(view))]


def merge(readers: Iterable[PcapReader]) -> Iterator[bytes]:
    """One classic pcap with every packet of ``readers`` in time order (streamed).

    Inputs must share the link type (the sniffer writes Ethernet); the snaplen is the largest.
    """
    readers = list(readers)
    if not readers:
        raise MediaError("no pcap to merge")
    linktypes = {r.linktype for r in readers}
    if len(linktypes) > 1:
        raise MediaError(
            "the call's pcaps have different link types; they cannot be merged into one "
            "classic pcap (ask for a ZIP instead)"
        )
    yield global_header(max(r.snaplen for r in readers), readers[0].linktype)
    inputs = [_Input(r) for r in readers]
    while True:
        active = [i for i in inputs if i.ready()]
        if not active:
            return
        if len(active) == 1:
            only = active[0]
            assert only.block is not None
            yield only.span(*only.take(len(only.block) - only.cur))
            continue
        # Everything up to the smallest "last timestamp of the current block" can be written:
        # no later block of any input can hold an earlier packet (inputs are in time order).
        lows = [i.last_ts() for i in active]
        watermark = min(lows)
        leader = lows.index(watermark)
        taken: list[tuple[_Input, int, int]] = []
        for n, inp in enumerate(active):
            assert inp.block is not None
            k = len(inp.block) - inp.cur if n == leader else inp.count_upto(watermark)
            if k:
                taken.append((inp, *inp.take(k)))
        if len(taken) == 1:
            inp, first, end = taken[0]
            yield inp.span(first, end)
            continue
        yield _interleave(taken)


def _interleave(taken: list[tuple[_Input, int, int]]) -> bytes:
    """Records of several inputs ordered by time (stable: ties keep input order)."""
    ts = np.concatenate([inp.block.ts[a:b] for inp, a, b in taken])  # type: ignore[union-attr]
    src = np.concatenate([np.full(b - a, n, dtype=np.int64) for n, (_, a, b) in enumerate(taken)])
    starts = np.concatenate([inp.block.starts[a:b] for inp, a, b in taken])  # type: ignore[union-attr]
    ends = np.concatenate([inp.block.ends[a:b] for inp, a, b in taken])  # type: ignore[union-attr]
    order = np.argsort(ts, kind="stable")
    sizes = ends - starts
    if len(sizes) and (sizes == sizes[0]).all():
        # All records the same size (RTP legs): reorder whole rows, no per-record Python.
        size = int(sizes[0])
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))  # output row of each input record
        out = np.empty((len(order), size), dtype=np.uint8)
        first = 0
        for inp, a, b in taken:
            out[rank[first : first + b - a]] = np.frombuffer(
                inp.span(a, b), dtype=np.uint8
            ).reshape(-1, size)
            first += b - a
        return out.tobytes()
    src, starts, ends = src[order], starts[order], ends[order]
    # Join adjacent records that continue a run in the same buffer: one slice per run.
    cont = np.empty(len(src), dtype=bool)
    cont[0] = False
    cont[1:] = (src[1:] == src[:-1]) & (starts[1:] == ends[:-1])
    heads = np.flatnonzero(~cont)
    tails = np.append(heads[1:], len(src)) - 1
    views = [memoryview(inp.block.data) for inp, _, _ in taken]  # type: ignore[union-attr]
    return b"".join(
        [
            views[s][a:b]
            for s, a, b in zip(
                src[heads].tolist(), starts[heads].tolist(), ends[tails].tolist(), strict=True
            )
        ]
    )
