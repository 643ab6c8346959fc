"""The sniffer's bit sets, defined once: ``cdr.flags`` and ``cdr_rtp.flags``.

``cdr.flags`` (sniffer-schema §2.5): bit 23 says the "saved" bits 24-30 are valid; they tell
which spool files can exist for the call (sniffer-spool §"which files exist"). The media
layer reads them to explain a missing file; the demo generator writes them as the sniffer
does. Only the bits vmgui reads or writes are named here.
"""

from __future__ import annotations

from typing import Final

# cdr.flags
FLAG_TELEVENT_REQUEST: Final = 1 << 8  # telephone-event offered in the request's SDP
FLAG_TELEVENT_RESPONSE: Final = 1 << 9  # ... and in the response's SDP
FLAG_SDP_AUDIO: Final = 1 << 12
FLAG_SAVE_FLAGS_VALID: Final = 1 << 23  # bits 24-30 below are meaningful
FLAG_SIP_PCAP: Final = 1 << 24
FLAG_RTP_PCAP: Final = 1 << 25
FLAG_RTP_PAYLOAD: Final = 1 << 26  # RTP saved whole, not headers only
FLAG_AUDIO: Final = 1 << 29
FLAG_TRANSPORT_UDP: Final = 1 << 32

# cdr_rtp.flags: which party sent the stream.
RTP_FLAG_CALLER: Final = 1 << 2
RTP_FLAG_CALLED: Final = 1 << 3
