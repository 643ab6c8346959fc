"""cdr.media.audio: RTP → stereo PCM, checked against the real sniffer's WAVs and known signals."""

from __future__ import annotations

import datetime as dt
import io
import struct
from collections.abc import Iterable
from pathlib import Path

import dpkt
import numpy as np
import pytest
import soundfile

from cdr.demo.pcapgen import generate_call
from cdr.demo.signals import SignalSpec
from cdr.media.audio import UnsupportedCodec, decode_call, write_audio
from cdr.media.spool import (
    KIND_RTP,
    KIND_SIP,
    CallRef,
    MediaError,
    MediaMissing,
    SpoolLayout,
    locate,
    locate_audio,
)
from tests.cdr.media.test_media_pcap import build_pcap
from tests.cdr.media.test_media_support import LIVE_CALLS, dominant_freq, real_spools, tone_spec
from tests.conftest import FIXTURES_ROOT

__all__ = ["real_spools"]

T0 = dt.datetime(2026, 11, 27, 10, 15, 7, 250000)
EPOCH_T0 = int(T0.replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


def decoded(audio) -> np.ndarray:
    try:
        return np.concatenate(list(audio.blocks())) if audio.frames else np.zeros((0, 2), np.int16)
    finally:
        audio.close()


def opener(data: bytes):
    return lambda: io.BytesIO(data)


def decode_spool(root: Path, ref: CallRef, **kw) -> np.ndarray:
    layout = SpoolLayout(roots=(root,))
    rtp, sip = locate(ref, KIND_RTP, layout), locate(ref, KIND_SIP, layout)
    return decoded(decode_call(rtp.open, sip.open if sip else None, **kw))


# ---------------------------------------------------------------------------
# Against the sniffer's own WAVs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cdr_id", [1, 3])
def test_it_decodes_the_real_live_calls_sample_exact(real_spools, cdr_id: int) -> None:
    call_id, calldate = LIVE_CALLS[cdr_id]
    ref = CallRef(cdr_id, calldate, call_id)
    ours = decode_spool(real_spools["live"], ref)
    theirs, rate = soundfile.read(
        locate_audio(ref, SpoolLayout(roots=(real_spools["live"],))), dtype="int16"
    )
    assert rate == 8000 and ours.shape == theirs.shape  # same length, same alignment
    assert np.array_equal(ours, theirs)
    # caller left, called right: each side has its own tone
    assert dominant_freq(ours[16000:24000, 0]) != dominant_freq(ours[16000:24000, 1])


def test_it_decodes_the_paused_live_call_with_its_silence(real_spools) -> None:
    call_id, calldate = LIVE_CALLS[2]  # PCMA, recording paused ~12-15 s with pausecall
    ref = CallRef(2, calldate, call_id)
    ours = decode_spool(real_spools["live"], ref)
    theirs, _ = soundfile.read(
        locate_audio(ref, SpoolLayout(roots=(real_spools["live"],))), dtype="int16"
    )
    assert ours.shape == theirs.shape
    # The sniffer fills silence with the A-law silence code (decodes to ±8); we write 0.
    same = (ours == theirs) | ((ours == 0) & (np.abs(theirs) == 8))
    assert same.mean() > 0.999
    pause = slice(int(12.8 * 8000), int(15.0 * 8000))
    assert not ours[pause].any() and np.abs(theirs[pause]).max() <= 8
    for ch in (0, 1):
        assert dominant_freq(ours[80000:88000, ch]) == dominant_freq(theirs[80000:88000, ch])


def test_it_decodes_every_real_plain_mode_call_like_the_sniffer(real_spools) -> None:
    root = real_spools["notar"]
    checked = 0
    for wav in sorted(root.rglob("*.wav")):
        minute = wav.parent.parent
        h, m = int(minute.parent.name), int(minute.name)
        ref = CallRef(1, dt.datetime(2026, 11, 27, h, m, 30), wav.stem)
        ours = decode_spool(root, ref)
        theirs, _ = soundfile.read(wav, dtype="int16")
        assert ours.shape == theirs.shape, wav.name
        lossy = wav.stem.startswith("e1c4f309")  # call #9: 4 % loss; the sniffer conceals it
        for ch in (0, 1):
            same = (
                (ours[:, ch] == theirs[:, ch]) | ((ours[:, ch] == 0) & (np.abs(theirs[:, ch]) == 8))
            ).mean()
            assert same > (0.95 if lossy and ch == 0 else 0.999), (wav.name, ch, same)
        checked += 1
    assert checked == 8


# ---------------------------------------------------------------------------
# Known signals (demo calls)
# ---------------------------------------------------------------------------


def demo(spec) -> tuple:
    result = generate_call(spec)
    audio = decode_call(
        opener(result.rtp.pcap_bytes()),
        opener(result.sip.pcap_bytes()),
        caller_ip=spec.caller_ip,
    )
    return result, decoded(audio)


@pytest.mark.parametrize("codec", [0, 8])
def test_it_puts_the_caller_left_and_the_called_right(codec: int) -> None:
    result, pcm = demo(tone_spec("tone@demo", T0, codec=codec, talk_s=3.0))
    start = int((result.first_rtp_time + 0.1) * 8000)
    assert dominant_freq(pcm[start:, 0]) == pytest.approx(1000, abs=3)  # caller's tone
    assert dominant_freq(pcm[start:, 1]) == pytest.approx(440, abs=3)  # called party's
    # ringing is leading silence; the 60 ms playout delay of the sniffer is kept
    first = np.flatnonzero(pcm.any(axis=1))[0] / 8000
    assert first == pytest.approx(result.first_rtp_time + 0.060, abs=0.002)
    # exactly the demo's own WAV content, 60 ms later
    ref = result.stereo_pcm()
    shift = int(first * 8000) - np.flatnonzero(ref.any(axis=1))[0]
    n = min(len(ref), len(pcm) - shift)
    assert (pcm[shift : shift + n] == ref[:n]).mean() > 0.99


def test_it_keeps_silence_silent_and_loss_as_gaps() -> None:
    quiet = tone_spec(
        "quiet@demo",
        T0,
        caller_signal=SignalSpec(kind="silence"),
        called_signal=SignalSpec(kind="silence"),
    )
    result = generate_call(quiet)
    with pytest.raises(MediaMissing):  # all zero: nothing left after trailing-silence trim
        audio = decode_call(opener(result.rtp.pcap_bytes()), opener(result.sip.pcap_bytes()))
        if not audio.frames:
            raise MediaMissing("silent")
    lossy = tone_spec("lossy@demo", T0, talk_s=6.0, loss_ratio=0.1, dtmf="5", seed=11)
    result, pcm = demo(lossy)
    a_start = int((result.a.first_time + 0.060) * 8000) - 3
    slots = pcm[a_start : a_start + result.a.sent * 160, 0].reshape(-1, 160)
    holes = np.all(slots[:, 8:152] == 0, axis=1).sum()
    caller_media = next(
        m for st, m in zip(result.streams, result.media, strict=True) if st.is_caller
    )
    # every slot without a received audio packet (lost, or a DTMF event: never played) is silent
    assert holes == result.a.sent - len(caller_media.slots) >= result.a_lost + 6
    assert not np.all(pcm[:, 1] == 0)


def test_it_starts_at_the_answer_with_after_connect() -> None:
    spec = tone_spec("after@demo", T0, ring_s=3.0, talk_s=2.0)
    result = generate_call(spec)
    full = decoded(decode_call(opener(result.rtp.pcap_bytes()), opener(result.sip.pcap_bytes())))
    after = decoded(
        decode_call(
            opener(result.rtp.pcap_bytes()), opener(result.sip.pcap_bytes()), after_connect=True
        )
    )
    ring = result.duration - result.connect_duration  # INVITE → 200 OK
    assert len(full) - len(after) == pytest.approx(ring * 8000, abs=2)
    assert np.array_equal(full[-len(after) :], after)
    failed = generate_call(tone_spec("busy@demo", T0, answered=False, final_code=486))
    with pytest.raises(MediaMissing, match="not answered"):
        decode_call(opener(b""), opener(failed.sip.pcap_bytes()), after_connect=True)


# ---------------------------------------------------------------------------
# Hand-made RTP: G.722, unknown codecs, SSRC changes, comfort noise
# ---------------------------------------------------------------------------

CALLER, CALLED = b"\x0a\x01\x00\x01", b"\x0a\x02\x00\x02"


def frame(src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    ip = dpkt.ip.IP(src=src, dst=dst, p=17, ttl=64, data=udp)
    ip.len = 20 + len(udp)
    return bytes(dpkt.ethernet.Ethernet(src=b"\2" * 6, dst=b"\4" * 6, data=ip))


def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return (
        struct.pack(
            ">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc
        )
        + payload
    )


def stream(
    t_us: int,
    pt: int,
    payloads: Iterable[bytes],
    *,
    ssrc: int,
    ts0: int,
    step: int,
    src=CALLER,
    dst=CALLED,
    sport=11000,
    dport=21000,
    ptime_us=20_000,
) -> list[tuple[int, bytes]]:
    return [
        (
            t_us + i * ptime_us,
            frame(src, sport, dst, dport, rtp(pt, 100 + i, ts0 + i * step, ssrc, p)),
        )
        for i, p in enumerate(payloads)
    ]


def g722_packets(freq: float, seconds: float) -> list[bytes]:
    import av

    enc = av.CodecContext.create("g722", "w")
    enc.sample_rate, enc.layout, enc.format = 16000, "mono", "s16"
    enc.open()
    t = np.arange(int(16000 * seconds)) / 16000
    x = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
    out = []
    for i in range(0, len(x), 320):
        f = av.AudioFrame.from_ndarray(x[None, i : i + 320], format="s16", layout="mono")
        f.sample_rate = 16000
        out.extend(bytes(p) for p in enc.encode(f))
    return out


def test_it_decodes_g722_at_16_khz() -> None:
    packets = g722_packets(1000, 2.0)
    pcap = build_pcap(stream(EPOCH_T0 + 500_000, 9, packets, ssrc=7, ts0=1234, step=160))
    pcm = decoded(decode_call(opener(pcap), None, start_us=EPOCH_T0, caller_ip="10.1.0.1"))
    audio = decode_call(opener(pcap), None, start_us=EPOCH_T0, caller_ip="10.1.0.1")
    assert audio.rate == 16000
    audio.close()
    first = np.flatnonzero(pcm[:, 0])[0] / 16000
    assert first == pytest.approx(0.56, abs=0.005)
    assert dominant_freq(pcm[16000:, 0], 16000) == pytest.approx(1000, abs=5)
    assert not pcm[:, 1].any()  # nothing from the called side


def sip_invite(sdp_codec: str, pt: int) -> bytes:
    body = (
        "v=0\r\no=- 1 1 IN IP4 10.1.0.1\r\ns=-\r\nc=IN IP4 10.1.0.1\r\nt=0 0\r\n"
        f"m=audio 11000 RTP/AVP {pt}\r\na=rtpmap:{pt} {sdp_codec}\r\n"
    )
    msg = (
        "INVITE sip:2@b SIP/2.0\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    return frame(CALLER, 5060, CALLED, 5060, msg.encode())


def test_it_names_an_unsupported_codec() -> None:
    pcap = build_pcap(stream(EPOCH_T0, 97, [b"\x3c" * 32] * 10, ssrc=1, ts0=0, step=160))
    with pytest.raises(UnsupportedCodec, match="payload type 97"):
        decode_call(opener(pcap), None, start_us=EPOCH_T0)
    sip = build_pcap([(EPOCH_T0 - 1000, sip_invite("AMR/8000", 97))])
    with pytest.raises(UnsupportedCodec, match="AMR/8000"):
        decode_call(opener(pcap), opener(sip))


def test_it_follows_ssrc_changes_and_timestamp_jumps_and_skips_comfort_noise() -> None:
    from cdr.media.codecs import ulaw_encode

    tone = ulaw_encode((np.sin(2 * np.pi * 1000 * np.arange(160) / 8000) * 8000).astype(np.int16))
    payload = tone.tobytes()
    pkts = stream(EPOCH_T0 + 1_000_000, 0, [payload] * 50, ssrc=1, ts0=5000, step=160)
    # comfort noise for 0.5 s (PT 13), then after a re-INVITE a new SSRC with a random timestamp
    pkts += stream(EPOCH_T0 + 2_000_000, 13, [b"\x40"] * 25, ssrc=1, ts0=13000, step=160)
    pkts += stream(EPOCH_T0 + 3_000_000, 0, [payload] * 50, ssrc=2, ts0=987654321, step=160)
    # the same SSRC jumps its timestamps (a restart): placed by arrival time
    pkts += stream(EPOCH_T0 + 5_000_000, 0, [payload] * 25, ssrc=2, ts0=5, step=160)
    pcm = decoded(
        decode_call(opener(build_pcap(pkts)), None, start_us=EPOCH_T0, caller_ip="10.1.0.1")
    )[:, 0]

    def on(t0: float, t1: float) -> bool:
        return bool(
            np.all(np.abs(pcm[int(t0 * 8000) : int(t1 * 8000)]) > 0)
            or pcm[int(t0 * 8000) : int(t1 * 8000)].any()
        )

    delay = 0.06
    assert not pcm[: int((1 + delay) * 8000) - 1].any()
    assert pcm[int((1.1 + delay) * 8000) : int((1.9 + delay) * 8000)].any()
    assert not pcm[int((2.05 + delay) * 8000) : int((2.95 + delay) * 8000)].any()  # CN + gap
    assert dominant_freq(
        pcm[int((3.1 + delay) * 8000) : int((3.9 + delay) * 8000)]
    ) == pytest.approx(1000, abs=5)
    assert not pcm[int((4.05 + delay) * 8000) : int((4.95 + delay) * 8000)].any()
    assert pcm[int((5.05 + delay) * 8000) : int((5.45 + delay) * 8000)].any()
    assert len(pcm) == pytest.approx((5.5 + delay) * 8000, abs=2)
    assert on(1.2, 1.3)


def test_it_writes_wav_and_ogg(tmp_path: Path) -> None:
    result, pcm = demo(tone_spec("out@demo", T0, talk_s=2.0))
    for fmt in ("wav", "ogg"):
        with open(tmp_path / f"x.{fmt}", "wb") as fh:
            write_audio(iter([pcm[:8000], pcm[8000:]]), len(pcm), 8000, fh, fmt)
        back, rate = soundfile.read(tmp_path / f"x.{fmt}", dtype="int16")
        assert rate == 8000 and back.shape == pcm.shape
        if fmt == "wav":
            assert np.array_equal(back, pcm)
            assert (tmp_path / "x.wav").read_bytes()[:4] == b"RIFF"
        else:
            start = int((result.first_rtp_time + 0.2) * 8000)
            assert dominant_freq(back[start:, 0]) == pytest.approx(1000, abs=5)


def test_it_reads_the_sniffers_audiograph_file() -> None:
    from PIL import Image

    from cdr.media.audiograph import parse_audiograph, render_png

    jpeg = io.BytesIO()
    Image.new("RGB", (300, 64), (200, 30, 30)).save(jpeg, "JPEG")
    peaks = bytes(range(0, 250, 5)) * 6
    blob = (
        f"S1:{len(jpeg.getvalue())}/6.000/20:".encode()
        + jpeg.getvalue()
        + f"P1:{len(peaks)}/6.000/20:".encode()
        + peaks
        + b"P2:3/6.000/20:"
        + b"\x00\x80\xff"
    )
    graphs = parse_audiograph(blob)
    assert set(graphs.spectrograms) == {0} and set(graphs.peaks) == {0, 1}
    assert graphs.peaks[1].tolist() == [0.0, 128 / 255, 1.0]
    png = render_png(graphs, "ALL", [0])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (300, 64 + 2 + 100)
    with pytest.raises(MediaError, match="no spectrogram"):
        render_png(graphs, "S", [1])
    with pytest.raises(MediaError, match="no graph"):
        parse_audiograph(b"garbage")


SIPP = FIXTURES_ROOT / "sipp_uac_pcap.pcap"


def test_it_decodes_a_real_sipp_capture_with_the_caller_left() -> None:
    # SIP and RTP in one tcpdump capture (tests/fixtures/README.md): the caller plays a PCMA
    # recording and an RFC 2833 digit, the called side sends nothing.
    audio = decode_call(lambda: open(SIPP, "rb"), lambda: open(SIPP, "rb"))  # noqa: SIM115
    assert audio.rate == 8000
    pcm = decoded(audio)
    first = np.flatnonzero(pcm[:, 0])[0] / 8000
    assert first == pytest.approx(0.0015 + 0.060, abs=0.003)  # answered at once, 60 ms playout
    assert len(pcm) / 8000 == pytest.approx(first + 7.07, abs=0.02)  # the stream's span
    rms = np.sqrt(np.mean(pcm[:, 0].astype(float) ** 2))
    assert rms > 300 and not pcm[:, 1].any()  # caller left; the called side was silent
