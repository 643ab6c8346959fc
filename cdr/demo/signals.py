"""Deterministic 8 kHz test/demo audio (numpy only, seeded, int16).

* :func:`tone` – a pure sine (what SIPp fixtures use; easy to check with an FFT),
* :func:`dtmf_tones` – in-band DTMF digit sequences (ITU-T Q.23 frequency pairs),
* :func:`speech_like` – a voice-ish signal: a glottal pulse train with intonation,
  shaped by vowel formants, cut into syllables/words with pauses and a little
  fricative noise, over faint room noise. It is not speech, but it looks and
  sounds like it on a waveform/spectrogram view, and G.711/LZO treat it like it.

Everything is vectorised: 30 s of speech-like audio takes a few milliseconds, which
matters because the demo generator makes hundreds of calls. The same arguments and
seed always give the same samples (numpy's PCG64 is stable across platforms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "DTMF_EVENT_CODES",
    "DTMF_FREQS",
    "SAMPLE_RATE",
    "SignalSpec",
    "dtmf_tones",
    "silence",
    "speech_like",
    "tone",
]

#: All generators produce this rate (G.711 narrowband).
SAMPLE_RATE: Final = 8000

Int16Array = npt.NDArray[np.int16]
Float64Array = npt.NDArray[np.float64]

#: DTMF digit → (low group Hz, high group Hz), ITU-T Q.23.
DTMF_FREQS: Final[dict[str, tuple[int, int]]] = {
    "1": (697, 1209),
    "2": (697, 1336),
    "3": (697, 1477),
    "A": (697, 1633),
    "4": (770, 1209),
    "5": (770, 1336),
    "6": (770, 1477),
    "B": (770, 1633),
    "7": (852, 1209),
    "8": (852, 1336),
    "9": (852, 1477),
    "C": (852, 1633),
    "*": (941, 1209),
    "0": (941, 1336),
    "#": (941, 1477),
    "D": (941, 1633),
}

#: DTMF digit → RFC 4733 (ex-2833) telephone-event code.
DTMF_EVENT_CODES: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}

# Vowel formants (F1, F2, F3 in Hz) with bandwidths (Hz) and relative gains, roughly
# Peterson & Barney averages; enough variety for a plausible spectrogram.
_VOWELS: Final = np.array(
    [
        # F1,  F2,   F3,   B1, B2,  B3
        [730, 1090, 2440, 80, 90, 120],  # a
        [530, 1840, 2480, 60, 90, 120],  # e
        [270, 2290, 3010, 50, 100, 120],  # i
        [570, 840, 2410, 70, 80, 120],  # o
        [300, 870, 2240, 50, 80, 120],  # u
        [490, 1350, 1690, 60, 80, 100],  # schwa-ish
    ],
    dtype=np.float64,
)
_FORMANT_GAINS: Final = np.array([1.0, 0.5, 0.25])
_IMPULSE_LEN: Final = 256  # 32 ms: long enough for the narrowest formant to ring out


def _level_to_amplitude(level_dbfs: float) -> float:
    """Peak amplitude of a full-scale-referenced sine at ``level_dbfs``."""
    return 32767.0 * 10.0 ** (level_dbfs / 20.0)


def _to_int16(x: Float64Array) -> Int16Array:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def silence(n_samples: int) -> Int16Array:
    """``n_samples`` of digital silence."""
    return np.zeros(n_samples, dtype=np.int16)


def tone(
    freq: float,
    n_samples: int,
    *,
    level_dbfs: float = -12.0,
    phase: float = 0.0,
    rate: int = SAMPLE_RATE,
) -> Int16Array:
    """A pure sine of ``freq`` Hz, ``n_samples`` long, peak at ``level_dbfs``."""
    t = np.arange(n_samples, dtype=np.float64)
    return _to_int16(_level_to_amplitude(level_dbfs) * np.sin(2 * np.pi * freq / rate * t + phase))


def dtmf_tones(
    digits: str,
    *,
    tone_ms: int = 100,
    gap_ms: int = 100,
    level_dbfs: float = -10.0,
    rate: int = SAMPLE_RATE,
) -> Int16Array:
    """In-band DTMF for ``digits``: each digit ``tone_ms`` of its two tones, then ``gap_ms``.

    Each tone of the pair is at ``level_dbfs`` (so the sum peaks ~6 dB higher).
    Unknown characters produce a pause of the same length, which makes ``","`` a
    handy separator.
    """
    n_tone = rate * tone_ms // 1000
    n_gap = rate * gap_ms // 1000
    t = np.arange(n_tone, dtype=np.float64) / rate
    amp = _level_to_amplitude(level_dbfs)
    # 5 ms raised-cosine ramps avoid clicks (and the splatter a real phone filters).
    ramp_n = min(rate // 200, n_tone // 2)
    env = np.ones(n_tone)
    if ramp_n:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp_n) / ramp_n)
        env[:ramp_n] = ramp
        env[-ramp_n:] = ramp[::-1]
    out = np.zeros((len(digits), n_tone + n_gap), dtype=np.float64)
    for i, digit in enumerate(digits.upper()):
        pair = DTMF_FREQS.get(digit)
        if pair is None:
            continue
        lo, hi = pair
        out[i, :n_tone] = amp * env * (np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t))
    return _to_int16(out.ravel())


def _formant_impulses(rate: int) -> Float64Array:
    """One impulse response per vowel: a sum of damped sinusoids at its formants."""
    t = np.arange(_IMPULSE_LEN, dtype=np.float64) / rate
    f = _VOWELS[:, :3, None]
    b = _VOWELS[:, 3:, None]
    g = _FORMANT_GAINS[None, :, None]
    h = (g * np.exp(-np.pi * b * t) * np.sin(2 * np.pi * f * t)).sum(axis=1)
    return h / np.abs(h).max(axis=1, keepdims=True)


def speech_like(
    n_samples: int,
    *,
    seed: int = 0,
    f0: float = 120.0,
    level_dbfs: float = -18.0,
    rate: int = SAMPLE_RATE,
) -> Int16Array:
    """A deterministic speech-like signal of ``n_samples`` at ``rate``.

    ``f0`` is the mean pitch (≈120 Hz sounds male, ≈210 Hz female); ``level_dbfs``
    is the RMS level of the voiced parts. Structure: phrases of 2–6 words separated
    by 0.3–1.0 s pauses; words of 1–3 syllables (120–320 ms each) with short gaps;
    each syllable has its own vowel, a sin² amplitude envelope, a falling pitch and,
    sometimes, a leading fricative noise burst. Faint noise (≈ −66 dBFS) fills the
    pauses so the channel is never digitally silent, like a real microphone.

    Cost is dominated by a handful of passes over the output; the pitch and
    envelope maths runs only at glottal pulse positions (~100/s), not per sample.
    """
    rng = np.random.default_rng([seed, 0x5BEEC4])
    if n_samples <= 0:
        return np.zeros(0, dtype=np.int16)

    # --- 1. syllable layout (a short Python loop over ~4 syllables per second) ---
    starts: list[int] = []
    lengths: list[int] = []
    pos = int(rng.uniform(0.05, 0.4) * rate)
    while pos < n_samples:
        for _word in range(int(rng.integers(2, 7))):
            for _syl in range(int(rng.integers(1, 4))):
                length = int(rng.uniform(0.12, 0.32) * rate)
                starts.append(pos)
                lengths.append(length)
                pos += length
            pos += int(rng.uniform(0.03, 0.12) * rate)  # inter-word gap
        pos += int(rng.uniform(0.3, 1.0) * rate)  # phrase pause (breath)
    syl_start = np.array(starts, dtype=np.int64)
    syl_len = np.array(lengths, dtype=np.int64)
    n_syl = len(syl_start)
    syl_vowel = rng.integers(0, len(_VOWELS), n_syl)
    syl_gain = rng.uniform(0.55, 1.0, n_syl)
    syl_fric = rng.random(n_syl) < 0.35
    syl_pitch = rng.uniform(0.9, 1.12, n_syl)
    phrase_phase = rng.uniform(0, 2 * np.pi)

    # --- 2. glottal pulses: integrate f0 on a 1.25 ms grid, interpolate crossings ---
    # The grid step must stay below the shortest pitch period (f0 < 800 Hz here).
    step = max(rate // 800, 1)
    grid = np.arange(0, n_samples + step, step, dtype=np.int64)
    g_syl = np.searchsorted(syl_start, grid, side="right") - 1
    g_k = np.maximum(g_syl, 0)
    g_rel = (grid - syl_start[g_k]) / syl_len[g_k]
    g_in = (g_syl >= 0) & (g_rel < 1.0)
    contour = 1.0 + 0.08 * np.sin(2 * np.pi * 0.35 * grid / rate + phrase_phase)
    f0_grid = f0 * contour * np.where(g_in, syl_pitch[g_k] * (1.05 - 0.1 * g_rel), 1.0)
    phase = np.concatenate(([0.0], np.cumsum(f0_grid[:-1] * step / rate)))
    crossed = np.nonzero(np.floor(phase[1:]) > np.floor(phase[:-1]))[0]
    frac = (np.floor(phase[crossed + 1]) - phase[crossed]) / (phase[crossed + 1] - phase[crossed])
    pulse_at = grid[crossed] + np.rint(frac * step).astype(np.int64)
    pulse_at = pulse_at[pulse_at < n_samples]
    p_syl = np.searchsorted(syl_start, pulse_at, side="right") - 1
    p_k = np.maximum(p_syl, 0)
    p_rel = (pulse_at - syl_start[p_k]) / syl_len[p_k]
    keep = (p_syl >= 0) & (p_rel < 1.0)
    pulse_at, p_k, p_rel = pulse_at[keep], p_k[keep], p_rel[keep]
    pulse_amp = np.sin(np.pi * p_rel) ** 2 * syl_gain[p_k] * rng.uniform(0.9, 1.1, len(p_k))

    # --- 3. vocal tract: add the syllable vowel's impulse response at every pulse ---
    h = _formant_impulses(rate)
    taps = np.arange(_IMPULSE_LEN, dtype=np.int64)
    where = (pulse_at[:, None] + taps[None, :]).ravel()
    weights = (pulse_amp[:, None] * h[syl_vowel[p_k]]).ravel()
    voiced = np.bincount(where, weights=weights, minlength=n_samples + _IMPULSE_LEN)[:n_samples]

    # --- 4. levels: normalise the voiced RMS, then add fricatives and a noise floor ---
    energy = float(np.einsum("i,i->", voiced, voiced))  # np.dot would spin up BLAS threads
    active = max(int(np.count_nonzero(np.abs(voiced) > 0.05)), 1)
    target = _level_to_amplitude(level_dbfs) / np.sqrt(2)
    signal = voiced * (target / max(np.sqrt(energy / active), 1e-9))

    # Fricatives: first-differenced (high-tilted) noise in a sine window, 70 ms long,
    # placed at the start of ~35 % of syllables. Built only over those samples.
    fric_len = int(0.07 * rate)
    f_idx = np.nonzero(syl_fric)[0]
    if len(f_idx):
        offs = np.arange(fric_len, dtype=np.int64)
        at = (syl_start[f_idx, None] + offs[None, :]).ravel()
        win = np.sin(np.pi * (offs + 0.5) / fric_len)[None, :] * syl_gain[f_idx, None]
        hiss = np.diff(rng.standard_normal((len(f_idx), fric_len + 1)), axis=1)
        burst = (hiss * win * (0.35 * target)).ravel()
        ok = at < n_samples
        np.add.at(signal, at[ok], burst[ok])  # bursts never overlap; add.at is for safety

    signal += (rng.random(n_samples, dtype=np.float32) - 0.5) * (2 * _level_to_amplitude(-66.0))
    return _to_int16(signal)


@dataclass(frozen=True, kw_only=True)
class SignalSpec:
    """What one direction of a call "says"; rendered lazily for the call's length.

    ``kind``: ``"tone"`` (``freq``), ``"speech"`` (``f0``), ``"dtmf"`` (``digits``
    played in-band, then silence) or ``"silence"``. ``level_dbfs`` applies to all.
    """

    kind: Literal["tone", "speech", "dtmf", "silence"] = "speech"
    freq: float = 440.0
    f0: float = 120.0
    digits: str = ""
    level_dbfs: float = -18.0

    def render(self, n_samples: int, seed: int = 0, rate: int = SAMPLE_RATE) -> Int16Array:
        """Produce exactly ``n_samples`` int16 samples (deterministic in ``seed``)."""
        if self.kind == "tone":
            return tone(self.freq, n_samples, level_dbfs=self.level_dbfs, rate=rate)
        if self.kind == "speech":
            return speech_like(
                n_samples, seed=seed, f0=self.f0, level_dbfs=self.level_dbfs, rate=rate
            )
        if self.kind == "dtmf":
            out = np.zeros(n_samples, dtype=np.int16)
            seq = dtmf_tones(self.digits, level_dbfs=self.level_dbfs, rate=rate)[:n_samples]
            out[: len(seq)] = seq
            return out
        if self.kind == "silence":
            return silence(n_samples)
        raise ValueError(f"unknown signal kind: {self.kind!r}")
