"""RTP → stereo 16-bit PCM, the way the sniffer's ``convertRawToWav`` lays it out.

Rules (shared/reference/sniffer-conversions.md §3-§6):

* Stereo, **left = caller** (RTP sent by the caller, the CDR's "a" side), **right = called**.
* One timeline for both directions that starts at the call's first packet (the INVITE), or at
  the answer (200 OK) with ``after_connect``; ringing is leading silence.
* Each RTP packet is placed at ``segment start + (RTP timestamp − segment's first timestamp)``,
  so loss, silence suppression and hold stay silent gaps, out-of-order packets land where they
  belong, and a new SSRC, a codec change or a timestamp jump (> 0.5 s away from the arrival
  clock, e.g. after a re-INVITE) starts a new segment at its arrival time.
* The sniffer's record jitter buffer (fixed, 60 ms by default) delays its output by 60 ms; we
  add the same delay, so our decoding lines up sample for sample with the sniffer's own WAVs.
* Packets without payload (``savertp=header``, or recording paused with ``pausecall``),
  telephone-events (DTMF) and comfort noise are silence; duplicate streams of one direction
  (overlapping by more than 200 ms) keep only the longest, as ``selectRtpStreams`` does.
* Sample rate = the highest decoded rate of the call (8 kHz G.711, 16 kHz G.722, 48 kHz Opus);
  lower rates are repeated sample by sample like the sniffer does.

Codecs: G.711 µ-law and A-law with the exact ITU tables of ``cdr.media.codecs``; G.722, G.729,
G.723.1, GSM and Opus through FFmpeg's decoders (PyAV). Anything else is an ``UnsupportedCodec``
that names the codec.

Memory stays bounded whatever the call's length: a pre-pass over the RTP pcap reads only
headers (which streams, which payload types); the decode pass writes each direction into its
own sparse temporary file at the right offset (holes read back as silence); the final pass
interleaves both into the output file block by block.
"""

from __future__ import annotations

import ipaddress
import os
import re
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt
import soundfile

from cdr.media.codecs import ALAW_DECODE_TABLE, ULAW_DECODE_TABLE, wav_header
from cdr.media.pcap import PcapReader, udp_of
from cdr.media.spool import MediaError, MediaMissing

__all__ = [
    "CodecSpec",
    "DecodedAudio",
    "SipInfo",
    "StreamHint",
    "UnsupportedCodec",
    "decode_call",
    "parse_sip",
    "write_audio",
]

#: The sniffer's fixed record jitter buffer delays every stream by this much (µs).
PLAYOUT_DELAY_US: Final = 60_000
#: A packet this far from where its timestamp puts it starts a new segment (µs).
RESYNC_US: Final = 500_000
#: Streams of one direction overlapping by more than this are duplicates (µs).
OVERLAP_US: Final = 200_000
_FLUSH_SAMPLES: Final = 1 << 16
_BLOCK_FRAMES: Final = 1 << 16


class UnsupportedCodec(MediaError):
    """The call uses a codec we cannot decode; the reason names it."""


@dataclass(frozen=True)
class CodecSpec:
    """How to decode one payload type: display name, decoder, RTP clock, output rate."""

    name: str
    decoder: str  # "ulaw", "alaw", or an FFmpeg decoder name
    clock: int
    rate: int
    audio: bool = True  # False: telephone-event, comfort noise (never played)


_NOT_AUDIO = {"TELEPHONE-EVENT", "CN", "RED", "ULPFEC", "FLEXFEC", "RTX", "T140", "T38"}
_BY_NAME: Final[dict[str, tuple[str, int]]] = {
    # rtpmap name → (decoder, output rate); None rate = the RTP clock
    "PCMU": ("ulaw", 8000),
    "PCMA": ("alaw", 8000),
    "G722": ("g722", 16000),  # RTP clock 8000 (RFC 3551), audio 16 kHz
    "G729": ("g729", 8000),
    "G729A": ("g729", 8000),
    "G723": ("g723_1", 8000),
    "GSM": ("gsm", 8000),
    "OPUS": ("opus", 48000),
}
_STATIC_PT: Final[dict[int, tuple[str, int]]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    13: ("CN", 8000),
    18: ("G729", 8000),
}


