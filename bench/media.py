"""Media benchmarks: pcap merge vs mergecap, G.711 decode speed, memory of a big download.

Run: ``.venv/bin/python -m bench.media`` (add ``--quick`` for smaller inputs). Results go to
stdout as a small table; docs/benchmarks.md ("Media") records a run and the command.

1. **Merge**: two 100 MB RTP legs (densely interleaved: a packet of each leg every 20 ms, the
   worst case for a merge) with ``cdr.media.pcap.merge`` and with ``mergecap -F pcap`` (Wireshark),
   same inputs, same run, both writing a file. Target: within 2× of mergecap.
2. **Decode**: a one-hour stereo G.711 call (the demo generator's RTP pcap, 360,000 packets)
   decoded by ``cdr.media.audio.decode_call`` and written as WAV, as a multiple of real time.
   Target: ≥ 300×.
3. **Download memory**: a 500 MB call (SIP pcap + RTP pcap, the RTP LZO-compressed inside an
   uncompressed per-minute tar like the sniffer's default) streamed through
   ``cdr.media.service.open_readers`` + ``cdr.media.pcap.merge`` in a fresh process; peak RSS growth over the
   process's baseline after imports. Target: < 64 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RECORD = 214  # an Ethernet/IPv4/UDP/RTP G.711 packet (160-byte payload)


def synthetic_pcap(path: Path, size_mb: float, t0_us: int, step_us: int = 20_000) -> int:
    """A pcap of ``size_mb`` MB of RTP-sized records, one every ``step_us``; returns the count."""
    n = int(size_mb * 1e6 / (16 + RECORD))
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 10000, 1))
        for first in range(0, n, 100_000):
            k = min(100_000, n - first)
            rec = np.zeros((k, 16 + RECORD), dtype=np.uint8)
            ts = t0_us + (first + np.arange(k, dtype=np.int64)) * step_us
            hdr = np.empty((k, 4), dtype="<u4")
            hdr[:, 0], hdr[:, 1] = ts // 1_000_000, ts % 1_000_000
            hdr[:, 2] = hdr[:, 3] = RECORD
            rec[:, :16] = hdr.view(np.uint8).reshape(k, 16)
            rec[:, 16:] = np.random.default_rng(first).integers(0, 256, (k, RECORD), np.uint8)
            fh.write(rec.tobytes())
    return n


def bench_merge(work: Path, size_mb: float) -> dict:
    from cdr.media.pcap import PcapReader, merge

    a, b = work / "leg_a.pcap", work / "leg_b.pcap"
    n = synthetic_pcap(a, size_mb, 1_795_000_000_000_000)
    n += synthetic_pcap(b, size_mb, 1_795_000_000_000_007)
    out = work / "ours.pcap"
    t = time.perf_counter()
    with open(a, "rb") as fa, open(b, "rb") as fb, open(out, "wb") as fo:
        for chunk in merge([PcapReader(fa), PcapReader(fb)]):
            fo.write(chunk)
    ours = time.perf_counter() - t
    result = {"packets": n, "input_mb": 2 * size_mb, "ours_s": ours}
    mergecap = shutil.which("mergecap")
    if mergecap:
        t = time.perf_counter()
        subprocess.run(
            [mergecap, "-F", "pcap", "-w", str(work / "mc.pcap"), str(a), str(b)], check=True
        )
        result["mergecap_s"] = time.perf_counter() - t
        with open(out, "rb") as f1, open(work / "mc.pcap", "rb") as f2:
            f1.seek(24)
            f2.seek(24)
            same = True
            while True:
                x, y = f1.read(1 << 20), f2.read(1 << 20)
                if x != y:
                    same = False
                    break
                if not x:
                    break
        result["identical_records"] = same
    for p in (a, b, out, work / "mc.pcap"):
        p.unlink(missing_ok=True)
    return result


def bench_decode(work: Path, seconds: float) -> dict:
    from cdr.demo.pcapgen import CallSpec, generate_call
    from cdr.demo.signals import SignalSpec
    from cdr.media.audio import decode_call, write_audio

    spec = CallSpec(
        call_id="bench-decode@vmgui",
        calldate=dt.datetime(2026, 11, 27, 10, 0, 0),
        caller="1001",
        called="2002",
        caller_ip="10.0.0.1",
        called_ip="10.0.0.2",
        codec=8,
        talk_s=seconds,
        caller_signal=SignalSpec(kind="tone", freq=1000.0, level_dbfs=-12),
        called_signal=SignalSpec(kind="tone", freq=440.0, level_dbfs=-12),
    )
    result = generate_call(spec)
    rtp, sip = work / "call_rtp.pcap", work / "call_sip.pcap"
    rtp.write_bytes(result.rtp.pcap_bytes())
    sip.write_bytes(result.sip.pcap_bytes())
    packets = len(result.rtp)
    del result
    t = time.perf_counter()
    audio = decode_call(lambda: open(rtp, "rb"), lambda: open(sip, "rb"), tmp_dir=work)
    with open(work / "out.wav", "wb") as fh:
        write_audio(audio.blocks(), audio.frames, audio.rate, fh, "wav")
    audio.close()
    took = time.perf_counter() - t
    size = (work / "out.wav").stat().st_size
    for p in (rtp, sip, work / "out.wav"):
        p.unlink()
    return {
        "call_s": seconds,
        "packets": packets,
        "decode_s": took,
        "x_realtime": seconds / took,
        "wav_mb": size / 1e6,
    }


def _lzo_tar(src: Path, dest: Path, member: str) -> None:
    """``src`` LZO-framed (8 KiB chunks, as the sniffer writes RTP) as one member of a tar."""
    import lzallright

    from cdr.demo.spoolwriter import ustar_header

    lzo = lzallright.LZOCompressor()
    with open(src, "rb") as fi, open(dest, "wb") as fo:
        fo.write(b"\0" * 512)  # header written once the size is known
        size = fo.write(b"LZO")
        while block := fi.read(8192):
            packed = lzo.compress(block)
            size += fo.write(struct.pack("<II", len(block), len(packed)) + packed)
        fo.write(b"\0" * (-size % 512) + b"\0" * 1024)
        fo.seek(0)
        fo.write(ustar_header(member, size, 0))


def _download_child(sip: str, tar: str) -> None:
    """Run in a fresh process: stream the merged pcap to /dev/null, print RSS numbers."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
    django.setup()  # the web process has Django loaded too: part of the baseline

    from cdr.media.pcap import merge
    from cdr.media.service import open_readers
    from cdr.media.spool import SpoolFile

    base = _hwm_kb()
    files = [
        SpoolFile("SIP", "bench@vmgui.pcap", Path(sip)),
        SpoolFile("RTP", "bench@vmgui.pcap", Path(tar), tars=(Path(tar),)),
    ]
    total = 0
    t = time.perf_counter()
    with open(os.devnull, "wb") as out:
        for chunk in merge(open_readers(files)):
            total += len(chunk)
            out.write(chunk)
    took = time.perf_counter() - t
    peak = _hwm_kb()
    print(f"{base} {peak} {total} {took}")


