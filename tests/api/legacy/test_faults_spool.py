"""Spool files truncated or damaged (a full disk on the sniffer, a copy cut short, bit rot):
every media face answers a valid file or the clear envelope, never "internal error", never a
download that breaks after it has started.

Each case damages one file of a real generated call (the sniffer's layout: per-minute
``sip_*.tar.zst`` / ``rtp_*.tar`` with LZO members, or plain ``.pcap`` files; the sniffer's
own ``.wav``) and asks for it through api.php (getPCAP, getVoiceRecording as WAV and OGG,
getAudioGraph) and pcap2text.php.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import random

import dpkt
import pytest
import soundfile
from django.contrib.auth import get_user_model
from django.test import Client

from tests.cdr.media.test_media_support import api_get, body_of, media_user, tone_spec, write_calls

INTERNAL = "internal error"
DAMAGES = ("truncated", "middle", "header", "empty")


def damage(path, how: str) -> None:
    data = path.read_bytes()
    noise = random.Random(len(data)).randbytes
    n = len(data)
    if how == "truncated":  # cut short (a copy or a write that stopped)
        data = data[: n * 6 // 10]
    elif how == "middle":  # garbage inside
        data = data[: n // 3] + noise(400) + data[n // 3 + 400 :]
    elif how == "header":  # garbage at the start
        data = noise(64) + data[64:]
    else:
        data = b""
    path.write_bytes(data)


def _valid_file(content_type: str, data: bytes) -> None:
    """A successful answer must be a complete, readable file of its type."""
    if content_type == "application/vnd.tcpdump.pcap":
        packets = list(dpkt.pcap.Reader(io.BytesIO(data)))
        assert packets
    elif content_type.startswith("audio/"):
        pcm, _ = soundfile.read(io.BytesIO(data), dtype="int16")
        assert len(pcm)
    else:
        assert content_type == "image/png" and data.startswith(b"\x89PNG"), content_type


def _outcome(response) -> str:
    """``file`` for a valid file, else the envelope's reason (never an internal error)."""
    assert response.status_code == 200
    data = body_of(response)  # a streamed download must not break half-way
    if not response["Content-Type"].startswith("application/json"):
        _valid_file(response["Content-Type"], data)
        return "file"
    body = json.loads(data)
    assert body["success"] is False, body
    reason = body["errors"]["reason"]
    assert reason and INTERNAL not in reason
    return reason


CASES = list(itertools.product(("tar", "plain"), ("sip", "rtp", "audio"), DAMAGES))


@pytest.mark.django_db
@pytest.mark.parametrize(("layout", "kind", "how"), CASES, ids=["-".join(c) for c in CASES])
def test_a_damaged_spool_file_is_a_valid_file_or_a_clear_envelope(
    tmp_path, settings, layout, kind, how
):
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    spec = tone_spec("damaged@x", dt.datetime(2026, 11, 27, 9))
    (call,) = write_calls(settings.SPOOL_DIR, [spec], tar=layout == "tar", wav=kind == "audio")
    damage(getattr(call.files, kind), how)
    user = media_user()
    outcomes = {
        task: _outcome(api_get({"cdrId": call.cdr_id, **params}, task))
        for task, params in (
            ("getPCAP", {}),
            ("getVoiceRecording", {}),
            ("getVoiceRecording-ogg", {"ogg": 1}),
            ("getAudioGraph", {}),
        )
        for task in [task.split("-")[0]]
    }
    client = Client()
    client.force_login(get_user_model().objects.get(pk=user.pk))
    brief = client.get("/php/pcap2text.php", {"action": "brief_data", "id": call.cdr_id})
    assert brief.status_code in (200, 404, 422), brief.content[:300]
    body = json.loads(brief.content)
    assert body["success"] is True or INTERNAL not in body["errors"]["reason"]
    # The damage is reported where it matters (not silently a broken file):
    if (layout, kind) == ("plain", "sip") and how in ("header", "empty"):
        assert "pcap" in outcomes["getPCAP"] and outcomes["getPCAP"] != "file"
    if kind == "audio" and how in ("header", "empty"):
        assert "audio file damaged@x.wav" in outcomes["getVoiceRecording"]
    if how == "middle" and kind in ("sip", "rtp"):
        assert outcomes["getPCAP"] != "file"


@pytest.mark.django_db
def test_damage_is_named_in_the_reason(tmp_path, settings):
    settings.SPOOL_DIR = tmp_path / "spool"
    specs = [
        tone_spec("named@x", dt.datetime(2026, 11, 27, 9)),
        tone_spec("lzo@x", dt.datetime(2026, 11, 27, 10)),
    ]
    plain, tarred = (
        write_calls(settings.SPOOL_DIR, [specs[0]], tar=False)[0],
        write_calls(settings.SPOOL_DIR, [specs[1]], tar=True)[0],
    )
    damage(plain.files.sip, "header")
    damage(tarred.files.rtp, "middle")
    media_user()
    assert _outcome(api_get({"cdrId": plain.cdr_id}, "getPCAP")) == "named@x.pcap: not a pcap file"
    assert _outcome(api_get({"cdrId": tarred.cdr_id}, "getVoiceRecording")).startswith(
        "corrupt LZO chunk in the spool"
    )
