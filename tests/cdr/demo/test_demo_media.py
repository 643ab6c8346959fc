"""Demo media generator: G.711 codecs, signals, SIP/RTP pcaps and the spool writer.

No Django needed (run with ``-p no:django``). The spool is checked by reading it
back with a small, independent reader defined here (ustar parser, ``#n`` member
reassembly, ``cdr_tar_part`` offsets, LZO chunk framing, streaming zstd, gzip).
The same reader is run on the real sniffer's ``spool_live`` fixture, which shows
the generated spool uses the real sniffer's format.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import socket
import struct
import tarfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import dpkt
import lzallright
import numpy as np
import pytest
import soundfile
import zstandard

from cdr.demo import signals
from cdr.demo.pcapgen import (
    TELEPHONE_EVENT_PT,
    CallResult,
    CallSpec,
    Packet,
    PacketArray,
    generate_call,
)
from cdr.demo.signals import SignalSpec
from cdr.demo.spoolwriter import (
    RTP_TAR_CHUNK,
    SpoolWriter,
    _lzo_block_bounds,
    sanitize_basename,
    tar_member_name,
    ustar_header,
)
from cdr.flags import (
    FLAG_AUDIO,
    FLAG_RTP_PAYLOAD,
    FLAG_RTP_PCAP,
    FLAG_SAVE_FLAGS_VALID,
    FLAG_SIP_PCAP,
)
from cdr.media import codecs
from tests.conftest import FIXTURE_DIR, safe_extract

FIXTURES = FIXTURE_DIR
RATE = 8000

# ---------------------------------------------------------------------------
# Test-side spool reader (deliberately independent of cdr.demo.spoolwriter)
# ---------------------------------------------------------------------------

_PART = re.compile(r"#\d+$")


def parse_tar_header(block: bytes) -> tuple[str, int]:
    """Name and size of a ustar header block; checks the checksum."""
    stored = int(block[148:156].replace(b"\0", b" ").strip() or b"0", 8)
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
    assert stored == computed, "bad tar header checksum"
    assert block[257:263] == b"ustar\0"
    name = block[:100].split(b"\0", 1)[0].decode()
    size = int(block[124:136].replace(b"\0", b" ").strip() or b"0", 8)
    return name, size


def iter_tar(fh: BinaryIO) -> Iterator[tuple[int, str, bytes]]:
    """(header offset, member name, data) for each member of an uncompressed tar stream.

    Tolerates a missing end-of-archive (an open sniffer tar has none).
    """
    pos = 0
    while True:
        block = fh.read(512)
        if len(block) < 512 or block == b"\0" * 512:
            return
        name, size = parse_tar_header(block)
        data = fh.read(size)
        fh.read(-size % 512)
        yield pos, name, data
        pos += 512 + size + (-size % 512)


def read_member_at(fh: BinaryIO, pos: int) -> tuple[str, bytes]:
    """Seek to a ``cdr_tar_part.pos`` and read that member."""
    fh.seek(pos)
    name, size = parse_tar_header(fh.read(512))
    return name, fh.read(size)


def reassemble(members: list[tuple[str, bytes]], target: str) -> bytes:
    """Concatenate ``target``'s parts in archive order, stopping at the unsuffixed one."""
    out = bytearray()
    for name, data in members:
        if _PART.sub("", name) != target:
            continue
        out += data
        if name == target:
            return bytes(out)
    raise AssertionError(f"no final member {target!r}")


def unlzo(data: bytes) -> bytes:
    """The sniffer's LZO file framing: 'LZO', then (u32 size, u32 csize, LZO1X block)*."""
    assert data[:3] == b"LZO"
    lzo = lzallright.LZOCompressor()
    out = bytearray()
    pos = 3
    while pos < len(data):
        size, csize = struct.unpack_from("<II", data, pos)
        pos += 8
        block = lzo.decompress(data[pos : pos + csize], output_size_hint=size)
        assert len(block) == size
        out += block
        pos += csize
    assert pos == len(data)
    return bytes(out)


