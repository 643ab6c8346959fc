"""G.711 µ-law / A-law codecs and the sniffer's codec-number table.

Everything here is pure numpy and bit-exact with the ITU-T G.711 reference
implementation (``g711.c`` of the ITU-T G.191 Software Tool Library):

* decoding is a lookup in a 256-entry ``int16`` table per law,
* encoding is a lookup in a 65,536-entry ``uint8`` table per law (indexed by the
  16-bit two's-complement sample), built once at import time by running the ITU
  algorithm vectorised over every possible input.

The stdlib ``audioop`` module is deprecated (and removed in Python 3.13), and
``audioop-lts`` does not install on 3.11, hence this module.

Codec numbers are the sniffer's internal ones (``cdr.a_payload``, ``cdr_rtp.payload``),
not RTP payload types: static payload types keep their number, dynamic ones are
mapped to 300+ codes from the SDP ``rtpmap`` name (see docs/sniffer-schema §7).
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np
import numpy.typing as npt

from cdr.codecnumbers import CODEC_NAMES, CODEC_SAMPLE_RATES, codec_name, codec_sample_rate

__all__ = [
    "ALAW_DECODE_TABLE",
    "CODEC_NAMES",
    "CODEC_SAMPLE_RATES",
    "PAYLOAD_PCMA",
    "PAYLOAD_PCMU",
    "PAYLOAD_TELEVENT",
    "ULAW_DECODE_TABLE",
    "alaw_decode",
    "alaw_encode",
    "codec_name",
    "codec_sample_rate",
    "g711_decode",
    "g711_encode",
    "g711_silence_byte",
    "ulaw_decode",
    "ulaw_encode",
]

#: Sniffer codec number of G.711 µ-law (RTP payload type 0).
PAYLOAD_PCMU: Final = 0
#: Sniffer codec number of G.711 A-law (RTP payload type 8).
PAYLOAD_PCMA: Final = 8
#: Sniffer codec number of RFC 2833/4733 telephone-event (any dynamic PT).
PAYLOAD_TELEVENT: Final = 400

Int16Array = npt.NDArray[np.int16]
UInt8Array = npt.NDArray[np.uint8]


# ---------------------------------------------------------------------------
# Decoding: ITU-T G.191 ulaw_expand / alaw_expand, evaluated for all 256 codes.
# ---------------------------------------------------------------------------


def _build_ulaw_decode_table() -> Int16Array:
    code = np.arange(256, dtype=np.int32)
    sign = np.where(code < 0x80, -1, 1)
    mantissa = ~code  # one's complement, as in the reference
    exponent = (mantissa >> 4) & 0x07
    segment = exponent + 1
    mantissa &= 0x0F
    step = 4 << segment
    value = sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)
    return value.astype(np.int16)


def _build_alaw_decode_table() -> Int16Array:
    code = np.arange(256, dtype=np.int32)
    ix = (code ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = ix & 0x0F
    mant = np.where(iexp > 0, mant + 16, mant)
    mant = (mant << 4) + 0x08
    mant = np.where(iexp > 1, mant << np.maximum(iexp - 1, 0), mant)
    value = np.where(code > 127, mant, -mant)
    return value.astype(np.int16)


# ---------------------------------------------------------------------------
# Encoding: ITU-T G.191 ulaw_compress / alaw_compress over all 65,536 inputs.
# Negative inputs use the one's complement (~x), exactly like the reference;
# this differs from the old Sun/CCITT code (and audioop) for a few values.
# ---------------------------------------------------------------------------


def _all_int16() -> npt.NDArray[np.int32]:
    # Index i of the table corresponds to the int16 whose uint16 view is i.
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encode_table() -> UInt8Array:
    x = _all_int16()
    absno = np.where(x < 0, (~x) >> 2, x >> 2) + 33
    absno = np.minimum(absno, 0x1FFF)
    # segno = 1 + number of significant bits of (absno >> 6)
    i = absno >> 6
    segno = np.ones_like(absno)
    for _ in range(8):  # absno < 2**13, so at most 7 shifts are needed
        nz = i != 0
        segno += nz
        i >>= 1
    high_nibble = 0x08 - segno
    low_nibble = 0x0F - ((absno >> segno) & 0x0F)
    out = (high_nibble << 4) | low_nibble
    out = np.where(x >= 0, out | 0x80, out)
    return out.astype(np.uint8)


def _build_alaw_encode_table() -> UInt8Array:
    x = _all_int16()
    ix = np.where(x < 0, (~x) >> 4, x >> 4)
    # Segment search: while ix > 31 shift right; count shifts into the exponent.
    iexp = np.ones_like(ix)
    big = ix > 15
    for _ in range(8):
        more = big & (ix > 16 + 15)
        ix = np.where(more, ix >> 1, ix)
        iexp += more
    ix = np.where(big, ix - 16 + (iexp << 4), ix)
    ix = np.where(x >= 0, ix | 0x80, ix)
    return (ix ^ 0x55).astype(np.uint8)


#: µ-law code → linear int16 (ITU-T G.711, 16-bit scale; 0xFF → 0, 0x00 → -32124).
ULAW_DECODE_TABLE: Final[Int16Array] = _build_ulaw_decode_table()
#: A-law code → linear int16 (ITU-T G.711, 16-bit scale; 0xD5 → 8, 0x55 → -8).
ALAW_DECODE_TABLE: Final[Int16Array] = _build_alaw_decode_table()
_ULAW_ENCODE_TABLE: Final[UInt8Array] = _build_ulaw_encode_table()
_ALAW_ENCODE_TABLE: Final[UInt8Array] = _build_alaw_encode_table()
for _table in (ULAW_DECODE_TABLE, ALAW_DECODE_TABLE, _ULAW_ENCODE_TABLE, _ALAW_ENCODE_TABLE):
    _table.flags.writeable = False  # shared module state: keep it immutable


def _as_codes(data: bytes | bytearray | memoryview | npt.ArrayLike) -> UInt8Array:
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(data, dtype=np.uint8)
    return np.asarray(data, dtype=np.uint8)


def _as_index(samples: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        # Saturate wider inputs instead of wrapping around.
        arr = np.clip(arr, -32768, 32767).astype(np.int16)
    return arr.view(np.uint16)


def ulaw_decode(data: bytes | bytearray | memoryview | npt.ArrayLike) -> Int16Array:
    """Decode G.711 µ-law codes (bytes or uint8 array) to int16 PCM."""
    return ULAW_DECODE_TABLE[_as_codes(data)]


def alaw_decode(data: bytes | bytearray | memoryview | npt.ArrayLike) -> Int16Array:
    """Decode G.711 A-law codes (bytes or uint8 array) to int16 PCM."""
    return ALAW_DECODE_TABLE[_as_codes(data)]


def ulaw_encode(samples: npt.ArrayLike) -> UInt8Array:
    """Encode int16 PCM to G.711 µ-law codes (same shape, uint8)."""
    return _ULAW_ENCODE_TABLE[_as_index(samples)]


def alaw_encode(samples: npt.ArrayLike) -> UInt8Array:
    """Encode int16 PCM to G.711 A-law codes (same shape, uint8)."""
    return _ALAW_ENCODE_TABLE[_as_index(samples)]


def g711_decode(data: bytes | bytearray | memoryview | npt.ArrayLike, codec: int) -> Int16Array:
    """Decode G.711 payload for sniffer codec number ``codec`` (0 = PCMU, 8 = PCMA)."""
    if codec == PAYLOAD_PCMU:
        return ulaw_decode(data)
    if codec == PAYLOAD_PCMA:
        return alaw_decode(data)
    raise ValueError(f"not a G.711 codec: {codec}")


def g711_encode(samples: npt.ArrayLike, codec: int) -> UInt8Array:
    """Encode int16 PCM for sniffer codec number ``codec`` (0 = PCMU, 8 = PCMA)."""
    if codec == PAYLOAD_PCMU:
        return ulaw_encode(samples)
    if codec == PAYLOAD_PCMA:
        return alaw_encode(samples)
    raise ValueError(f"not a G.711 codec: {codec}")


def g711_silence_byte(codec: int) -> int:
    """The code a G.711 encoder produces for digital silence (0xFF µ-law, 0xD5 A-law)."""
    return int(g711_encode(np.zeros(1, dtype=np.int16), codec)[0])


def wav_header(frames: int, rate: int, channels: int = 2) -> bytes:
    """44-byte RIFF/PCM 16-bit header, like the sniffer's."""
    size = frames * channels * 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + size,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        b"data",
        size,
    )