def _hwm_kb() -> int:
    """Peak resident set size of this process (VmHWM; ru_maxrss survives fork+exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def bench_download(work: Path, size_mb: float) -> dict:
    from cdr.demo.pcapgen import Packet, PacketArray

    raw = work / "big_rtp.pcap"
    synthetic_pcap(raw, size_mb, 1_795_000_000_000_000)
    tar = work / "rtp_2026-11-27-10-00.tar"
    _lzo_tar(raw, tar, "bench@vmgui.pcap")
    raw.unlink()
    sip = work / "sip.pcap"
    sip.write_bytes(
        PacketArray.from_packets(
            [Packet(1_795_000_000_000_000 + i * 1_000_000, b"\0" * 600) for i in range(7)]
        ).pcap_bytes()
    )
    out = subprocess.run(
        [sys.executable, "-m", "bench.media", "--download-child", str(sip), str(tar)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    base_kb, peak_kb, total, took = int(out[0]), int(out[1]), int(out[2]), float(out[3])
    tar_mb = tar.stat().st_size / 1e6
    tar.unlink()
    sip.unlink()
    return {
        "pcap_mb": total / 1e6,
        "tar_mb": tar_mb,
        "seconds": took,
        "baseline_rss_mb": base_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "growth_mb": (peak_kb - base_kb) / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (a smoke run)")
    parser.add_argument("--download-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.download_child:
        _download_child(*args.download_child)
        return
    merge_mb, call_s, big_mb = (5, 120, 20) if args.quick else (100, 3600, 500)
    with tempfile.TemporaryDirectory(prefix="vmgui-bench-media-") as tmp:
        work = Path(tmp)
        m = bench_merge(work, merge_mb)
        print(f"merge: 2 x {merge_mb} MB, {m['packets']} packets")
        print(f"  cdr.media.pcap.merge      {m['ours_s']:.2f} s")
        if "mergecap_s" in m:
            print(f"  mergecap -F pcap    {m['mergecap_s']:.2f} s")
            print(f"  ratio ours/mergecap {m['ours_s'] / m['mergecap_s']:.2f} (target <= 2)")
            print(f"  identical records   {m['identical_records']}")
        else:
            print("  mergecap not installed (apt-get install tshark)")
        d = bench_decode(work, call_s)
        print(f"decode: {call_s:.0f} s stereo G.711 call, {d['packets']} RTP packets")
        print(f"  decode + WAV        {d['decode_s']:.2f} s = {d['x_realtime']:.0f}x real time")
        dl = bench_download(work, big_mb)
        print(f"download: {dl['pcap_mb']:.0f} MB pcap (RTP as a {dl['tar_mb']:.0f} MB LZO tar)")
        print(f"  streamed in         {dl['seconds']:.2f} s")
        print(
            f"  peak RSS            {dl['peak_rss_mb']:.1f} MB "
            f"(baseline {dl['baseline_rss_mb']:.1f} MB, growth {dl['growth_mb']:.1f} MB)"
        )


if __name__ == "__main__":
    main()