def unwrap(data: bytes) -> bytes:
    """Per-file compression by magic (spool §4)."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return (
            zstandard.ZstdDecompressor()
            .stream_reader(io.BytesIO(data), read_across_frames=True)
            .read()
        )
    if data[:3] == b"LZO":
        return unlzo(data)
    return data


def zst_tar_members(path: Path) -> list[tuple[int, str, bytes]]:
    """Members of a .tar.zst, streamed (an open sniffer frame may have no end marker)."""
    with open(path, "rb") as fh:
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        return list(iter_tar(reader))


def pcap_packets(data: bytes) -> tuple[dpkt.pcap.Reader, list[tuple[float, bytes]]]:
    reader = dpkt.pcap.Reader(io.BytesIO(data))
    return reader, list(reader)


def _ip_str(ip: dpkt.Packet) -> str:
    family = socket.AF_INET6 if isinstance(ip, dpkt.ip6.IP6) else socket.AF_INET
    return socket.inet_ntop(family, ip.src)


def rtp_by_stream(data: bytes) -> dict[tuple[str, int], list[tuple[float, dpkt.rtp.RTP]]]:
    """RTP packets of a pcap grouped by (source IP, source port)."""
    _, packets = pcap_packets(data)
    streams: dict[tuple[str, int], list[tuple[float, dpkt.rtp.RTP]]] = defaultdict(list)
    for ts, frame in packets:
        ip = dpkt.ethernet.Ethernet(frame).data
        udp = ip.data
        streams[(_ip_str(ip), udp.sport)].append((ts, dpkt.rtp.RTP(udp.data)))
    return streams


def sip_messages(data: bytes) -> list[tuple[float, str, str]]:
    """(time, source IP, text) of each SIP packet in a pcap."""
    _, packets = pcap_packets(data)
    out = []
    for ts, frame in packets:
        ip = dpkt.ethernet.Ethernet(frame).data
        out.append((ts, _ip_str(ip), ip.data.data.decode()))
    return out


def first_lines(msgs: list[tuple[float, str, str]]) -> list[str]:
    """INVITE / 100 / 180 / ... labels of a dialog."""
    labels = []
    for _, _, text in msgs:
        line = text.split("\r\n", 1)[0]
        labels.append(line.split()[1] if line.startswith("SIP/2.0") else line.split()[0])
    return labels


def header(text: str, name: str) -> str | None:
    m = re.search(rf"^{re.escape(name)}: (.*)$", text, re.M | re.I)
    return m.group(1).strip("\r") if m else None


def dominant_freq(x: np.ndarray, rate: int = RATE) -> float:
    x = x.astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)])


def audio_of(stream: list[tuple[float, dpkt.rtp.RTP]], codec: int) -> np.ndarray:
    payload = b"".join(r.data for _, r in stream if r.pt == codec)
    return codecs.g711_decode(payload, codec)


# ---------------------------------------------------------------------------
# G.711
# ---------------------------------------------------------------------------


def _itu_ulaw_compress(x: int) -> int:
    """Scalar transcription of ITU-T G.191 ulaw_compress(), for cross-checking."""
    absno = ((~x) >> 2) + 33 if x < 0 else (x >> 2) + 33
    absno = min(absno, 0x1FFF)
    i, segno = absno >> 6, 1
    while i:
        segno += 1
        i >>= 1
    out = ((8 - segno) << 4) | (0x0F - ((absno >> segno) & 0x0F))
    return out | 0x80 if x >= 0 else out


def _itu_alaw_compress(x: int) -> int:
    """Scalar transcription of ITU-T G.191 alaw_compress()."""
    ix = (~x) >> 4 if x < 0 else x >> 4
    if ix > 15:
        iexp = 1
        while ix > 16 + 15:
            ix >>= 1
            iexp += 1
        ix = ix - 16 + (iexp << 4)
    if x >= 0:
        ix |= 0x80
    return ix ^ 0x55


def test_it_decodes_well_known_g711_values() -> None:
    assert codecs.ulaw_decode(b"\xff\x00\x80\x7f\xfe\x01").tolist() == [
        0,
        -32124,
        32124,
        0,
        8,
        -31100,
    ]
    assert codecs.alaw_decode(b"\xd5\x55\xaa\x2a\xd4\x54").tolist() == [
        8,
        -8,
        32256,
        -32256,
        24,
        -24,
    ]
    assert codecs.ULAW_DECODE_TABLE.dtype == np.int16 and codecs.ULAW_DECODE_TABLE.shape == (256,)
    assert codecs.g711_decode(bytes([0xFF, 0xD5]), 8).tolist() == [848, 8]


def test_it_encodes_well_known_g711_values() -> None:
    samples = np.array([0, -1, 32767, -32768, 8, -8, 1000, -1000], dtype=np.int16)
    assert codecs.ulaw_encode(samples).tolist() == [0xFF, 0x7F, 0x80, 0x00, 0xFE, 0x7E, 0xCE, 0x4E]
    assert codecs.alaw_encode(samples).tolist() == [0xD5, 0x55, 0xAA, 0x2A, 0xD5, 0x55, 0xFA, 0x7A]
    # ITU's one's complement for negatives: differs from the old Sun code (audioop) here
    assert codecs.ulaw_encode(np.array([-31612], np.int16)).tolist() == [0x01]
    assert codecs.g711_silence_byte(0) == 0xFF and codecs.g711_silence_byte(8) == 0xD5


def test_it_encodes_bit_exact_with_the_itu_reference_for_every_input() -> None:
    x = np.arange(-32768, 32768, dtype=np.int16)
    expected_u = np.array([_itu_ulaw_compress(v) for v in x.tolist()], dtype=np.uint8)
    expected_a = np.array([_itu_alaw_compress(v) for v in x.tolist()], dtype=np.uint8)
    assert np.array_equal(codecs.ulaw_encode(x), expected_u)
    assert np.array_equal(codecs.alaw_encode(x), expected_a)


def test_it_round_trips_every_g711_code() -> None:
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(codecs.alaw_encode(codecs.alaw_decode(codes)), codes)
    back = codecs.ulaw_encode(codecs.ulaw_decode(codes))
    # 0x7F is µ-law "negative zero": it decodes to 0, which encodes as 0xFF
    assert np.array_equal(np.delete(back, 0x7F), np.delete(codes, 0x7F)) and back[0x7F] == 0xFF


def test_it_round_trips_pcm_within_one_quantisation_step() -> None:
    x = signals.tone(1000, 8000, level_dbfs=-3)
    for codec in (0, 8):
        y = codecs.g711_decode(codecs.g711_encode(x, codec), codec).astype(np.int32)
        err = np.abs(y - x)
        # G.711 step is 1/16 of the segment: relative error stays below ~3.2 %
        assert np.all(err <= np.maximum(np.abs(x.astype(np.int32)) * 0.032, 16))
        snr = 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((y - x) ** 2))
        assert snr > 33  # ~35-38 dB is what G.711 gives a loud sine


def test_it_names_codecs_like_the_sniffer() -> None:
    assert codecs.CODEC_NAMES[0] == "G.711 ulaw"
    assert codecs.CODEC_NAMES[8] == "G.711 alaw"
    assert codecs.CODEC_NAMES[9] == "G.722"
    assert codecs.CODEC_NAMES[314] == "OPUS"
    assert codecs.CODEC_NAMES[400] == "TELEPHONE EVENT"
    assert codecs.codec_name(12345) == "UNKNOWN CODEC NUMBER"
    assert codecs.codec_sample_rate(0) == codecs.codec_sample_rate(8) == 8000
    assert codecs.codec_sample_rate(9) == 16000 and codecs.codec_sample_rate(316) == 48000
    assert set(codecs.CODEC_SAMPLE_RATES) == set(codecs.CODEC_NAMES)


# ---------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------


def test_it_generates_deterministic_audible_signals() -> None:
    a = signals.speech_like(8000 * 5, seed=3)
    assert a.dtype == np.int16 and len(a) == 40000
    assert np.array_equal(a, signals.speech_like(8000 * 5, seed=3))
    assert not np.array_equal(a, signals.speech_like(8000 * 5, seed=4))
    rms = np.sqrt(np.mean(a.astype(float) ** 2))
    assert 300 < rms < 8000 and np.abs(a).max() < 32767
    # syllables and pauses: the short-term energy must vary a lot
    frames = np.sqrt(np.mean(a.reshape(-1, 160).astype(float) ** 2, axis=1))
    assert frames.max() > 10 * np.percentile(frames, 10)
    # pitch: a male-ish f0 puts most energy below 1 kHz
    spec = np.abs(np.fft.rfft(a.astype(float))) ** 2
    f = np.fft.rfftfreq(len(a), 1 / RATE)
    assert spec[f < 1000].sum() > spec[f >= 1000].sum()
    t = signals.tone(697, 8000)
    assert dominant_freq(t) == pytest.approx(697, abs=2)
    assert SignalSpec(kind="silence").render(100).tolist() == [0] * 100


def test_it_generates_dtmf_digit_pairs() -> None:
    x = signals.dtmf_tones("5#", tone_ms=100, gap_ms=100)
    assert len(x) == 2 * 1600
    for i, (lo, hi) in enumerate([(770, 1336), (941, 1477)]):
        seg = x[i * 1600 : i * 1600 + 800].astype(float)
        spec = np.abs(np.fft.rfft(seg))
        f = np.fft.rfftfreq(len(seg), 1 / RATE)
        top = sorted(f[np.argsort(spec)[-2:]])
        assert top == [pytest.approx(lo, abs=10), pytest.approx(hi, abs=10)]
        assert not x[i * 1600 + 800 : (i + 1) * 1600].any()  # the gap is silent


# ---------------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------------

CALLDATE = datetime(2026, 11, 27, 4, 11, 38, 915000)
CALLDATE_EPOCH = CALLDATE.replace(tzinfo=UTC).timestamp()


def answered_spec(**overrides: object) -> CallSpec:
    values: dict[str, object] = dict(
        call_id="5e0f1a21d3c74a21@alpha.example.com",
        calldate=CALLDATE,
        caller="1021",
        callername="Demo Alice",
        caller_domain="alpha.example.com",
        called="2021",
        called_domain="beta.example.com",
        caller_ip="10.0.0.31",
        called_ip="10.0.0.41",
        caller_rtp_port=11000,
        called_rtp_port=21000,
        codec=0,
        ring_s=1.0,
        talk_s=6.0,
        extra_headers={"X-Custom-Header": "demo-21"},
        caller_signal=SignalSpec(kind="tone", freq=440.0, level_dbfs=-12),
        called_signal=SignalSpec(kind="tone", freq=1000.0, level_dbfs=-12),
        seed=21,
    )
    values.update(overrides)
    return CallSpec(**values)  # type: ignore[arg-type]


def test_it_builds_an_answered_dialog_in_order() -> None:
    spec = answered_spec(hangup_by="caller")
    result = generate_call(spec)
    msgs = sip_messages(result.sip.pcap_bytes())
    assert first_lines(msgs) == ["INVITE", "100", "180", "200", "ACK", "BYE", "200"]
    assert [ts for ts, _, _ in msgs] == sorted(ts for ts, _, _ in msgs)
    assert msgs[0][0] == pytest.approx(CALLDATE_EPOCH, abs=1e-6)  # naive calldate taken as UTC
    for _, _, text in msgs:
        assert header(text, "Call-ID") == spec.call_id
        assert text.endswith("\r\n\r\n") or "\r\n\r\nv=0" in text
    invite = msgs[0][2]
    assert invite.startswith("INVITE sip:2021@beta.example.com SIP/2.0\r\n")
    assert header(invite, "From").startswith('"Demo Alice" <sip:1021@alpha.example.com>;tag=')
    assert header(invite, "To") == "<sip:2021@beta.example.com>"
    assert header(invite, "CSeq") == "1 INVITE"
    assert header(invite, "X-Custom-Header") == "demo-21"
    assert header(invite, "User-Agent") and header(invite, "Max-Forwards") == "70"
    assert header(invite, "Content-Type") == "application/sdp"
    body = invite.split("\r\n\r\n", 1)[1]
    assert int(header(invite, "Content-Length")) == len(body.encode())
    assert "m=audio 11000 RTP/AVP 0 101\r\n" in body and "a=rtpmap:101 telephone-event/8000" in body
    ok = msgs[3][2]
    assert header(ok, "Server") and ";tag=" in header(ok, "To")
    assert "m=audio 21000 RTP/AVP 0 101" in ok and "c=IN IP4 10.0.0.41" in ok
    assert msgs[5][1] == "10.0.0.31" and header(msgs[5][2], "CSeq") == "2 BYE"
    # sniffer-style measurements
    assert result.progress_time == pytest.approx(0.0012, abs=0.0005)
    assert result.connect_duration == pytest.approx(spec.talk_s + 0.3, abs=0.06)
    assert result.duration == pytest.approx(result.connect_duration + 1.0, abs=0.01)
    assert result.first_rtp_time == pytest.approx(1.008, abs=0.002)
    assert result.whohanged == "caller" and result.bye == 3
    assert result.last_sip_response == "200 OK" and result.last_sip_response_num == 200
    assert (result.b_index, result.a_index) == (0, 1)  # called stream starts first
    assert result.a_saddr == "10.0.0.31" and result.b_saddr == "10.0.0.41"
    assert result.a_port == 11000 and result.b_port == 21000
    assert result.a_received == result.b_received == 300
    assert result.a_lost == result.b_lost == 0
    assert result.callend == CALLDATE + timedelta(seconds=round(msgs[-1][0] - msgs[0][0], 6))


def test_it_lets_the_callee_hang_up() -> None:
    result = generate_call(answered_spec(hangup_by="callee"))
    msgs = sip_messages(result.sip.pcap_bytes())
    assert first_lines(msgs)[-2:] == ["BYE", "200"]
    bye = msgs[-2]
    assert bye[1] == "10.0.0.41" and bye[2].startswith("BYE sip:1021@10.0.0.31:5060 SIP/2.0")
    assert header(bye[2], "From").startswith("<sip:2021@beta.example.com>;tag=")
    assert result.whohanged == "callee"


@pytest.mark.parametrize(
    ("code", "ring_s", "labels", "progress"),
    [
        (486, 2.0, ["INVITE", "100", "180", "486", "ACK"], True),
        (487, 4.0, ["INVITE", "100", "180", "CANCEL", "200", "487", "ACK"], True),
        (503, 0.0, ["INVITE", "100", "503", "ACK"], False),
        (404, 0.0, ["INVITE", "100", "404", "ACK"], False),
        (480, 6.0, ["INVITE", "100", "180", "480", "ACK"], True),
    ],
)
def test_it_builds_failed_dialogs(
    code: int, ring_s: float, labels: list[str], progress: bool
) -> None:
    spec = answered_spec(
        answered=False,
        final_code=code,
        ring_s=ring_s,
        final_headers={"Reason": 'Q.850;cause=17;text="User busy"'} if code == 486 else {},
    )
    result = generate_call(spec)
    msgs = sip_messages(result.sip.pcap_bytes())
    assert first_lines(msgs) == labels
    assert all(header(t, "Call-ID") == spec.call_id for _, _, t in msgs)
    assert len(result.rtp) == 0 and result.streams == [] and not result.has_audio
    assert result.connect_duration is None and result.first_rtp_time is None
    assert result.whohanged is None and result.bye == 0
    assert result.last_sip_response_num == code
    assert result.duration == pytest.approx(ring_s, abs=0.01)
    assert (result.progress_time is not None) == progress
    final = next(t for _, _, t in msgs if t.startswith(f"SIP/2.0 {code}"))
    if code == 486:
        assert header(final, "Reason") == 'Q.850;cause=17;text="User busy"'
    ack = msgs[-1][2]
    assert header(ack, "CSeq") == "1 ACK" and header(ack, "Via") == header(msgs[0][2], "Via")
    assert result.file_flags() == FLAG_SAVE_FLAGS_VALID | FLAG_SIP_PCAP


def test_it_builds_rtp_with_correct_headers_and_checksums() -> None:
    spec = answered_spec(codec=8, talk_s=2.0)
    result = generate_call(spec)
    streams = rtp_by_stream(result.rtp.pcap_bytes())
    assert set(streams) == {("10.0.0.31", 11000), ("10.0.0.41", 21000)}
    for (_src, _), packets in streams.items():
        rtps = [r for _, r in packets]
        assert len(rtps) == 100
        assert {r.version for r in rtps} == {2} and {r.pt for r in rtps} == {8}
        assert len({r.ssrc for r in rtps}) == 1
        assert rtps[0].m == 1 and not any(r.m for r in rtps[1:])
        assert all(len(r.data) == 160 for r in rtps)
        assert np.all(np.diff([r.seq for r in rtps]) % 65536 == 1)
        assert np.all(np.diff([r.ts for r in rtps]) % 2**32 == 160)
        gaps = np.diff([ts for ts, _ in packets])
        assert np.all((gaps > 0.0195) & (gaps < 0.0205))
    # every frame equals what dpkt builds when asked to compute the checksums itself
    for packet in result.rtp:
        eth = dpkt.ethernet.Ethernet(packet.data)
        ip = eth.data
        assert ip.ttl == 64 and ip.df
        ip.sum = 0
        ip.data.sum = 0
        assert bytes(eth) == packet.data


def test_it_sends_rfc2833_events_and_counts_loss_like_the_sniffer() -> None:
    spec = answered_spec(talk_s=8.0, dtmf="19#", loss_ratio=0.05, seed=9)
    result = generate_call(spec)
    a = result.a
    assert a is not None and a.is_caller
    assert a.sent == 400 and a.received + a.lost == 400 and a.lost > 5
    assert result.a_received == a.received and result.b_lost == 0
    streams = rtp_by_stream(result.rtp.pcap_bytes())
    caller = streams[("10.0.0.31", 11000)]
    assert len(caller) == a.received
    seqs = [r.seq for _, r in caller]
    assert (seqs[-1] - seqs[0]) % 65536 + 1 - len(seqs) == a.lost
    events = [r for _, r in caller if r.pt == TELEPHONE_EVENT_PT]
    assert events, "no RFC 2833 packets"
    codes = [e.data[0] for e in events]
    assert [c for i, c in enumerate(codes) if i == 0 or c != codes[i - 1]] == [1, 9, 11]
    ends = [e for e in events if e.data[1] & 0x80]
    assert len(ends) >= 3 and all(struct.unpack(">H", e.data[2:4])[0] == 960 for e in ends)
    assert [d for _, d in a.dtmf] == ["1", "9", "#"]
    assert a.dtmf[0][0] == pytest.approx(a.first_time + 1.0, abs=0.01)
    assert not any(r.pt == TELEPHONE_EVENT_PT for _, r in streams[("10.0.0.41", 21000)])


def test_it_makes_ipv6_calls() -> None:
    spec = answered_spec(caller_ip="2001:db8::31", called_ip="2001:db8::41", talk_s=1.0)
    result = generate_call(spec)
    for packets in (result.sip, result.rtp):
        for packet in packets:
            eth = dpkt.ethernet.Ethernet(packet.data)
            assert eth.type == dpkt.ethernet.ETH_TYPE_IP6 and isinstance(eth.data, dpkt.ip6.IP6)
            assert eth.data.nxt == 17 and eth.data.hlim == 64
            eth.data.data.sum = 0  # dpkt recomputes the UDP checksum: it must agree
            assert bytes(eth) == packet.data
    msgs = sip_messages(result.sip.pcap_bytes())
    assert msgs[0][1] == "2001:db8::31"
    invite = msgs[0][2]
    assert "Via: SIP/2.0/UDP [2001:db8::31]:5060;" in invite
    assert "c=IN IP6 2001:db8::31" in invite
    assert result.a_saddr == "2001:db8::31"
    assert set(rtp_by_stream(result.rtp.pcap_bytes())) == {
        ("2001:db8::31", 11000),
        ("2001:db8::41", 21000),
    }


def test_it_writes_ipv6_calls_into_the_spool(tmp_path: Path) -> None:
    spec = answered_spec(caller_ip="2001:db8::31", called_ip="2001:db8::41", talk_s=3.0)
    with SpoolWriter(tmp_path) as writer:
        files = writer.add_call(spec, generate_call(spec))
    with open(files.rtp, "rb") as fh:
        lzo = b"".join(read_member_at(fh, pos)[1] for _, pos in files.tar_parts)
    streams = rtp_by_stream(unwrap(lzo))
    assert set(streams) == {("2001:db8::31", 11000), ("2001:db8::41", 21000)}
    pcm = audio_of(streams[("2001:db8::41", 21000)], 0)
    assert len(pcm) == 150 * 160 and dominant_freq(pcm) == pytest.approx(1000, abs=3)
    sip = reassemble([(n, d) for _, n, d in zst_tar_members(files.sip)], files.sip_member)
    assert {src for _, src, _ in sip_messages(sip)} == {"2001:db8::31", "2001:db8::41"}


def test_it_truncates_frames_to_the_snaplen() -> None:
    frames = [Packet(1_000_000, bytes(range(256)) * 50), Packet(2_000_001, b"xy")]
    _, packets = pcap_packets(PacketArray.from_packets(frames).pcap_bytes(snaplen=100))
    assert [(ts, len(f)) for ts, f in packets] == [(1.0, 100), (2.000001, 2)]
    assert packets[0][1] == bytes(range(100))


def test_it_validates_the_spec() -> None:
    with pytest.raises(ValueError):
        answered_spec(codec=18)
    with pytest.raises(ValueError):
        answered_spec(answered=True, final_code=486)
    with pytest.raises(ValueError):
        answered_spec(caller_ip="10.0.0.1", called_ip="::1")
    with pytest.raises(ValueError):
        answered_spec(dtmf="12x")
    assert answered_spec(answered=False).final_code == 486


# ---------------------------------------------------------------------------
# Spool
# ---------------------------------------------------------------------------

LONG_CALL_ID = "a" * 40 + "/weird call id with spaces & ünïcode/" + "z" * 60 + "@host.example"


def demo_calls() -> list[tuple[CallSpec, CallResult]]:
    """Three calls in one minute: long answered + lossy + DTMF, failed, long Call-ID."""
    specs = [
        answered_spec(talk_s=12.0, loss_ratio=0.03, dtmf="42", seed=1),
        answered_spec(
            call_id="51c8d905e7a04b05@alpha.example.com",
            calldate=datetime(2026, 11, 27, 4, 11, 42, 100000),
            answered=False,
            final_code=486,
            ring_s=2.0,
            seed=2,
        ),
        answered_spec(
            call_id=LONG_CALL_ID,
            calldate=datetime(2026, 11, 27, 4, 11, 59, 999000),
            codec=8,
            talk_s=20.0,
            caller_signal=SignalSpec(kind="speech", f0=120),
            called_signal=SignalSpec(kind="speech", f0=210),
            seed=3,
        ),
    ]
    return [(s, generate_call(s)) for s in specs]


@pytest.fixture(scope="module")
def tar_spool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("spool_tar")
    calls = demo_calls()
    with SpoolWriter(root, tar=True) as writer:
        written = [(spec, result, writer.add_call(spec, result)) for spec, result in calls]
    return root, written


@pytest.fixture(scope="module")
def plain_spool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("spool_plain")
    calls = demo_calls()
    with SpoolWriter(root, tar=False) as writer:
        written = [(spec, result, writer.add_call(spec, result)) for spec, result in calls]
    return root, written


def test_it_lays_out_the_tar_spool_like_the_sniffer(tar_spool: tuple[Path, list]) -> None:
    root, written = tar_spool
    minute = root / "2026-11-27" / "04" / "11"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(
        [
            "2026-11-27/04/11/SIP/sip_2026-11-27-04-11.tar.zst",
            "2026-11-27/04/11/RTP/rtp_2026-11-27-04-11.tar",
            "2026-11-27/04/11/AUDIO/5e0f1a21d3c74a21@alpha.example.com.wav",
            f"2026-11-27/04/11/AUDIO/{sanitize_basename(LONG_CALL_ID)}.wav",
        ]
    )
    (spec1, res1, files1), (_, res2, files2), (spec3, _, files3) = written
    assert files1.directory == minute and files1.base == "5e0f1a21d3c74a21@alpha.example.com"
    assert (
        files1.flags | res1.flags
        == res1.flags | FLAG_SIP_PCAP | FLAG_RTP_PCAP | FLAG_RTP_PAYLOAD | FLAG_AUDIO
    )
    assert files1.flags == res1.file_flags()
    # the real sniffer's flags for an answered fixture call (5226107648) minus the graph bit 28
    assert files1.flags | res1.flags == 5226107648 & ~(1 << 28)
    assert files2.flags | res2.flags == 4857008384 & ~(1 << 29)  # failed: SIP only, no audio file
    assert files2.rtp is None and files2.audio is None and files2.tar_parts == []
    assert files3.base == sanitize_basename(LONG_CALL_ID) and "/" not in files3.base
    assert re.fullmatch(r"[A-Za-z0-9:.@_-]+", files3.base)
    assert len(files3.rtp_member) == 92 and "_hash_" in files3.rtp_member
    assert all(t == 2 for t, _ in files1.tar_parts + files3.tar_parts)
    assert len(files3.tar_parts) >= 2  # 20 s of speech is more than one 160 KiB part
    assert files1.tar_parts[0][1] == 0 and files3.tar_parts[0][1] > files1.tar_parts[-1][1]


def test_it_writes_tars_readable_by_python_tarfile(tar_spool: tuple[Path, list]) -> None:
    root, written = tar_spool
    rtp_tar = written[0][2].rtp
    with tarfile.open(rtp_tar) as tf:
        members = tf.getmembers()
    assert members and all(
        m.mode == 0o444 and m.uid == 0 and m.gid == 0 and m.isfile() for m in members
    )
    assert [m.offset for m in members if m.name.startswith("5e0f")] == [
        p for _, p in written[0][2].tar_parts
    ]
    assert all(m.size == RTP_TAR_CHUNK for m in members if "#" in m.name)
    assert members[0].mtime == int(CALLDATE_EPOCH)  # call start, whole seconds
    with open(written[0][2].sip, "rb") as fh:
        raw = zstandard.ZstdDecompressor().stream_reader(fh).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        names = tf.getnames()
    assert names == [f.sip_member for _, _, f in written]
    # zstd frame like the sniffer's: no checksum, no content size
    params = zstandard.get_frame_parameters(written[0][2].sip.read_bytes())
    assert not params.has_checksum and params.content_size == zstandard.CONTENTSIZE_UNKNOWN


def test_it_reads_back_rtp_from_tar_parts(tar_spool: tuple[Path, list]) -> None:
    _, written = tar_spool
    spec, result, files = written[0]
    with open(files.rtp, "rb") as fh:
        parts = [read_member_at(fh, pos) for _, pos in files.tar_parts]
        fh.seek(0)
        scanned = [(name, data) for _, name, data in iter_tar(fh)]
    assert [n for n, _ in parts][-1] == files.rtp_member
    assert all(re.fullmatch(re.escape(files.rtp_member) + r"#\d+", n) for n, _ in parts[:-1])
    lzo = b"".join(d for _, d in parts)
    assert lzo == reassemble(scanned, files.rtp_member)  # offsets and name scan agree
    pcap = unwrap(lzo)
    reader, packets = pcap_packets(pcap)
    assert reader.snaplen == 10000 and reader.datalink() == dpkt.pcap.DLT_EN10MB
    assert pcap[:4] == b"\xd4\xc3\xb2\xa1"
    assert len(packets) == result.a_received + result.b_received
    assert pcap == result.rtp.pcap_bytes()
    check_media(spec, result, rtp_by_stream(pcap))


def check_media(spec: CallSpec, result: CallResult, streams: dict) -> None:
    """Audio of each direction: right packet counts, loss, tone frequency, DTMF."""
    n_slots = round(spec.talk_s * 50)
    caller = streams[(spec.caller_ip, spec.caller_rtp_port)]
    called = streams[(spec.called_ip, spec.called_rtp_port)]
    assert len(caller) == result.a_received and len(called) == result.b_received == n_slots
    assert result.a_lost == n_slots - result.a_received > 0
    n_events = sum(r.pt == TELEPHONE_EVENT_PT for _, r in caller)
    assert n_events > 0 and {r.data[0] for _, r in caller if r.pt == TELEPHONE_EVENT_PT} == {4, 2}
    for stream, freq in ((caller, spec.caller_signal.freq), (called, spec.called_signal.freq)):
        pcm = audio_of(stream, spec.codec)
        audio_packets = sum(r.pt == spec.codec for _, r in stream)
        assert len(pcm) == audio_packets * 160
        rms = np.sqrt(np.mean(pcm.astype(float) ** 2))
        assert rms > 3000  # -12 dBFS sine ≈ 5800 RMS; G.711 and loss keep it loud
        assert dominant_freq(pcm) == pytest.approx(freq, abs=3)


def test_it_reads_back_sip_from_the_zstd_tar(tar_spool: tuple[Path, list]) -> None:
    _, written = tar_spool
    members = zst_tar_members(written[0][2].sip)
    assert len(members) == 3  # one member per call, no parts
    for spec, result, files in written:
        pcap = reassemble([(n, d) for _, n, d in members], files.sip_member)
        reader, _ = pcap_packets(pcap)
        assert reader.snaplen == 10000 and reader.datalink() == 1
        msgs = sip_messages(pcap)
        assert header(msgs[0][2], "Call-ID") == spec.call_id
        assert first_lines(msgs)[0] == "INVITE" and len(msgs) == len(result.sip)


def test_it_writes_the_wav_like_the_sniffer(tar_spool: tuple[Path, list]) -> None:
    _, written = tar_spool
    spec, result, files = written[0]
    raw = files.audio.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:16] == b"WAVEfmt " and raw[36:40] == b"data"
    assert struct.unpack("<IHHIIHH", raw[16:36]) == (16, 1, 2, 8000, 32000, 4, 16)
    assert struct.unpack("<I", raw[40:44])[0] == len(raw) - 44
    pcm, rate = soundfile.read(files.audio, dtype="int16")
    assert rate == 8000 and pcm.shape[1] == 2
    # leading silence for the ringing phase, then caller left / called right
    start = int(result.first_rtp_time * RATE)
    assert not pcm[: start - 8].any()
    end_called = int((result.b.first_time + result.b.duration) * RATE)
    assert len(pcm) == pytest.approx(end_called + 160, abs=40)
    left, right = pcm[start + 800 :, 0], pcm[start + 800 :, 1]
    assert dominant_freq(left) == pytest.approx(440, abs=3)
    assert dominant_freq(right) == pytest.approx(1000, abs=3)
    # lost packets (and DTMF-event slots) are silent 20 ms holes in the caller channel
    a_start = int(result.a.first_time * RATE) - 3  # slot grid, give or take send jitter
    slots = pcm[a_start : a_start + result.a.sent * 160, 0].reshape(-1, 160)
    holes = np.all(slots[:, 8:152] == 0, axis=1).sum()
    n_event_slots = 2 * 8
    assert holes == result.a_lost + n_event_slots
    assert not np.all(pcm[:, 1].reshape(-1)[int(result.b.first_time * RATE) + 8 :][:-320] == 0)
    assert written[2][2].audio is not None and written[1][2].audio is None


def test_it_writes_the_plain_spool_like_the_sniffer(plain_spool: tuple[Path, list]) -> None:
    root, written = plain_spool
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    base1, base3 = written[0][2].base, written[2][2].base
    assert files == sorted(
        [
            f"2026-11-27/04/11/SIP/{base1}.pcap",
            "2026-11-27/04/11/SIP/51c8d905e7a04b05@alpha.example.com.pcap",
            f"2026-11-27/04/11/SIP/{base3}.pcap",
            f"2026-11-27/04/11/RTP/{base1}.pcap",
            f"2026-11-27/04/11/RTP/{base3}.pcap",
            f"2026-11-27/04/11/AUDIO/{base1}.wav",
            f"2026-11-27/04/11/AUDIO/{base3}.wav",
        ]
    )
    spec, result, cf = written[0]
    assert cf.tar_parts == [] and cf.rtp_member is None
    sip = cf.sip.read_bytes()
    assert sip[:4] == b"\xd4\xc3\xb2\xa1"  # SIP pcaps stay plain
    assert first_lines(sip_messages(sip)) == ["INVITE", "100", "180", "200", "ACK", "BYE", "200"]
    rtp = cf.rtp.read_bytes()
    assert rtp[:10] == bytes.fromhex("1f8b0800000000000403")  # gzip like the real notar spool
    check_media(spec, result, rtp_by_stream(unwrap(rtp)))
    assert cf.flags == written[0][2].flags


def test_it_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        with SpoolWriter(tmp_path / run) as writer:
            for spec, result in demo_calls():
                writer.add_call(spec, result)
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_it_renames_an_existing_tar_like_the_sniffer(tmp_path: Path) -> None:
    spec, result = demo_calls()[0]
    for _ in range(2):
        with SpoolWriter(tmp_path) as writer:
            files = writer.add_call(spec, result)
    assert files.rtp.exists() and files.rtp.with_name(files.rtp.name + ".1").exists()
    assert files.sip.with_name(files.sip.name + ".1").exists()
    assert not list(tmp_path.rglob(".*partial"))


def test_it_hashes_long_member_names_like_the_sniffer() -> None:
    short = "x" * 92
    assert tar_member_name(short) == short
    name = "y" * 54 + "the-rest-of-a-very-long-call-id@example.com.pcap"
    hashed = tar_member_name(name)
    assert hashed == "y" * 54 + "_hash_" + hashlib.md5(name[54:].encode()).hexdigest()
    assert len(hashed) == 92
    assert sanitize_basename("a b/c\\d:e-f.g@h_i#j") == "a_b_c_d:e-f.g@h_i_j"
    assert sanitize_basename("x" * 300) == "x" * 255


# ---------------------------------------------------------------------------
# The real sniffer's spool, read with the same reader
# ---------------------------------------------------------------------------

LIVE_TAR_PARTS = {  # cdr_tar_part rows of db_live.sql: cdr_ID -> positions (type 2)
    "5e0f1a21d3c74a21@alpha.example.com": [0, 164352, 657408, 821760],
    "6f1a2b22e4d84b22@gamma.example.net": [328704, 877056],
    "7a2b3c23f5e94c23@alpha.example.com": [493056, 1029632],
}


@pytest.fixture(scope="module")
def live_spool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = FIXTURES / "spool_live.tar.gz"
    if not archive.exists():
        pytest.skip("sniffer fixture spool not available")
    dest = tmp_path_factory.mktemp("fixture")
    with tarfile.open(archive) as tf:
        safe_extract(tf, dest)
    return dest / "spool_live" / "2026-11-27" / "04" / "11"


def test_it_reads_the_real_sniffer_tar_spool_with_the_same_reader(live_spool: Path) -> None:
    db = (FIXTURES / "db_live.sql").read_text()
    positions = [
        int(p)
        for p in re.findall(r"INSERT INTO `cdr_tar_part` .*?VALUES \(\d+,'[^']+',2,(\d+)\);", db)
    ]
    assert sorted(positions) == sorted(p for ps in LIVE_TAR_PARTS.values() for p in ps)
    rtp_tar = live_spool / "RTP" / "rtp_2026-11-27-04-11.tar"
    with open(rtp_tar, "rb") as fh:
        scanned = [(name, data) for _, name, data in iter_tar(fh)]
        assert any("#" in name for name, _ in scanned)
        for call_id, offsets in LIVE_TAR_PARTS.items():
            member = f"{sanitize_basename(call_id)}.pcap"
            parts = [read_member_at(fh, pos) for pos in offsets]
            assert _PART.sub("", parts[0][0]) == member and parts[-1][0] == member
            lzo = b"".join(d for _, d in parts)
            assert lzo == reassemble(scanned, member)
            pcap = unwrap(lzo)
            reader, packets = pcap_packets(pcap)
            assert reader.snaplen == 10000 and reader.datalink() == 1
            assert len(packets) == 3000
            streams = rtp_by_stream(pcap)
            assert sorted(len(s) for s in streams.values()) == [1500, 1500]
            # and our writer's LZO framing would cut this very pcap at the same places
            chunks = _chunk_sizes(lzo)
            sizes = [24] + [16, len(packets[0][1])] * len(packets)
            if len({len(f) for _, f in packets}) == 1:
                assert chunks == list(np.diff([0, *_lzo_block_bounds(sizes)]))
    sip_members = zst_tar_members(live_spool / "SIP" / "sip_2026-11-27-04-11.tar.zst")
    assert [name for _, name, _ in sip_members] == [f"{c}.pcap" for c in LIVE_TAR_PARTS]
    for call_id in LIVE_TAR_PARTS:
        pcap = reassemble([(n, d) for _, n, d in sip_members], f"{call_id}.pcap")
        msgs = sip_messages(pcap)
        assert first_lines(msgs) == ["INVITE", "100", "180", "200", "ACK", "BYE", "200"]
        assert header(msgs[0][2], "Call-ID") == call_id


def _chunk_sizes(lzo: bytes) -> list[int]:
    sizes, pos = [], 3
    while pos < len(lzo):
        size, csize = struct.unpack_from("<II", lzo, pos)
        sizes.append(size)
        pos += 8 + csize
    return sizes


def test_it_writes_tar_headers_byte_identical_to_the_real_sniffer(live_spool: Path) -> None:
    data = (live_spool / "RTP" / "rtp_2026-11-27-04-11.tar").read_bytes()
    with open(live_spool / "RTP" / "rtp_2026-11-27-04-11.tar", "rb") as fh:
        members = list(iter_tar(fh))
    for offset, name, body in members:
        mtime = int(data[offset + 136 : offset + 147], 8)
        assert ustar_header(name, len(body), mtime) == data[offset : offset + 512]
    # the file ends with exactly two zero blocks, no record padding
    last_off, _, last_body = members[-1]
    assert len(data) == last_off + 512 + len(last_body) + (-len(last_body) % 512) + 1024
    # member sizes: 160 KiB intermediate parts, per-tar running counter
    assert {len(b) for _, n, b in members if "#" in n} == {RTP_TAR_CHUNK}
    assert [int(n.rsplit("#", 1)[1]) for _, n, _ in members if "#" in n] == [1, 2, 3, 4, 5]


def test_it_writes_the_same_pcap_and_wav_headers_as_the_real_sniffer(
    live_spool: Path, plain_spool: tuple
) -> None:
    real_wav = next((live_spool / "AUDIO").glob("*.wav")).read_bytes()
    ours = plain_spool[1][0][2].audio.read_bytes()
    assert ours[:4] + ours[8:40] == real_wav[:4] + real_wav[8:40]
    real_sip = reassemble(
        [
            (n, d)
            for _, n, d in zst_tar_members(live_spool / "SIP" / "sip_2026-11-27-04-11.tar.zst")
        ],
        "5e0f1a21d3c74a21@alpha.example.com.pcap",
    )
    assert plain_spool[1][0][2].sip.read_bytes()[:24] == real_sip[:24]
