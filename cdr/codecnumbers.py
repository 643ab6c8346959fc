"""The sniffer's codec numbers (``cdr.a_payload``, ``cdr_rtp.payload``): names and sample rates.

Core data, not media: the query engine's rows show codec names, and the media layer
(``cdr.media.codecs``, which re-exports these) decodes by sample rate.
"""

from __future__ import annotations

from typing import Final

#: Sniffer codec number → display name, exactly as the sniffer's ``codec2text()``.
CODEC_NAMES: Final[dict[int, str]] = {
    0: "G.711 ulaw",
    3: "GSM",
    4: "G.723",
    8: "G.711 alaw",
    9: "G.722",
    18: "G.729",
    97: "iLBC",
    98: "speex",
    100: "clearmode",
    **dict.fromkeys(range(301, 306), "SILK"),
    **dict.fromkeys(range(306, 309), "iSAC"),
    **dict.fromkeys(range(311, 317), "OPUS"),
    320: "amr",
    321: "amr-wb",
    **dict.fromkeys(range(331, 337), "G.722.1"),
    **dict.fromkeys(range(337, 343), "XOPUS"),
    **dict.fromkeys(range(343, 349), "VXOPUS"),
    349: "MP4A-LATM",
    350: "MP4A-LATM",
    **dict.fromkeys(range(351, 355), "G726"),
    **dict.fromkeys(range(355, 359), "AAL2-G726"),
    359: "EVS",
    400: "TELEPHONE EVENT",
}

#: Sniffer codec number → audio sample rate in Hz of the decoded signal (the rate the
#: sniffer's WAV conversion produces, conversions §4), or ``None`` where the number
#: does not determine it (generic SILK, MP4A-LATM). Rate-suffixed variants (SILK 8k,
#: OPUS 16k, XOPUS 24k, G.722.1 at 12/24/48 kHz, ...) use the rate in their name;
#: generic OPUS/XOPUS/VXOPUS use Opus' fixed 48 kHz RTP clock.
CODEC_SAMPLE_RATES: Final[dict[int, int | None]] = {
    0: 8000,
    3: 8000,
    4: 8000,
    8: 8000,
    9: 16000,  # G.722 is wideband although its RTP clock says 8000
    18: 8000,
    97: 8000,
    98: 8000,
    100: 8000,
    301: None,
    302: 8000,
    303: 12000,
    304: 16000,
    305: 24000,
    306: 16000,
    307: 16000,
    308: 32000,
    311: 48000,
    312: 8000,
    313: 12000,
    314: 16000,
    315: 24000,
    316: 48000,
    320: 8000,
    321: 16000,
    331: 32000,  # as mapped by the sniffer's siren decoder call
    332: 12000,
    333: 16000,
    334: 24000,
    335: 32000,
    336: 48000,
    337: 48000,
    338: 8000,
    339: 12000,
    340: 16000,
    341: 24000,
    342: 48000,
    343: 48000,
    344: 8000,
    345: 12000,
    346: 16000,
    347: 24000,
    348: 48000,
    349: None,
    350: None,
    **dict.fromkeys(range(351, 359), 8000),
    359: 16000,
    400: 8000,
}


def codec_name(codec: int | None) -> str:
    """Display name for a sniffer codec number, like the sniffer's ``codec2text()``."""
    if codec is None:
        return ""
    return CODEC_NAMES.get(codec, "UNKNOWN CODEC NUMBER")


def codec_sample_rate(codec: int | None) -> int | None:
    """Decoded sample rate (Hz) for a sniffer codec number, ``None`` if unknown."""
    if codec is None:
        return None
    return CODEC_SAMPLE_RATES.get(codec)
