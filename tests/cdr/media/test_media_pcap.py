"""cdr.media.pcap: streaming classic-pcap reading and time-ordered merging (bounded memory)."""

from __future__ import annotations

import datetime as dt
import io
import struct
import subprocess
import tracemalloc
from pathlib import Path

import dpkt
import numpy as np
import pytest

from cdr.demo.pcapgen import generate_call
from cdr.media.pcap import PcapReader, merge, udp_of
from cdr.media.spool import MediaError
from tests.cdr.media.test_media_support import tone_spec

T0 = dt.datetime(2026, 11, 27, 10, 15, 7, 250000)


def build_pcap(
    records, *, big_endian: bool = False, nanos: bool = False, linktype: int = 1
) -> bytes:
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = bytearray(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype))
    for ts_us, frame in records:
        frac = ts_us % 1_000_000 * (1000 if nanos else 1)
        out += struct.pack(order + "IIII", ts_us // 1_000_000, frac, len(frame), len(frame))
        out += frame
    return bytes(out)


def read_all(data: bytes) -> list[tuple[float, bytes]]:
    return list(dpkt.pcap.Reader(io.BytesIO(data)))


def test_it_reads_either_byte_order_and_nanosecond_files() -> None:
    records = [(1_795_752_698_915_298, b"\x01" * 60), (1_795_752_698_915_999, b"\x02" * 61)]
    expected = build_pcap(records)
    for be in (False, True):
        for ns in (False, True):
            data = build_pcap(records, big_endian=be, nanos=ns)
            out = b"".join(merge([PcapReader(io.BytesIO(data))]))
            assert out[24:] == expected[24:], (be, ns)
            assert out[:4] == b"\xd4\xc3\xb2\xa1"  # little-endian µs, whatever came in


def test_it_refuses_pcapng_and_garbage_and_drops_a_cut_last_record() -> None:
    with pytest.raises(MediaError, match="pcapng"):
        PcapReader(io.BytesIO(b"\x0a\x0d\x0d\x0a" + b"\0" * 40))
    with pytest.raises(MediaError, match="not a pcap"):
        PcapReader(io.BytesIO(b"hello world, this is not a capture"))
    with pytest.raises(MediaError, match="truncated"):
        PcapReader(io.BytesIO(b"\xd4\xc3\xb2\xa1"))
    data = build_pcap([(1_000_000, b"a" * 50), (2_000_000, b"b" * 50)])
    cut = list(PcapReader(io.BytesIO(data[:-10])).packets())
    assert [(ts, bytes(f)) for ts, f, _ in cut] == [(1_000_000, b"a" * 50)]
    bad = build_pcap([(1, b"x")])[:24] + struct.pack("<IIII", 0, 0, 10_000_000, 10)
    with pytest.raises(MediaError, match="corrupt"):
        list(PcapReader(io.BytesIO(bad)).blocks())


def test_it_merges_two_legs_in_time_order() -> None:
    a = generate_call(tone_spec("leg-a@demo", T0, talk_s=6.0))
    b = generate_call(
        tone_spec("leg-b@demo", T0 + dt.timedelta(milliseconds=7), talk_s=6.0, seed=3)
    )
    inputs = [a.sip.pcap_bytes(), a.rtp.pcap_bytes(), b.sip.pcap_bytes(), b.rtp.pcap_bytes()]
    # tiny blocks: many merge rounds, records split across block boundaries
    readers = [PcapReader(io.BytesIO(d), block_size=4096) for d in inputs]
    out = b"".join(merge(readers))
    merged = read_all(out)
    everything = [p for d in inputs for p in read_all(d)]
    assert len(merged) == len(everything) == len(a.sip) + len(a.rtp) + len(b.sip) + len(b.rtp)
    assert [ts for ts, _ in merged] == sorted(ts for ts, _ in everything)
    assert sorted(f for _, f in merged) == sorted(f for _, f in everything)
    reader = dpkt.pcap.Reader(io.BytesIO(out))
    assert reader.datalink() == 1 and reader.snaplen == 10000


def test_it_merges_exactly_like_mergecap(tmp_path: Path) -> None:
    a = generate_call(tone_spec("mc-a@demo", T0, talk_s=3.0))
    b = generate_call(tone_spec("mc-b@demo", T0 + dt.timedelta(milliseconds=3), seed=5))
    paths = []
    for name, data in (("a.pcap", a.rtp.pcap_bytes()), ("b.pcap", b.rtp.pcap_bytes())):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    subprocess.run(
        ["mergecap", "-F", "pcap", "-w", str(tmp_path / "mc.pcap"), *map(str, paths)], check=True
    )
    ours = b"".join(merge([PcapReader(open(p, "rb")) for p in paths]))  # noqa: SIM115
    assert ours[24:] == (tmp_path / "mc.pcap").read_bytes()[24:]


def _synthetic(path: Path, n: int, t0: int, step: int) -> None:
    """``n`` 214-byte RTP-sized records every ``step`` µs, written with numpy."""
    rec = np.zeros((n, 16 + 214), dtype=np.uint8)
    ts = t0 + np.arange(n, dtype=np.int64) * step
    hdr = np.empty((n, 4), dtype="<u4")
    hdr[:, 0], hdr[:, 1], hdr[:, 2], hdr[:, 3] = ts // 1_000_000, ts % 1_000_000, 214, 214
    rec[:, :16] = hdr.view(np.uint8).reshape(n, 16)
    rec[:, 16:] = (np.arange(n) % 251).astype(np.uint8)[:, None]
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 10000, 1))
        fh.write(rec.tobytes())


def test_it_merges_large_files_with_bounded_memory(tmp_path: Path) -> None:
    n = 60_000  # ~14 MB per input
    _synthetic(tmp_path / "a.pcap", n, 1_000_000_000_000, 20_000)
    _synthetic(tmp_path / "b.pcap", n, 1_000_000_000_007, 20_000)
    tracemalloc.start()
    total = count = 0
    last = -1
    with open(tmp_path / "a.pcap", "rb") as fa, open(tmp_path / "b.pcap", "rb") as fb:
        for chunk in merge([PcapReader(fa), PcapReader(fb)]):
            total += len(chunk)
            count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == 24 + 2 * n * 230 and count > 10 and last == -1
    assert peak < 24 << 20, peak  # a few blocks, never the ~28 MB of input


def test_it_finds_udp_in_every_link_type() -> None:
    udp = dpkt.udp.UDP(sport=5060, dport=5062, data=b"hello")
    udp.ulen = 13
    ip = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=udp)
    ip.len = 20 + 13
    raw = bytes(ip)
    vlan = b"\x00" * 12 + b"\x81\x00\x00\x05\x08\x00" + raw
    sll = b"\x00" * 14 + b"\x08\x00" + raw
    for frame, lt in ((vlan, 1), (sll, 113), (raw, 101), (b"\x02\0\0\0" + raw, 0)):
        src, sport, dst, dport, payload = udp_of(frame, lt)
        assert (src, sport, dst, dport, bytes(payload)) == (
            b"\x0a\0\0\x01",
            5060,
            b"\x0a\0\0\x02",
            5062,
            b"hello",
        )
    assert udp_of(raw, 999) is None
