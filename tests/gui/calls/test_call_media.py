"""The call page's media: the player's WAV (HTTP Range), waveform and spectrogram, PCAP / WAV /
OGG / SIP text downloads (audited), each permission flag (control hidden AND URL refused), and
clear pages for missing or damaged spool files."""

from __future__ import annotations

import io

import dpkt
import numpy as np
import pytest
import soundfile
from django.contrib.auth import get_user_model
from PIL import Image

from accounts.models import AuditEvent
from cdr.media.audiograph import MS_PER_PIXEL, SPECTRO_HEIGHT, WAVE_HEIGHT
from tests.cdr.media.test_media_support import dominant_freq
from tests.gui.calls.pagetext import has_id, text_of
from tests.gui.support import ALL_MEDIA, media_calls, signed_in

__all__ = ["media_calls"]

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def audio_seconds(call) -> float:
    """How long the call's audio is: from its first packet (the INVITE) to the end of its last
    RTP packet (20 ms of G.711)."""
    return max(s.first_time + s.duration for s in call.result.streams) + 0.02


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("time", "pk"))


# --- the player -----------------------------------------------------------------------------


def test_the_player_gets_a_seekable_wav_as_long_as_the_call(media_calls):
    call = media_calls[0]
    client = signed_in("player", ("can_cdr", "can_play_audio"))
    whole = client.get(f"/calls/{call.cdr_id}/audio.wav")
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/x-wav"
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Disposition"].startswith("inline;")  # played, not saved
    data = body(whole)
    audio, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert rate == 8000 and audio.shape[1] == 2
    assert abs(len(audio) / rate - audio_seconds(call)) < 0.1
    talking = audio[int(1.5 * rate) : int(4 * rate)]
    assert abs(dominant_freq(talking[:, 0]) - 1000) < 20  # caller on the left
    assert abs(dominant_freq(talking[:, 1]) - 440) < 20
    # seeking: a later range of the same bytes
    part = client.get(f"/calls/{call.cdr_id}/audio.wav", HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert body(part) == data[1000:2000]
    # one audit event per playback (the start), not per seek
    played = events(AuditEvent.Action.AUDIO_DOWNLOAD)
    assert [(e.face, e.object_id, e.details) for e in played] == [
        ("gui", str(call.cdr_id), {"what": "play"})
    ]


def test_the_waveform_and_spectrogram_are_pngs_spanning_the_recording(media_calls):
    call = media_calls[0]
    client = signed_in("graphs", ("can_cdr", "can_graphs", "can_play_audio"))
    frames = soundfile.info(io.BytesIO(body(client.get(f"/calls/{call.cdr_id}/audio.wav")))).frames
    sizes = {}
    for kind in ("P", "S"):
        response = client.get(f"/calls/{call.cdr_id}/graph/{kind}.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        sizes[kind] = Image.open(io.BytesIO(response.content)).size
    # one pixel column per MS_PER_PIXEL ms of the recording; caller and called stacked
    assert sizes["P"][0] == sizes["S"][0] == frames * 1000 // (8000 * MS_PER_PIXEL)
    assert sizes["P"][1] == 2 * WAVE_HEIGHT + 2 and sizes["S"][1] == 2 * SPECTRO_HEIGHT + 2
    bad = client.get(f"/calls/{call.cdr_id}/graph/X.png")
    assert bad.status_code == 400 and "P (waveform) or S (spectrogram)" in text_of(
        bad.content, "reason"
    )


# --- downloads ------------------------------------------------------------------------------


def test_the_pcap_download_parses_and_is_audited(media_calls):
    call = media_calls[0]
    client = signed_in("pcaps", ("can_cdr", "can_pcap"))
    response = client.get(f"/calls/{call.cdr_id}/call.pcap")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.tcpdump.pcap"
    assert response["Content-Disposition"] == 'attachment; filename="gui-a@alpha.pcap"'
    data = body(response)
    assert data[:4] == b"\xd4\xc3\xb2\xa1"  # classic pcap, little-endian
    udp = [dpkt.ethernet.Ethernet(buf).data.data for _, buf in dpkt.pcap.Reader(io.BytesIO(data))]
    assert udp[0].data.startswith(b"INVITE sip:2002@")
    assert sum(1 for p in udp if p.dport in (11000, 21000)) > 300  # RTP both ways
    sip_only = body(client.get(f"/calls/{call.cdr_id}/sip.pcap"))
    packets = [
        dpkt.ethernet.Ethernet(b).data.data for _, b in dpkt.pcap.Reader(io.BytesIO(sip_only))
    ]
    assert len(packets) == 7 and all(p.dport == 5060 for p in packets)
    audited = events(AuditEvent.Action.PCAP_DOWNLOAD)
    assert [(e.face, e.object_id, e.username, e.details) for e in audited] == [
        ("gui", str(call.cdr_id), "pcaps", {"rtp": True}),
        ("gui", str(call.cdr_id), "pcaps", {"rtp": False}),
    ]


def test_the_sip_messages_as_text(media_calls):
    call = media_calls[0]
    client = signed_in("siptext", ("can_cdr", "can_pcap"))
    response = client.get(f"/calls/{call.cdr_id}/sip.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "INVITE sip:2002@beta.example.com SIP/2.0" in text and "Call-ID: gui-a@alpha" in text


@pytest.mark.parametrize("fmt, content_type", [("wav", "audio/x-wav"), ("ogg", "audio/ogg")])
def test_the_recording_downloads_are_attachments_and_audited(media_calls, fmt, content_type):
    call = media_calls[1]
    client = signed_in(f"dl-{fmt}", ("can_cdr", "can_download_audio"))
    response = client.get(f"/calls/{call.cdr_id}/recording.{fmt}")
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="gui-b@alpha.{fmt}"'
    audio, rate = soundfile.read(io.BytesIO(body(response)), dtype="int16")
    assert abs(len(audio) / rate - audio_seconds(call)) < 0.1
    (event,) = events(AuditEvent.Action.AUDIO_DOWNLOAD)
    assert (event.face, event.object_id, event.details) == (
        "gui",
        str(call.cdr_id),
        {"format": fmt},
    )


# --- each flag: control hidden and URL refused --------------------------------------------


FLAG_CONTROLS = {
    "can_play_audio": (["player"], ["audio.wav"]),
    "can_download_audio": (["dl-wav", "dl-ogg"], ["recording.wav", "recording.ogg"]),
    "can_graphs": (["waveform", "spectrogram"], ["graph/P.png", "graph/S.png"]),
    "can_pcap": (["dl-pcap", "dl-sip-pcap", "dl-sip-text", "pcap-top"], ["call.pcap", "sip.pcap", "sip.txt"]),
}  # fmt: skip


@pytest.mark.parametrize("flag", sorted(FLAG_CONTROLS))
def test_each_flag_hides_its_controls_and_its_urls_refuse(media_calls, flag):
    call = media_calls[0]
    ids, paths = FLAG_CONTROLS[flag]
    allowed = signed_in(f"with-{flag}", ALL_MEDIA)
    html = allowed.get(f"/calls/{call.cdr_id}/").content.decode()
    assert all(has_id(html, i) for i in ids), flag
    without = signed_in(f"without-{flag}", [f for f in ALL_MEDIA if f != flag])
    html = without.get(f"/calls/{call.cdr_id}/").content.decode()
    assert not any(has_id(html, i) for i in ids), flag
    for path in paths:
        response = without.get(f"/calls/{call.cdr_id}/{path}")
        assert response.status_code == 403, path
        assert flag.encode() in response.content
    refused = events(AuditEvent.Action.PERMISSION_DENIED)
    assert {e.details["flag"] for e in refused} == {flag} and len(refused) == len(paths)
    assert not events(AuditEvent.Action.PCAP_DOWNLOAD) and not events(
        AuditEvent.Action.AUDIO_DOWNLOAD
    )


def test_a_user_without_any_media_flag_sees_why(media_calls):
    html = signed_in("cdr-only", ("can_cdr",)).get(f"/calls/{media_calls[0].cdr_id}/")
    text = text_of(html.content, "audio-section")
    assert "Your account may not play or download this call's audio." in text
    assert "may not download this call's PCAP or recording" in text


# --- missing and damaged spool files ----------------------------------------------------------


def test_a_missing_rtp_pcap_is_a_note_on_the_page_and_a_404_page_for_the_player(media_calls):
    call = media_calls[0]
    call.files.rtp.unlink()  # cleanspool removed the minute's RTP tar
    client = signed_in("missing", ALL_MEDIA)
    html = client.get(f"/calls/{call.cdr_id}/").content.decode()
    assert text_of(html, "no-audio").startswith(
        "This call has no recording: neither an audio file nor an RTP pcap is in the spool"
    )
    assert not has_id(html, "player") and has_id(html, "dl-pcap")  # the SIP pcap is still there
    response = client.get(f"/calls/{call.cdr_id}/audio.wav")
    assert response.status_code == 404
    assert text_of(response.content, "reason").startswith(f"no recording for CDR {call.cdr_id}")
    assert not events(AuditEvent.Action.AUDIO_DOWNLOAD)


def test_a_damaged_recording_is_a_422_page_with_the_reason(media_calls):
    call = media_calls[0]
    own = call.files.directory / "AUDIO" / f"{call.files.base}.wav"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(np.arange(64, dtype=np.uint8)))
    client = signed_in("damaged", ALL_MEDIA)
    for path in ("audio.wav", "recording.wav"):
        response = client.get(f"/calls/{call.cdr_id}/{path}")
        assert response.status_code == 422, path
        assert text_of(response.content, "reason")
        assert b"Traceback" not in response.content
    assert not events(AuditEvent.Action.AUDIO_DOWNLOAD)
    assert get_user_model().objects.filter(username="damaged").exists()
