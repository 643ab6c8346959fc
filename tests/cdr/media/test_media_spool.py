"""cdr.media.spool: locating and reading a call's files in every storage form the sniffer uses.

Real spools (the sniffer's own ``spool_live`` tar mode and ``spool_notar`` plain mode) and
demo spools written like the sniffer (cdr.demo), plus the forms the demo does not produce
(tar.gz with several gzip members, an open zstd tar without end marker, rotated tars, legacy
part suffixes, per-file zstd/LZ4/LZO/gzip, sensor folders, the secondary spool).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import struct
import zlib
from pathlib import Path

import dpkt
import lz4.block
import pytest
import zstandard

from cdr.demo.pcapgen import generate_call
from cdr.demo.signals import SignalSpec
from cdr.demo.spoolwriter import SpoolWriter, lzo_stream, sanitize_basename, ustar_header
from cdr.media.spool import (
    KIND_AUDIOGRAPH,
    KIND_RTP,
    KIND_SIP,
    CallRef,
    MediaError,
    MediaMissing,
    SpoolLayout,
    decompress,
    locate,
    locate_audio,
    sanitize_name,
    tar_member_name,
)
from tests.cdr.media.test_media_support import LIVE_CALLS, LIVE_TAR_PARTS, real_spools, tone_spec

__all__ = ["real_spools"]  # the fixture is used by name

T0 = dt.datetime(2026, 11, 27, 10, 15, 7, 250000)


def packets(data: bytes) -> list[tuple[float, bytes]]:
    return list(dpkt.pcap.Reader(io.BytesIO(data)))


def content(f) -> bytes:
    return b"".join(f.chunks())


def ref_for(spec, **kw) -> CallRef:
    return CallRef(cdr_id=1, calldate=spec.calldate, fbasename=spec.call_id, **kw)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def test_it_sanitizes_call_ids_like_the_sniffer() -> None:
    for raw in ["a b/c\\d:e-f.g@h_i#j", "x" * 300, "ünï/cöde", "%2e%2e/x"]:
        assert sanitize_name(raw) == sanitize_basename(raw)
    assert sanitize_name("../../../etc/passwd") == ".._.._.._etc_passwd"
    assert sanitize_name("..") == "__" and sanitize_name("") == "_"


def test_it_hashes_long_member_names_like_the_sniffer() -> None:
    from cdr.demo.spoolwriter import tar_member_name as demo_name

    long = "y" * 90 + "@example.com.pcap"
    assert tar_member_name(long) == demo_name(long) and len(tar_member_name(long)) == 92
    assert tar_member_name("short.pcap") == "short.pcap"


def test_it_never_leaves_the_spool_root_whatever_the_call_id(tmp_path: Path) -> None:
    layout = SpoolLayout(roots=(tmp_path / "spool",))
    evil = CallRef(1, T0, "../../../../etc/passwd\x00/..", id_sensor=3, sensor_name="../..")
    for by in ("none", "id", "name"):
        lay = SpoolLayout(roots=layout.roots, by_sensor=by)
        for directory, _ in evil.minute_dirs(lay, KIND_SIP):
            assert directory.resolve().is_relative_to((tmp_path / "spool").resolve())
    assert "/" not in evil.base and evil.base.startswith("..")


# ---------------------------------------------------------------------------
# The real sniffer's spools
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("use_positions", [True, False])
def test_it_reads_the_real_tar_spool(real_spools, use_positions: bool) -> None:
    layout = SpoolLayout(roots=(real_spools["live"],))
    for cdr_id, (call_id, calldate) in LIVE_CALLS.items():
        parts = tuple((2, p) for p in LIVE_TAR_PARTS[cdr_id]) if use_positions else ()
        ref = CallRef(cdr_id, calldate, call_id, tar_parts=parts)
        sip = locate(ref, KIND_SIP, layout)
        rtp = locate(ref, KIND_RTP, layout)
        assert sip.path.name == "sip_2026-11-27-04-11.tar.zst" and sip.in_tar
        assert rtp.path.name == "rtp_2026-11-27-04-11.tar"
        assert rtp.positions == (tuple(LIVE_TAR_PARTS[cdr_id]) if use_positions else ())
        sip_packets = packets(content(sip))
        assert len(sip_packets) == 7 and call_id.encode() in sip_packets[0][1]
        rtp_raw = content(rtp)
        assert rtp_raw[:4] == b"\xd4\xc3\xb2\xa1"  # LZO layer stripped, parts reassembled
        assert len(packets(rtp_raw)) == 3000
        assert locate_audio(ref, layout).name == f"{call_id}.wav"


def test_it_reads_the_real_plain_spool_with_gzip_rtp(real_spools) -> None:
    layout = SpoolLayout(roots=(real_spools["notar"],))
    ref = CallRef(
        2, dt.datetime(2026, 11, 27, 4, 3, 38, 631000), "3c26700b8f2e1a01@alpha.example.com"
    )
    rtp = locate(ref, KIND_RTP, layout)
    assert not rtp.in_tar and rtp.path.read_bytes()[:2] == b"\x1f\x8b"
    assert len(packets(content(rtp))) == 1000
    assert len(packets(content(locate(ref, KIND_SIP, layout)))) == 7
    # a failed call (486) has a SIP pcap, no RTP pcap, no audio
    busy = CallRef(
        3, dt.datetime(2026, 11, 27, 4, 4, 42, 735000), "51c8d905e7a04b05@alpha.example.com"
    )
    assert locate(busy, KIND_SIP, layout) is not None
    assert locate(busy, KIND_RTP, layout) is None and locate_audio(busy, layout) is None


def test_it_answers_none_for_files_cleanspool_removed(real_spools, tmp_path: Path) -> None:
    layout = SpoolLayout(roots=(tmp_path,))  # an empty spool: the hour is gone
    call_id, calldate = LIVE_CALLS[1]
    ref = CallRef(1, calldate, call_id)
    assert locate(ref, KIND_SIP, layout) is None and locate(ref, KIND_RTP, layout) is None
    assert locate_audio(ref, layout) is None
    assert locate(ref, KIND_AUDIOGRAPH, SpoolLayout(roots=(real_spools["live"],))) is None


# ---------------------------------------------------------------------------
# Demo spools in each form
# ---------------------------------------------------------------------------


def write(root: Path, specs, *, tar: bool = True, sensor_dir: str | None = None):
    out = []
    with SpoolWriter(root, tar=tar, sensor_dir=sensor_dir) as writer:
        for spec in specs:
            result = generate_call(spec)
            out.append((spec, result, writer.add_call(spec, result, wav=False)))
    return out


LONG_ID = "L" * 70 + "/with spaces & ünicode/" + "z" * 40 + "@long.example"


@pytest.mark.parametrize("tar", [True, False])
def test_it_reads_demo_spools_byte_for_byte(tmp_path: Path, tar: bool) -> None:
    specs = [
        # speech compresses less than a tone: > 160 KiB of LZO, several tar parts
        tone_spec(
            "first@demo",
            T0,
            talk_s=30.0,
            caller_signal=SignalSpec(kind="speech", f0=120),
            called_signal=SignalSpec(kind="speech", f0=210),
        ),
        tone_spec(LONG_ID, T0 + dt.timedelta(seconds=20), codec=8),
    ]
    layout = SpoolLayout(roots=(tmp_path,))
    for spec, result, files in write(tmp_path, specs, tar=tar):
        ref = ref_for(spec, tar_parts=tuple(files.tar_parts))
        sip, rtp = locate(ref, KIND_SIP, layout), locate(ref, KIND_RTP, layout)
        assert content(sip) == result.sip.pcap_bytes()
        assert content(rtp) == result.rtp.pcap_bytes()
        if tar:
            assert len(files.tar_parts) >= 2 or spec.call_id == LONG_ID
            # without cdr_tar_part rows the member is found by scanning the tar
            assert content(locate(ref_for(spec), KIND_RTP, layout)) == result.rtp.pcap_bytes()


def test_it_finds_a_call_in_a_rotated_tar(tmp_path: Path) -> None:
    first = tone_spec("before-restart@demo", T0)
    second = tone_spec("after-restart@demo", T0 + dt.timedelta(seconds=5), seed=9)
    [(s1, r1, f1)] = write(tmp_path, [first])
    [(s2, r2, f2)] = write(tmp_path, [second])  # the sniffer restarted: the old tar became .1
    assert f1.rtp.with_name(f1.rtp.name + ".1").exists()
    layout = SpoolLayout(roots=(tmp_path,))
    for spec, result, files in ((s1, r1, f1), (s2, r2, f2)):
        for parts in (tuple(files.tar_parts), ()):
            ref = ref_for(spec, tar_parts=parts)
            assert content(locate(ref, KIND_RTP, layout)) == result.rtp.pcap_bytes()
            assert content(locate(ref, KIND_SIP, layout)) == result.sip.pcap_bytes()


def _plain_tar(members: list[tuple[str, bytes]], end: bool = True) -> bytes:
    out = bytearray()
    for name, data in members:
        out += ustar_header(name, len(data), 0) + data + b"\0" * (-len(data) % 512)
    if end:
        out += b"\0" * 1024
    return bytes(out)


def _sip_tar_path(root: Path, spec, suffix: str) -> Path:
    d = root / spec.calldate.strftime("%Y-%m-%d/%H/%M") / "SIP"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"sip_{spec.calldate.strftime('%Y-%m-%d-%H-%M')}.tar{suffix}"


def test_it_reads_a_tar_gz_of_concatenated_gzip_members(tmp_path: Path) -> None:
    spec = tone_spec("gz@demo", T0)
    pcap = generate_call(spec).sip.pcap_bytes()
    tar = _plain_tar([("other.pcap", b"x" * 700), (f"{spec.call_id}.pcap", pcap)])
    cut = len(tar) // 3  # a forced flush ends one gzip member and starts the next
    _sip_tar_path(tmp_path, spec, ".gz").write_bytes(
        gzip.compress(tar[:cut]) + gzip.compress(tar[cut:])
    )
    found = locate(ref_for(spec), KIND_SIP, SpoolLayout(roots=(tmp_path,)))
    assert content(found) == pcap


def test_it_reads_a_tar_still_open_with_an_unterminated_zstd_frame(tmp_path: Path) -> None:
    spec = tone_spec("open@demo", T0)
    pcap = generate_call(spec).sip.pcap_bytes()
    # no end blocks, and a last member whose data is cut: the tar is still being written
    tar = _plain_tar([(f"{spec.call_id}.pcap", pcap)], end=False)
    tar += ustar_header("later-call.pcap", 5000, 0) + b"partial"
    co = zstandard.ZstdCompressor(level=1).compressobj()
    data = co.compress(tar) + co.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)  # no frame end
    _sip_tar_path(tmp_path, spec, ".zst").write_bytes(data)
    found = locate(ref_for(spec), KIND_SIP, SpoolLayout(roots=(tmp_path,)))
    assert content(found) == pcap
    # the member being written gives what is there so far; an absent one is missing
    later = CallRef(2, T0, "later-call")
    assert content(locate(later, KIND_SIP, SpoolLayout(roots=(tmp_path,)))) == b"partial"
    with pytest.raises(MediaMissing):
        content(locate(CallRef(3, T0, "never@demo"), KIND_SIP, SpoolLayout(roots=(tmp_path,))))


def test_it_reassembles_parts_with_legacy_suffixes_and_truncated_names(tmp_path: Path) -> None:
    spec = tone_spec("parts@demo", T0)
    pcap = generate_call(spec).sip.pcap_bytes()
    name = f"{spec.call_id}.pcap"
    a, b, c = pcap[:1000], pcap[1000:3000], pcap[3000:]
    tar = _plain_tar(
        [(f"{name}_17", a), ("noise.pcap#2", b"n" * 100), (f"{name}#3", b), (name, c), (name, b"!")]
    )
    _sip_tar_path(tmp_path, spec, "").write_bytes(tar)
    assert content(locate(ref_for(spec), KIND_SIP, SpoolLayout(roots=(tmp_path,)))) == pcap


def _lz4_framed(data: bytes, chunk: int = 8192) -> bytes:
    out = bytearray(b"LZ4")
    for i in range(0, len(data), chunk):
        block = lz4.block.compress(data[i : i + chunk], store_size=False)
        out += struct.pack("<II", len(data[i : i + chunk]), len(block)) + block
    return bytes(out)


@pytest.mark.parametrize("form", ["gzip", "zstd", "lz4", "lzo", "plain"])
def test_it_detects_per_file_compression_by_magic(tmp_path: Path, form: str) -> None:
    spec = tone_spec(f"{form}@demo", T0)
    [(_, result, files)] = write(tmp_path, [spec], tar=False)
    pcap = result.rtp.pcap_bytes()
    encoded = {
        "gzip": lambda d: gzip.compress(d),
        "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
        "lz4": _lz4_framed,
        "lzo": lambda d: b"".join(lzo_stream(d, [len(d)])),
        "plain": lambda d: d,
    }[form](pcap)
    files.rtp.write_bytes(encoded)
    assert content(locate(ref_for(spec), KIND_RTP, SpoolLayout(roots=(tmp_path,)))) == pcap


def test_it_refuses_snappy_and_corrupt_data_clearly() -> None:
    with pytest.raises(MediaError, match="snappy"):
        list(decompress([b"SNA" + b"\0" * 20]))
    with pytest.raises(MediaError, match="LZO"):
        list(decompress([b"LZO" + struct.pack("<II", 100, 10) + b"garbage!!!"]))
    broken = zstandard.ZstdCompressor().compress(b"hello" * 1000)
    with pytest.raises(MediaError, match="zstd"):
        list(decompress([broken[:8] + b"\xff" * 40]))
    with pytest.raises(MediaError, match="corrupt gzip data"):
        list(decompress([b"\x1f\x8b" + b"garbage" * 10]))
    with pytest.raises(MediaError, match="corrupt xz data"):
        list(decompress([b"\xfd7zXZ\x00" + b"garbage" * 10]))
    assert b"".join(decompress(iter([b"\x1f\x8b", gzip.compress(b"abc")[2:]]))) == b"abc"
    assert b"".join(decompress([zlib.compress(b"x")])) == zlib.compress(b"x")  # plain


@pytest.mark.parametrize(("by", "sensor_dir"), [("id", "3"), ("name", "Sensor_Praha_1")])
def test_it_uses_the_per_sensor_folder(tmp_path: Path, by: str, sensor_dir: str) -> None:
    spec = tone_spec("sensor@demo", T0)
    [(_, result, files)] = write(tmp_path, [spec], sensor_dir=sensor_dir)
    assert files.rtp.name.startswith(f"rtp_{sensor_dir}_")
    ref = ref_for(spec, id_sensor=3, sensor_name="Sensor Praha/1", tar_parts=tuple(files.tar_parts))
    layout = SpoolLayout(roots=(tmp_path,), by_sensor=by)
    assert content(locate(ref, KIND_RTP, layout)) == result.rtp.pcap_bytes()
    assert locate(ref, KIND_RTP, SpoolLayout(roots=(tmp_path,))) is None  # wrong layout


def test_it_uses_the_secondary_spool_for_spool_index_1(tmp_path: Path) -> None:
    spec = tone_spec("second@demo", T0)
    [(_, result, _)] = write(tmp_path / "two", [spec], tar=False)
    layout = SpoolLayout(roots=(tmp_path / "one", tmp_path / "two"))
    assert (
        content(locate(ref_for(spec, spool_index=1), KIND_SIP, layout)) == result.sip.pcap_bytes()
    )
    assert locate(ref_for(spec), KIND_SIP, layout) is None
    with pytest.raises(MediaMissing, match="VMGUI_SPOOL_DIR_2"):
        locate(ref_for(spec, spool_index=1), KIND_SIP, SpoolLayout(roots=(tmp_path / "one",)))


def test_it_finds_a_call_that_started_in_the_last_microseconds_of_a_minute(tmp_path: Path) -> None:
    # calldate rounded to ms: a start at 10:15:59.9996 is stored as 10:16:00.000,
    # while the sniffer's directory uses the truncated time (10:15).
    spec = tone_spec("edge@demo", dt.datetime(2026, 11, 27, 10, 15, 59, 999600))
    [(_, result, _)] = write(tmp_path, [spec], tar=False)
    ref = CallRef(1, dt.datetime(2026, 11, 27, 10, 16, 0), spec.call_id)
    assert content(locate(ref, KIND_SIP, SpoolLayout(roots=(tmp_path,)))) == result.sip.pcap_bytes()
