"""Audio graphs (getAudioGraph): spectrogram ("S") and waveform peaks ("P") as PNG.

Sources, best first: the sniffer's own ``.audiograph`` file (spool §8: per channel an
optional ``S<c>:<bytes>/<duration>/<ms_per_px>:`` JPEG/PNG spectrogram and an optional
``P<c>:<count>/<duration>/<ms_per_px>:`` block of uint8 peaks), else the call's audio (the
sniffer's WAV or our decoding of the RTP pcap), computed here with numpy in one streaming pass
(bounded memory: one block of samples plus one FFT window per column).

Channel 1 / side ``L`` is the caller, channel 2 / side ``R`` the called party.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from cdr.media.spool import MediaError

__all__ = ["Graphs", "compute", "parse_audiograph", "render_png"]

MAX_WIDTH: Final = 2000
MIN_WIDTH: Final = 200
MS_PER_PIXEL: Final = 20
SPECTRO_HEIGHT: Final = 128
WAVE_HEIGHT: Final = 100
_HEADER: Final = re.compile(rb"([SP])([12]):(\d+)/([0-9.]+)/([0-9.]+):")


@dataclass
class Graphs:
    """Per channel (0 = caller, 1 = called): spectrogram image and waveform peaks (0..1)."""

    spectrograms: dict[int, Image.Image] = field(default_factory=dict)
    peaks: dict[int, npt.NDArray[np.float64]] = field(default_factory=dict)


def parse_audiograph(data: bytes) -> Graphs:
    """The sniffer's ``.audiograph`` blocks."""
    graphs = Graphs()
    pos = 0
    while pos < len(data):
        m = _HEADER.match(data, pos)
        if m is None:
            break
        kind, channel, size = m.group(1), int(m.group(2)) - 1, int(m.group(3))
        body = data[m.end() : m.end() + size]
        pos = m.end() + size
        if kind == b"S":
            try:
                graphs.spectrograms[channel] = Image.open(io.BytesIO(body)).convert("RGB")
            except Exception as exc:  # a broken image in the file: say so
                raise MediaError(
                    f"the sniffer's audiograph has a broken spectrogram ({exc})"
                ) from None
        else:
            graphs.peaks[channel] = np.frombuffer(body, dtype=np.uint8) / 255.0
    if not graphs.spectrograms and not graphs.peaks:
        raise MediaError("the sniffer's audiograph file holds no graph")
    return graphs