def codec_for(name: str, clock: int) -> CodecSpec:
    """The decoder of an rtpmap ``name/clock``; ``UnsupportedCodec`` when we have none."""
    upper = name.upper()
    if upper in _NOT_AUDIO:
        return CodecSpec(upper, "", clock, clock, audio=False)
    known = _BY_NAME.get(upper)
    if known is None:
        supported = "G.711 µ-law/A-law, G.722, G.729, G.723.1, GSM, Opus"
        raise UnsupportedCodec(
            f"cannot decode the call's audio: codec {name}/{clock} is not supported "
            f"(supported: {supported})"
        )
    decoder, rate = known
    return CodecSpec(upper, decoder, clock, rate)


@dataclass(frozen=True)
class StreamHint:
    """A ``cdr_rtp`` row: which stream the sniffer saw and whether the caller sent it."""

    saddr: str | None
    sport: int | None
    daddr: str | None
    dport: int | None
    ssrc: int | None
    caller: bool | None


# ---------------------------------------------------------------------------
# SIP: timeline start, answer time, SDP payload-type maps and endpoints
# ---------------------------------------------------------------------------


@dataclass
class Sdp:
    """One SDP body: who sent it, its audio endpoint and its payload-type map."""

    from_caller: bool
    ip: bytes | None
    port: int | None
    rtpmap: dict[int, tuple[str, int]]


@dataclass
class SipInfo:
    first_us: int | None = None
    connect_us: int | None = None
    caller_ip: bytes | None = None
    sdps: list[Sdp] = field(default_factory=list)


_CSEQ = re.compile(r"^(?:CSeq)\s*:\s*\d+\s+(\S+)", re.I | re.M)


def _ip_bytes(text: str) -> bytes | None:
    try:
        return ipaddress.ip_address(text.strip()).packed
    except ValueError:
        return None