def _palette() -> npt.NDArray[np.uint8]:
    """256 colours from black through blue, red and yellow to white (a "heat" map)."""
    stops = np.array(
        [[0, 0, 0], [20, 0, 120], [170, 0, 110], [250, 90, 0], [255, 220, 40], [255, 255, 255]],
        dtype=np.float64,
    )
    x = np.linspace(0, len(stops) - 1, 256)
    lo = np.floor(x).astype(int).clip(0, len(stops) - 2)
    frac = (x - lo)[:, None]
    return (stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype(np.uint8)


_PALETTE: Final = _palette()


def compute(
    blocks: Iterable[npt.NDArray[np.int16]], frames: int, rate: int, *, spectrogram: bool = True
) -> Graphs:
    """Spectrogram and peaks of stereo int16 audio, one column per ``MS_PER_PIXEL`` ms."""
    if frames <= 0:
        raise MediaError("the recording is empty: nothing to draw")
    width = int(np.clip(frames * 1000 // (rate * MS_PER_PIXEL), MIN_WIDTH, MAX_WIDTH))
    spp = frames / width  # samples per pixel column (fractional)
    n_fft = 1 << int(np.ceil(np.log2(max(rate * 0.032, 64))))
    bounds = np.floor(np.arange(width + 1) * spp).astype(np.int64)
    window = np.hanning(n_fft)
    peaks = np.zeros((2, width))
    spec = np.zeros((2, width, n_fft // 2 + 1))
    carry = np.zeros((0, 2), dtype=np.int16)
    offset = 0  # absolute index of carry[0]
    col_peak = 0  # next column whose peak is not final yet
    col_fft = 0
    for block in _with_tail(blocks, n_fft):
        buf = np.concatenate([carry, block]) if len(carry) else block
        end = offset + len(buf)
        # Peaks: columns whose sample range is fully inside the buffer.
        last = int(np.searchsorted(bounds, end, side="right")) - 1
        if last > col_peak:
            idx = bounds[col_peak:last] - offset
            mag = np.abs(buf[: bounds[last] - offset].astype(np.int32))
            for ch in (0, 1):
                peaks[ch, col_peak:last] = np.maximum.reduceat(mag[:, ch], idx) / 32768.0
            col_peak = last
        # Spectrogram: an FFT window at the start of each column, when fully available.
        if spectrogram:
            ready = int(np.searchsorted(bounds[:width] + n_fft, end, side="right"))
            if ready > col_fft:
                starts = bounds[col_fft:ready] - offset
                idx = starts[:, None] + np.arange(n_fft)
                for ch in (0, 1):
                    seg = buf[:, ch].astype(np.float64)[idx] * window
                    spec[ch, col_fft:ready] = np.abs(np.fft.rfft(seg, axis=1))
                col_fft = ready
        # Keep the samples that a column still needs (peaks or FFT window), drop the rest.
        need = [int(bounds[col_peak])] if col_peak < width else []
        if spectrogram and col_fft < width:
            need.append(int(bounds[col_fft]))
        keep_from = max(0, min(min(need) - offset if need else len(buf), len(buf)))
        carry = buf[keep_from:]
        offset += keep_from
    graphs = Graphs()
    for ch in (0, 1):
        graphs.peaks[ch] = np.clip(peaks[ch], 0, 1)
        if spectrogram:
            graphs.spectrograms[ch] = _spectrogram_image(spec[ch], n_fft)
    return graphs


def _with_tail(
    blocks: Iterable[npt.NDArray[np.int16]], pad: int
) -> Iterator[npt.NDArray[np.int16]]:
    """The blocks, then ``pad`` silent frames so the last columns get full FFT windows."""
    yield from blocks
    yield np.zeros((pad, 2), dtype=np.int16)


def _spectrogram_image(mag: npt.NDArray[np.float64], n_fft: int) -> Image.Image:
    full_scale = 32768.0 * n_fft / 4  # a full-scale sine through a Hann window
    db = 20 * np.log10(np.maximum(mag, 1e-9) / full_scale)
    level = np.clip((db + 90.0) / 90.0, 0, 1)  # -90 dBFS .. 0 dBFS
    # rows: high frequencies on top; resample the bins to the image height
    bins = level.shape[1]
    rows = np.linspace(bins - 1, 0, SPECTRO_HEIGHT).round().astype(int)
    img = _PALETTE[(level[:, rows].T * 255).astype(np.uint8)]
    return Image.fromarray(img, "RGB")


def _waveform_image(peaks: npt.NDArray[np.float64]) -> Image.Image:
    h = WAVE_HEIGHT
    half = (h - 1) / 2
    amp = np.clip(peaks, 0, 1) * half
    y = np.arange(h)[:, None]
    mask = np.abs(y - half) <= np.maximum(amp[None, :], 0.5)
    img = np.full((h, len(peaks), 3), 255, dtype=np.uint8)
    img[mask] = (30, 90, 200)
    img[int(round(half)), :] = np.where(mask[int(round(half)), :, None], img[int(round(half))], 180)
    return Image.fromarray(img, "RGB")


def render_png(graphs: Graphs, kind: str, channels: Iterable[int]) -> bytes:
    """PNG of the requested graphs: ``S``, ``P`` or ``ALL`` for each channel, stacked."""
    parts: list[Image.Image] = []
    for ch in channels:
        if kind in ("S", "ALL"):
            img = graphs.spectrograms.get(ch)
            if img is None and kind == "S":
                raise MediaError("no spectrogram for this side of the call")
            if img is not None:
                parts.append(img)
        if kind in ("P", "ALL"):
            peaks = graphs.peaks.get(ch)
            if peaks is None and kind == "P":
                raise MediaError("no waveform for this side of the call")
            if peaks is not None:
                parts.append(_waveform_image(peaks))
    if not parts:
        raise MediaError("no audio graph for this call")
    width = max(p.width for p in parts)
    canvas = Image.new("RGB", (width, sum(p.height for p in parts) + 2 * (len(parts) - 1)), "white")
    y = 0
    for p in parts:
        canvas.paste(p, (0, y))
        y += p.height + 2
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=False)
    return out.getvalue()