def _parse_sdp(body: str) -> tuple[bytes | None, int | None, dict[int, tuple[str, int]]]:
    ip: bytes | None = None
    port: int | None = None
    rtpmap: dict[int, tuple[str, int]] = {}
    in_audio = False
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("m="):
            parts = line[2:].split()
            in_audio = bool(parts) and parts[0] == "audio"
            if in_audio and port is None and len(parts) > 1 and parts[1].isdigit():
                port = int(parts[1])
        elif line.startswith("c=") and (in_audio or ip is None):
            parts = line[2:].split()
            if len(parts) >= 3:
                ip = _ip_bytes(parts[2].split("/")[0]) or ip
        elif line.startswith("a=rtpmap:") and (in_audio or port is None):
            m = re.match(r"a=rtpmap:(\d+)\s+([^/\s]+)/(\d+)", line)
            if m:
                rtpmap[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return ip, port, rtpmap


def parse_sip(stream: BinaryIO, name: str = "SIP pcap") -> SipInfo:
    """First packet time, answer time, caller address and SDPs of a call's SIP pcap."""
    reader = PcapReader(stream, name)
    info = SipInfo()
    for ts, frame, _ in reader.packets():
        if info.first_us is None:
            info.first_us = ts
        l4 = udp_of(frame, reader.linktype, tcp=True)
        if l4 is None:
            continue
        src, _sport, _dst, _dport, payload = l4
        text = bytes(payload).decode("latin-1")
        head, _, body = text.partition("\r\n\r\n")
        first = head.split("\r\n", 1)[0]
        if info.caller_ip is None and first.startswith("INVITE "):
            info.caller_ip = src
        if first.startswith("SIP/2.0 2") and info.connect_us is None:
            cseq = _CSEQ.search(head)
            if cseq and cseq.group(1).upper() == "INVITE":
                info.connect_us = ts
        if "m=audio" in body:
            ip, port, rtpmap = _parse_sdp(body)
            from_caller = info.caller_ip is not None and src == info.caller_ip
            info.sdps.append(Sdp(from_caller, ip, port, rtpmap))
    return info


# ---------------------------------------------------------------------------
# Pre-pass: which streams exist
# ---------------------------------------------------------------------------

StreamKey = tuple[bytes, int, bytes, int, int]  # src, sport, dst, dport, ssrc


@dataclass
class _StreamInfo:
    key: StreamKey
    packets: int = 0
    first_us: int = 0
    last_us: int = 0
    pts: Counter = field(default_factory=Counter)
    caller: bool | None = None
    selected: bool = False


def _rtp_header(payload: memoryview) -> tuple[int, int, int, int, int] | None:
    """(payload type, seq, timestamp, ssrc, header length) of an RTP packet, or None."""
    if len(payload) < 12 or payload[0] >> 6 != 2:
        return None
    pt = payload[1] & 0x7F
    if 72 <= pt <= 76:  # RTCP (PT 200-204 with the marker bit)
        return None
    cc = payload[0] & 0x0F
    hlen = 12 + 4 * cc
    seq, ts, ssrc = struct.unpack_from(">HII", payload, 2)
    if payload[0] & 0x10 and len(payload) >= hlen + 4:  # header extension
        hlen += 4 + 4 * int.from_bytes(payload[hlen + 2 : hlen + 4], "big")
    return pt, seq, ts, ssrc, hlen


def _scan(open_rtp: Callable[[], BinaryIO]) -> dict[StreamKey, _StreamInfo]:
    streams: dict[StreamKey, _StreamInfo] = {}
    with open_rtp() as fh:
        reader = PcapReader(fh, "RTP pcap")
        for ts, frame, _ in reader.packets():
            l4 = udp_of(frame, reader.linktype)
            if l4 is None:
                continue
            rtp = _rtp_header(l4[4])
            if rtp is None:
                continue
            key = (l4[0], l4[1], l4[2], l4[3], rtp[3])
            info = streams.get(key)
            if info is None:
                info = streams[key] = _StreamInfo(key, first_us=ts)
            info.packets += 1
            info.last_us = ts
            if len(info.pts) < 16 or rtp[0] in info.pts:
                info.pts[rtp[0]] += 1
    return streams


# ---------------------------------------------------------------------------
# Decoders
# ---------------------------------------------------------------------------


class _Decoder:
    """Decodes one segment's payloads to int16 PCM at the codec's rate."""

    def __init__(self, spec: CodecSpec) -> None:
        self.spec = spec
        self.table = {"ulaw": ULAW_DECODE_TABLE, "alaw": ALAW_DECODE_TABLE}.get(spec.decoder)
        self.ctx = None
        if self.table is None:
            import av  # FFmpeg's decoders (G.722, G.729, GSM, Opus, ...)

            self.ctx = av.CodecContext.create(spec.decoder, "r")
            self.ctx.sample_rate = spec.rate
            self.ctx.layout = "mono"
            self._packet = av.Packet

    def decode(self, payload: bytes) -> npt.NDArray[np.int16]:
        if self.table is not None:
            return self.table[np.frombuffer(payload, dtype=np.uint8)]
        out = []
        try:
            for frame in self.ctx.decode(self._packet(payload)):
                pcm = frame.to_ndarray()
                if pcm.ndim == 2 and pcm.shape[0] > 1 and frame.format.is_planar:
                    pcm = pcm.mean(axis=0)  # a stereo Opus stream: down-mix
                pcm = pcm.reshape(-1)
                if pcm.dtype.kind == "f":
                    pcm = np.clip(pcm * 32768.0, -32768, 32767)
                out.append(pcm.astype(np.int16))
        except Exception:  # a corrupt packet is lost audio, not a failed download
            return np.zeros(0, np.int16)
        return np.concatenate(out) if out else np.zeros(0, np.int16)


def _resample(pcm: npt.NDArray[np.int16], rate: int, out_rate: int) -> npt.NDArray[np.int16]:
    if rate == out_rate or not len(pcm):
        return pcm
    if out_rate % rate == 0:
        return np.repeat(pcm, out_rate // rate)  # what the sniffer does for G.711
    n = int(round(len(pcm) * out_rate / rate))
    x = np.linspace(0, len(pcm) - 1, n)
    return np.interp(x, np.arange(len(pcm)), pcm).astype(np.int16)


# ---------------------------------------------------------------------------
# Output channels (sparse temporary files)
# ---------------------------------------------------------------------------


class _Channel:
    """One direction's PCM in a sparse file; contiguous writes are batched."""

    def __init__(self, directory: Path | None) -> None:
        self.file = tempfile.TemporaryFile(dir=directory)
        self.fd = self.file.fileno()
        self.start = 0
        self.parts: list[npt.NDArray[np.int16]] = []
        self.size = 0
        self.end = 0

    def write(self, pos: int, pcm: npt.NDArray[np.int16]) -> None:
        if pos < 0:
            pcm = pcm[-pos:]
            pos = 0
        if not len(pcm):
            return
        if not self.parts or pos != self.start + self.size or self.size >= _FLUSH_SAMPLES:
            self.flush()
            self.start = pos
        self.parts.append(pcm)
        self.size += len(pcm)
        self.end = max(self.end, pos + len(pcm))

    def flush(self) -> None:
        if self.parts:
            data = np.concatenate(self.parts).astype("<i2", copy=False)
            os.pwrite(self.fd, data.tobytes(), self.start * 2)
        self.parts, self.size = [], 0

    def read(self, start: int, count: int) -> npt.NDArray[np.int16]:
        raw = os.pread(self.fd, count * 2, start * 2)
        out = np.zeros(count, dtype=np.int16)
        got = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
        out[: len(got)] = got
        return out

    def close(self) -> None:
        self.file.close()


# ---------------------------------------------------------------------------
# The decoder of a call
# ---------------------------------------------------------------------------


@dataclass
class DecodedAudio:
    """Interleaved stereo PCM of a call in a temporary file (deleted when closed)."""

    left: _Channel
    right: _Channel
    rate: int
    frames: int

    def blocks(self, start: int = 0) -> Iterator[npt.NDArray[np.int16]]:
        """[n, 2] int16 blocks from frame ``start`` to the end."""
        pos = start
        while pos < self.frames:
            count = min(_BLOCK_FRAMES, self.frames - pos)
            block = np.empty((count, 2), dtype=np.int16)
            block[:, 0] = self.left.read(pos, count)
            block[:, 1] = self.right.read(pos, count)
            yield block
            pos += count

    def close(self) -> None:
        self.left.close()
        self.right.close()


@dataclass
class _Segment:
    decoder: _Decoder
    pt: int
    base_us: int  # arrival time of the segment's first packet
    base_ts: int  # its unwrapped RTP timestamp
    last_ts: int  # the last raw timestamp seen (for unwrapping)
    ext_ts: int  # the last unwrapped timestamp


def _hint_direction(info: _StreamInfo, hints: Sequence[StreamHint]) -> bool | None:
    src, sport, dst, dport, ssrc = info.key
    for hint in hints:
        if hint.caller is None:
            continue
        same_addr = (
            hint.saddr
            and hint.daddr
            and _ip_bytes(hint.saddr) == src
            and _ip_bytes(hint.daddr) == dst
            and (hint.sport in (None, sport))
            and (hint.dport in (None, dport))
        )
        if same_addr:
            return hint.caller
    for hint in hints:
        if hint.caller is not None and hint.ssrc is not None and hint.ssrc == ssrc:
            return hint.caller
    return None


def _sdp_direction(info: _StreamInfo, sip: SipInfo) -> bool | None:
    src, sport, dst, dport, _ = info.key
    for sdp in sip.sdps:
        if sdp.ip is None:
            continue
        if (sdp.ip, sdp.port) == (dst, dport):
            return not sdp.from_caller  # sent to the SDP's owner
        if (sdp.ip, sdp.port) == (src, sport):
            return sdp.from_caller  # sent from the SDP's owner (symmetric RTP)
    return None


def _assign(
    streams: dict[StreamKey, _StreamInfo],
    sip: SipInfo,
    hints: Sequence[StreamHint],
    caller_ip: bytes | None,
) -> None:
    caller_ip = caller_ip or sip.caller_ip
    for info in streams.values():
        direction = _hint_direction(info, hints)
        if direction is None:
            direction = _sdp_direction(info, sip)
        if direction is None and caller_ip is not None:
            src, _, dst, _, _ = info.key
            direction = src == caller_ip if src == caller_ip or dst == caller_ip else None
        info.caller = True if direction is None else direction


def _codec_of(pt: int, info: _StreamInfo, sip: SipInfo) -> CodecSpec:
    src, sport, dst, dport, _ = info.key
    # The receiver's SDP defines the payload types it expects; then the sender's, then any.
    ordered = sorted(
        sip.sdps,
        key=lambda s: (
            0 if (s.ip, s.port) == (dst, dport) else 1 if (s.ip, s.port) == (src, sport) else 2
        ),
    )
    for sdp in ordered:
        if pt in sdp.rtpmap:
            return codec_for(*sdp.rtpmap[pt])
    if pt in _STATIC_PT:
        return codec_for(*_STATIC_PT[pt])
    raise UnsupportedCodec(
        f"cannot decode the call's audio: payload type {pt} is not described by the call's "
        "SDP (no SIP pcap?) and is not a static RTP payload type"
    )


def _select(streams: dict[StreamKey, _StreamInfo], sip: SipInfo) -> list[_StreamInfo]:
    """Streams worth decoding: audio, ≥ 2 packets, no duplicates of a longer one per side."""
    candidates = []
    for info in streams.values():
        audio = sum(n for pt, n in info.pts.items() if _codec_of(pt, info, sip).audio)
        if audio >= 2:
            candidates.append((audio, info))
    chosen: list[_StreamInfo] = []
    for _audio, info in sorted(candidates, key=lambda c: -c[0]):
        clash = any(
            o.caller == info.caller
            and min(o.last_us, info.last_us) - max(o.first_us, info.first_us) > OVERLAP_US
            for o in chosen
        )
        if not clash:
            info.selected = True
            chosen.append(info)
    return chosen


def decode_call(
    open_rtp: Callable[[], BinaryIO],
    open_sip: Callable[[], BinaryIO] | None = None,
    *,
    start_us: int | None = None,
    connect_us: int | None = None,
    caller_ip: str | None = None,
    hints: Sequence[StreamHint] = (),
    after_connect: bool = False,
    tmp_dir: Path | None = None,
) -> DecodedAudio:
    """Decode a call's RTP pcap (opened twice through ``open_rtp``) into stereo PCM.

    ``start_us``/``connect_us`` (µs since the epoch, from the CDR) are used when the SIP pcap
    is missing; ``hints`` are the call's ``cdr_rtp`` rows (direction of each stream).
    """
    sip = SipInfo()
    if open_sip is not None:
        try:
            with open_sip() as fh:
                sip = parse_sip(fh)
        except MediaMissing:
            sip = SipInfo()
    t0 = sip.first_us if sip.first_us is not None else start_us
    if after_connect:
        t0 = sip.connect_us if sip.connect_us is not None else connect_us
        if t0 is None:
            raise MediaMissing("the call was not answered: there is no audio after connect")
    streams = _scan(open_rtp)
    if t0 is None:
        t0 = min((s.first_us for s in streams.values()), default=0)
    _assign(streams, sip, hints, _ip_bytes(caller_ip) if caller_ip else None)
    chosen = _select(streams, sip)
    if not chosen:
        raise MediaMissing("the call's RTP pcap holds no audio stream")
    out_rate = max(
        _codec_of(pt, info, sip).rate
        for info in chosen
        for pt in info.pts
        if _codec_of(pt, info, sip).audio
    )
    left = _Channel(tmp_dir)
    try:
        right = _Channel(tmp_dir)
    except BaseException:
        left.close()
        raise
    try:
        _decode(open_rtp, streams, sip, t0, out_rate, left, right)
        left.flush()  # the last writes may hit a full disk too: close the channels then
        right.flush()
    except BaseException:
        left.close()
        right.close()
        raise
    audio = DecodedAudio(left, right, out_rate, max(left.end, right.end))
    audio.frames = _trim_trailing_silence(audio)
    return audio


def _decode(
    open_rtp: Callable[[], BinaryIO],
    streams: dict[StreamKey, _StreamInfo],
    sip: SipInfo,
    t0: int,
    out_rate: int,
    left: _Channel,
    right: _Channel,
) -> None:
    segments: dict[StreamKey, _Segment] = {}
    codecs: dict[tuple[StreamKey, int], CodecSpec] = {}
    origin = t0 - PLAYOUT_DELAY_US  # a packet arriving at t plays at t + 60 ms
    with open_rtp() as fh:
        reader = PcapReader(fh, "RTP pcap")
        for ts_us, frame, wirelen in reader.packets():
            l4 = udp_of(frame, reader.linktype)
            if l4 is None:
                continue
            payload = l4[4]
            rtp = _rtp_header(payload)
            if rtp is None:
                continue
            pt, _seq, ts, ssrc, hlen = rtp
            key = (l4[0], l4[1], l4[2], l4[3], ssrc)
            info = streams.get(key)
            if info is None or not info.selected:
                continue
            spec = codecs.get((key, pt))
            if spec is None:
                spec = codecs[(key, pt)] = _codec_of(pt, info, sip)
            if not spec.audio:
                continue
            body = payload[hlen:]
            if payload[0] & 0x20 and len(body):  # padding
                body = body[: len(body) - body[-1]]
            if len(frame) < wirelen or not len(body):
                continue  # payload not saved (savertp=header, pausecall): silence
            seg = segments.get(key)
            if seg is not None and seg.pt == pt:
                delta = (ts - seg.last_ts + 0x80000000) % 0x100000000 - 0x80000000
                ext = seg.ext_ts + delta
                at = seg.base_us + (ext - seg.base_ts) * 1_000_000 // spec.clock
                if abs(at - ts_us) > RESYNC_US:
                    seg = None  # timestamps jumped (re-INVITE, restart): resync
                else:
                    seg.last_ts, seg.ext_ts = ts, ext
            else:
                seg = None
            if seg is None:
                seg = segments[key] = _Segment(_Decoder(spec), pt, ts_us, ts, ts, ts)
                at = ts_us
            pcm = _resample(seg.decoder.decode(bytes(body)), spec.rate, out_rate)
            pos = (at - origin) * out_rate // 1_000_000
            (left if info.caller else right).write(pos, pcm)


def _trim_trailing_silence(audio: DecodedAudio) -> int:
    """Frames up to the last non-zero sample of either channel (the sniffer drops the rest)."""
    end = audio.frames
    while end > 0:
        lo = max(0, end - _BLOCK_FRAMES)
        both = audio.left.read(lo, end - lo) | audio.right.read(lo, end - lo)
        nz = np.flatnonzero(both)
        if len(nz):
            return lo + int(nz[-1]) + 1
        end = lo
    return 0


# ---------------------------------------------------------------------------
# Writing WAV / OGG
# ---------------------------------------------------------------------------


def write_audio(
    blocks: Iterator[npt.NDArray[np.int16]], frames: int, rate: int, out: BinaryIO, fmt: str
) -> None:
    """Write stereo int16 blocks as ``wav`` (plain 44-byte header) or ``ogg`` (Vorbis)."""
    if fmt == "wav":
        out.write(wav_header(frames, rate))
        for block in blocks:
            out.write(np.ascontiguousarray(block, dtype="<i2").tobytes())
        return
    if fmt != "ogg":
        raise ValueError(fmt)
    guard = _WriteGuard(out)
    with soundfile.SoundFile(
        guard, "w", samplerate=rate, channels=2, format="OGG", subtype="VORBIS"
    ) as sf:
        for block in blocks:
            sf.write(block)
            if guard.error is not None:
                break
    if guard.error is not None:
        raise guard.error


class _WriteGuard:
    """A file for soundfile's virtual I/O that keeps the first write error.

    soundfile calls ``write`` from a C callback, where an exception (a full disk: ENOSPC) is
    only printed and the encoder carries on: the result would be a silently broken OGG.
    The error is kept and raised once the encoder has finished.
    """

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        if self.error is None:
            try:
                self.out.write(data)
            except OSError as exc:
                self.error = exc
        return len(data)  # a short count would make the encoder retry

    def read(self, size: int = -1) -> bytes:
        return self.out.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.out.seek(offset, whence)

    def tell(self) -> int:
        return self.out.tell()


def _damaged(path: Path, exc: Exception) -> MediaError:
    return MediaError(f"the sniffer's audio file {path.name} is damaged or not audio ({exc})")


def _open_audio(path: Path) -> soundfile.SoundFile:
    try:
        sf = soundfile.SoundFile(path)
    except (RuntimeError, ValueError) as exc:  # LibsndfileError is a RuntimeError
        raise _damaged(path, exc) from None
    if sf.frames <= 0:
        sf.close()
        raise MediaError(f"the sniffer's audio file {path.name} holds no audio")
    return sf


def audio_file_rate(path: Path) -> int:
    """The sample rate of a readable, non-empty audio file (MediaError otherwise)."""
    with _open_audio(path) as sf:
        return sf.samplerate


def audio_file_blocks(
    path: Path, start_frame: int = 0
) -> tuple[Iterator[npt.NDArray[np.int16]], int, int]:
    """(stereo int16 blocks, frames, rate) of an audio file (the sniffer's wav/ogg/mp3).

    A damaged, truncated or empty file is a MediaError (also while the blocks are read).
    """
    sf = _open_audio(path)
    frames, rate = sf.frames, sf.samplerate
    start_frame = min(max(start_frame, 0), frames)

    def gen() -> Iterator[npt.NDArray[np.int16]]:
        with sf:
            sf.seek(start_frame)
            while True:
                try:
                    block = sf.read(_BLOCK_FRAMES, dtype="int16", always_2d=True)
                except (RuntimeError, ValueError) as exc:  # LibsndfileError is a RuntimeError
                    raise _damaged(path, exc) from None
                if not len(block):
                    return
                if block.shape[1] == 1:  # a mono recording: the same on both sides
                    block = np.repeat(block, 2, axis=1)
                yield block[:, :2]

    return gen(), frames - start_frame, rate
