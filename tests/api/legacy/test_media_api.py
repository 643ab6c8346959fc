"""api.php getPCAP / getVoiceRecording / getAudioGraph, /php/pcap.php and /php/wav.php.

SQLite and MariaDB: demo calls written into a spool like the sniffer (tests.cdr.media.test_media_support)
with their CDR rows; MariaDB only: the real sniffer's dumps with its real spools.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import dpkt
import numpy as np
import pytest
import soundfile
from django.test import Client

from accounts.models import AuditEvent
from tests.cdr.media.test_media_support import (
    LIVE_CALLS,
    PASSWORD,
    api_get,
    body_of,
    dominant_freq,
    error_reason,
    media_user,
    read_zip,
    real_spools,
    tone_spec,
    write_calls,
)
from tests.conftest import FIXTURES_ROOT

__all__ = ["real_spools"]

T0 = dt.datetime(2026, 11, 27, 10, 15, 7, 250000)
PCAP = "application/vnd.tcpdump.pcap"


def pcap_packets(data: bytes) -> list[tuple[float, bytes]]:
    return list(dpkt.pcap.Reader(io.BytesIO(data)))


@pytest.fixture
def spool(tmp_path: Path, settings) -> Path:
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    return settings.SPOOL_DIR


@pytest.fixture
def calls(spool: Path, db):
    """Three calls: two answered (one with the sniffer's WAV), one busy."""
    made = write_calls(spool, [tone_spec("wav@demo", T0)], wav=True)
    made += write_calls(
        spool,
        [
            tone_spec("nowav@demo", T0 + dt.timedelta(minutes=1), codec=8, seed=3),
            tone_spec(
                "busy@demo", T0 + dt.timedelta(minutes=1, seconds=9), answered=False, final_code=486
            ),
        ],
        wav=False,
    )
    return made


@pytest.fixture
def user(db):
    return media_user()


def audit_ids(action: str) -> list[str]:
    return list(AuditEvent.objects.filter(action=action).values_list("object_id", flat=True))


# ---------------------------------------------------------------------------
# getPCAP
# ---------------------------------------------------------------------------


def test_it_returns_the_call_pcap_in_time_order(calls, user) -> None:
    call = calls[0]
    response = api_get({"cdrId": call.cdr_id}, "getPCAP")
    assert response.status_code == 200 and response["Content-Type"] == PCAP
    assert response["Content-Disposition"] == 'attachment; filename="wav@demo.pcap"'
    data = body_of(response)
    packets = pcap_packets(data)
    assert len(packets) == len(call.result.sip) + len(call.result.rtp)
    assert [ts for ts, _ in packets] == sorted(ts for ts, _ in packets)
    assert data[:4] == b"\xd4\xc3\xb2\xa1"  # classic pcap, not pcapng
    assert audit_ids(AuditEvent.Action.PCAP_DOWNLOAD) == [str(call.cdr_id)]


def test_it_refuses_pcap_without_can_pcap(calls, db) -> None:
    media_user("nopcap", flags=("can_cdr", "can_download_audio"))
    reason = error_reason(api_get({"cdrId": calls[0].cdr_id}, "getPCAP", user="nopcap"))
    assert "can_pcap" in reason
    assert audit_ids(AuditEvent.Action.PCAP_DOWNLOAD) == []


def test_it_treats_a_call_outside_the_scope_as_missing(calls, db) -> None:
    media_user("restricted", number="9999%")
    for task in ("getPCAP", "getVoiceRecording", "getAudioGraph"):
        reason = error_reason(api_get({"cdrId": calls[0].cdr_id}, task, user="restricted"))
        assert reason == f"no such CDR: {calls[0].cdr_id}"
    assert error_reason(api_get({"cdrId": 987654}, "getPCAP", user="restricted")) == (
        "no such CDR: 987654"
    )
    assert error_reason(api_get({"callId": "wav@demo"}, "getPCAP", user="restricted")).startswith(
        "no such CDR"
    )


def test_it_gives_sip_only_for_a_failed_call_and_a_clear_error_when_files_are_gone(
    calls, user, spool
) -> None:
    busy = calls[2]
    packets = pcap_packets(body_of(api_get({"cdrId": busy.cdr_id}, "getPCAP")))
    assert len(packets) == len(busy.result.sip) and not busy.result.rtp
    shutil.rmtree(spool / "2026-11-27" / "10")  # cleanspool removed the hour
    reason = error_reason(api_get({"cdrId": calls[0].cdr_id}, "getPCAP"))
    assert "no pcap for CDR" in reason and "cleanspool" in reason
    assert "spool" in error_reason(api_get({"cdrId": calls[0].cdr_id}, "getVoiceRecording"))


def test_it_zips_several_cdr_ids(calls, user) -> None:
    ids = [calls[0].cdr_id, calls[1].cdr_id]
    response = api_get({"cdrId": ids}, "getPCAP")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="pcap-{ids[0]}-{ids[1]}.zip"'
    files = read_zip(body_of(response))
    assert sorted(files) == [f"{ids[0]}-wav@demo.pcap", f"{ids[1]}-nowav@demo.pcap"]
    for call in calls[:2]:
        data = files[f"{call.cdr_id}-{call.spec.call_id}.pcap"]
        assert len(pcap_packets(data)) == len(call.result.sip) + len(call.result.rtp)
    single_zip = api_get({"cdrId": ids[0], "zip": True}, "getPCAP")
    assert list(read_zip(body_of(single_zip))) == ["wav@demo.pcap"]


@pytest.fixture
def legs(spool: Path, db):
    """One Call-ID seen twice (e.g. by two sensors), 40 s apart: two legs, separate files."""
    a = tone_spec("legs@demo", dt.datetime(2026, 11, 27, 11, 0, 40), talk_s=3.0)
    b = tone_spec(
        "legs@demo",
        dt.datetime(2026, 11, 27, 11, 1, 20),
        caller_ip="10.3.0.3",
        called_ip="10.4.0.4",
        talk_s=3.0,
        seed=4,
    )
    old = tone_spec("legs@demo", dt.datetime(2026, 11, 26, 11, 0, 0), talk_s=1.0, seed=5)
    return write_calls(spool, [a, b, old])


def test_it_merges_the_legs_of_a_call_id(legs, user) -> None:
    response = api_get({"callId": "legs@demo", "cidInterval": 60, "cidMerge": True}, "getPCAP")
    assert response["Content-Type"] == PCAP
    packets = pcap_packets(body_of(response))
    expected = sum(len(c.result.sip) + len(c.result.rtp) for c in legs[:2])
    assert len(packets) == expected  # both legs, not the day-old call with the same Call-ID
    assert [ts for ts, _ in packets] == sorted(ts for ts, _ in packets)
    zipped = read_zip(body_of(api_get({"callId": "legs@demo", "cidInterval": 60}, "getPCAP")))
    assert sorted(zipped) == sorted(f"{c.cdr_id}-legs@demo.pcap" for c in legs[:2])
    narrow = api_get({"callId": "legs@demo", "cidInterval": 10}, "getPCAP")
    assert narrow["Content-Type"] == PCAP  # only the latest leg is within 10 s
    assert len(pcap_packets(body_of(narrow))) == len(legs[1].result.sip) + len(legs[1].result.rtp)
    assert sorted(audit_ids(AuditEvent.Action.PCAP_DOWNLOAD)) == sorted(
        [str(legs[0].cdr_id), str(legs[1].cdr_id)] * 2 + [str(legs[1].cdr_id)]
    )


def test_it_explains_bad_media_params(calls, user) -> None:
    assert "cdrId or params.callId" in error_reason(api_get({}, "getPCAP"))
    assert "whole number" in error_reason(api_get({"cdrId": "abc"}, "getPCAP"))
    assert "type" in error_reason(api_get({"cdrId": calls[0].cdr_id, "type": "X"}, "getAudioGraph"))
    assert "wildcards" in error_reason(api_get({"callId": "wav%"}, "getPCAP"))


# ---------------------------------------------------------------------------
# getVoiceRecording
# ---------------------------------------------------------------------------


def test_it_serves_the_sniffers_own_wav_with_range_support(calls, user) -> None:
    call = calls[0]
    wav = call.files.audio.read_bytes()
    response = api_get({"cdrId": call.cdr_id}, "getVoiceRecording")
    assert response.status_code == 200 and response["Content-Type"] == "audio/x-wav"
    assert response["Accept-Ranges"] == "bytes" and response["Content-Length"] == str(len(wav))
    assert response["Content-Disposition"] == 'attachment; filename="wav@demo.wav"'
    assert body_of(response) == wav
    part = api_get({"cdrId": call.cdr_id}, "getVoiceRecording", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(wav)}"
    assert body_of(part) == wav[100:200] and part["Content-Type"] == "audio/x-wav"
    tail = api_get({"cdrId": call.cdr_id}, "getVoiceRecording", HTTP_RANGE="bytes=-44")
    assert tail.status_code == 206 and body_of(tail) == wav[-44:]
    beyond = api_get({"cdrId": call.cdr_id}, "getVoiceRecording", HTTP_RANGE=f"bytes={len(wav)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(wav)}"
    assert audit_ids(AuditEvent.Action.AUDIO_DOWNLOAD) == [str(call.cdr_id)] * 4


def test_it_decodes_the_rtp_when_the_sniffer_saved_no_audio(calls, user) -> None:
    call = calls[1]  # A-law, no WAV in the spool
    response = api_get({"cdrId": call.cdr_id}, "getVoiceRecording")
    assert response["Content-Type"] == "audio/x-wav"
    data = body_of(response)
    assert int(response["Content-Length"]) == len(data)
    pcm, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert rate == 8000 and pcm.shape[1] == 2
    start = int((call.result.first_rtp_time + 0.2) * 8000)
    assert dominant_freq(pcm[start:, 0]) == pytest.approx(1000, abs=3)  # caller left
    assert dominant_freq(pcm[start:, 1]) == pytest.approx(440, abs=3)  # called right
    part = api_get({"cdrId": call.cdr_id}, "getVoiceRecording", HTTP_RANGE="bytes=0-43")
    assert part.status_code == 206 and body_of(part) == data[:44]


def test_it_gives_ogg_and_audio_after_connect(calls, user) -> None:
    for call in calls[:2]:
        response = api_get({"cdrId": call.cdr_id, "ogg": True}, "getVoiceRecording")
        assert response["Content-Type"] == "audio/ogg"
        assert response["Content-Disposition"].endswith('.ogg"')
        pcm, rate = soundfile.read(io.BytesIO(body_of(response)), dtype="int16")
        assert rate == 8000 and dominant_freq(pcm[-8000:, 0]) == pytest.approx(1000, abs=5)
        full = soundfile.read(
            io.BytesIO(body_of(api_get({"cdrId": call.cdr_id}, "getVoiceRecording"))),
            dtype="int16",
        )[0]
        after = soundfile.read(
            io.BytesIO(
                body_of(
                    api_get(
                        {"cdrId": call.cdr_id, "saveaudio_afterconnect": "yes"},
                        "getVoiceRecording",
                    )
                )
            ),
            dtype="int16",
        )[0]
        ring = call.result.duration - call.result.connect_duration
        assert len(full) - len(after) == pytest.approx(ring * 8000, abs=8)
    busy = calls[2]
    assert "no recording" in error_reason(api_get({"cdrId": busy.cdr_id}, "getVoiceRecording"))


def test_it_zips_recordings_of_a_cdr_list_and_names_the_missing(calls, user) -> None:
    ids = [c.cdr_id for c in calls]
    response = api_get({"cdrId": ids}, "getVoiceRecording")
    assert response["Content-Type"] == "application/zip"
    files = read_zip(body_of(response))
    assert sorted(files) == sorted(
        [f"{ids[0]}-wav@demo.wav", f"{ids[1]}-nowav@demo.wav", "errors.txt"]
    )
    assert files[f"{ids[0]}-wav@demo.wav"] == calls[0].files.audio.read_bytes()
    assert files["errors.txt"].decode().startswith(f"CDR {ids[2]}: no recording")


def test_it_refuses_recordings_without_can_download_audio(calls, db) -> None:
    media_user("nodl", flags=("can_cdr", "can_pcap"))
    reason = error_reason(api_get({"cdrId": calls[0].cdr_id}, "getVoiceRecording", user="nodl"))
    assert "can_download_audio" in reason


def test_it_finds_a_recording_by_call_id(calls, user) -> None:
    response = api_get({"callId": "wav@demo", "calldate": "2026-11-27"}, "getVoiceRecording")
    assert body_of(response) == calls[0].files.audio.read_bytes()
    assert "no such CDR" in error_reason(
        api_get({"callId": "wav@demo", "calldate": "2026-11-20"}, "getVoiceRecording")
    )


# ---------------------------------------------------------------------------
# getAudioGraph
# ---------------------------------------------------------------------------


def test_it_draws_audio_graphs(calls, user) -> None:
    from PIL import Image

    sizes = {}
    for call in calls[:2]:  # from the sniffer's WAV, and from the decoded RTP
        for kind in ("S", "P", "ALL"):
            for side in ("L", "R", None):
                params = {"cdrId": call.cdr_id, "type": kind}
                if side:
                    params["side"] = side
                response = api_get(params, "getAudioGraph")
                assert response["Content-Type"] == "image/png", response.content[:200]
                image = Image.open(io.BytesIO(response.content))
                sizes[(call.cdr_id, kind, side)] = image.size
    cid = calls[0].cdr_id
    assert sizes[(cid, "S", "L")][1] == 128 and sizes[(cid, "P", "L")][1] == 100
    assert sizes[(cid, "ALL", None)][1] == 2 * (128 + 100) + 3 * 2
    media_user("nographs", flags=("can_cdr",))
    assert "can_graphs" in error_reason(api_get({"cdrId": cid}, "getAudioGraph", user="nographs"))


def test_it_serves_a_real_sipp_capture_stored_in_pcapsplit_no_form(spool, user) -> None:
    from tests.factories import make_call

    capture = FIXTURES_ROOT / "sipp_uac_pcap.pcap"
    folder = spool / "2026-11-27" / "05" / "10" / "ALL"  # pcapsplit=no: one pcap per call
    folder.mkdir(parents=True)
    shutil.copy(capture, folder / "1-23776@127.0.0.51.pcap")
    cdr = make_call(
        "2026-11-27 05:10:40.722",
        call_id="1-23776@127.0.0.51",
        sipcallerip="127.0.0.51",
        sipcalledip="127.0.0.52",
        duration=7.1,
        connect_duration=7.1,
    )
    data = body_of(api_get({"cdrId": cdr.ID}, "getPCAP"))
    assert pcap_packets(data) == pcap_packets(capture.read_bytes())  # the one file, once
    wav = body_of(api_get({"cdrId": cdr.ID}, "getVoiceRecording"))
    pcm, _ = soundfile.read(io.BytesIO(wav), dtype="int16")
    assert pcm[:, 0].any() and not pcm[:, 1].any()


# ---------------------------------------------------------------------------
# pcap.php and wav.php
# ---------------------------------------------------------------------------


def test_it_serves_pcap_php_to_a_logged_in_session(calls, user) -> None:
    call = calls[0]
    client = Client()
    assert "not logged in" in error_reason(client.get("/php/pcap.php", {"id": call.cdr_id}))
    client.force_login(user)
    full = client.get("/php/pcap.php", {"id": call.cdr_id})
    assert full["Content-Type"] == PCAP
    assert len(pcap_packets(body_of(full))) == len(call.result.sip) + len(call.result.rtp)
    sip_only = client.get("/php/pcap.php", {"id": call.cdr_id, "disable_rtp": "1"})
    assert len(pcap_packets(body_of(sip_only))) == len(call.result.sip)
    assert "missing id" in error_reason(client.get("/php/pcap.php"))
    events = AuditEvent.objects.filter(action=AuditEvent.Action.PCAP_DOWNLOAD)
    assert [(e.face, e.object_id, e.user_id) for e in events] == [
        ("pcap.php", str(call.cdr_id), user.pk)
    ] * 2
    restricted = media_user("scoped", number="555%")
    client.force_login(restricted)
    assert error_reason(client.get("/php/pcap.php", {"id": call.cdr_id})) == (
        f"no such CDR: {call.cdr_id}"
    )


def test_it_keeps_wav_php_off_unless_a_key_is_configured(calls, settings) -> None:
    call = calls[1]
    settings.WAV_PHP_KEY = ""
    assert "disabled" in error_reason(Client().get("/php/wav.php", {"id": call.cdr_id, "key": ""}))
    settings.WAV_PHP_KEY = "s3cret-shared-key"
    assert "wrong" in error_reason(Client().get("/php/wav.php", {"id": call.cdr_id, "key": "nope"}))
    response = Client().get(
        "/php/wav.php", {"id": call.cdr_id, "key": "s3cret-shared-key"}, HTTP_RANGE="bytes=0-99"
    )
    assert response.status_code == 206 and response["Content-Type"] == "audio/x-wav"
    assert body_of(response)[:4] == b"RIFF"
    assert audit_ids(AuditEvent.Action.AUDIO_DOWNLOAD) == [str(call.cdr_id)]


def test_it_lets_anonymous_callers_download_when_api_auth_is_disabled(calls, settings) -> None:
    settings.API_DISABLE_AUTH = True
    response = api_get({"cdrId": calls[0].cdr_id}, "getPCAP", user=None)
    assert response["Content-Type"] == PCAP
    event = AuditEvent.objects.get(action=AuditEvent.Action.PCAP_DOWNLOAD)
    assert event.username == "anonymous" and event.user_id is None


# ---------------------------------------------------------------------------
# MariaDB: the real sniffer's database and spools
# ---------------------------------------------------------------------------


@pytest.mark.mysql
def test_it_serves_the_real_tar_spool_calls(sniffer_dump, real_spools, settings, tmp_path) -> None:
    sniffer_dump("db_live.sql")
    media_user()
    settings.SPOOL_DIR = real_spools["live"]
    for cdr_id, (call_id, _) in LIVE_CALLS.items():
        packets = pcap_packets(body_of(api_get({"cdrId": cdr_id}, "getPCAP")))
        assert len(packets) == 3007 and [t for t, _ in packets] == sorted(t for t, _ in packets)
        wav = next(real_spools["live"].rglob(f"{call_id}.wav")).read_bytes()
        assert body_of(api_get({"cdrId": cdr_id}, "getVoiceRecording")) == wav
    by_call_id = api_get({"callId": LIVE_CALLS[2][0], "cidMerge": True}, "getPCAP")
    assert len(pcap_packets(body_of(by_call_id))) == 3007
    # without the sniffer's WAVs the RTP (LZO parts at cdr_tar_part offsets) is decoded
    copy = tmp_path / "live"
    shutil.copytree(real_spools["live"], copy)
    shutil.rmtree(next(copy.rglob("AUDIO")))
    settings.SPOOL_DIR = copy
    decoded, _ = soundfile.read(
        io.BytesIO(body_of(api_get({"cdrId": 1}, "getVoiceRecording"))), dtype="int16"
    )
    sniffer, _ = soundfile.read(
        next(real_spools["live"].rglob(f"{LIVE_CALLS[1][0]}.wav")), dtype="int16"
    )
    assert np.array_equal(decoded, sniffer)


@pytest.mark.mysql
def test_it_serves_the_real_plain_spool_calls(sniffer_dump, real_spools, settings) -> None:
    sniffer_dump("db_notar.sql")
    media_user()
    settings.SPOOL_DIR = real_spools["notar"]
    packets = pcap_packets(body_of(api_get({"cdrId": 2}, "getPCAP")))  # call #1: 10 s PCMA
    assert len(packets) == 1007
    busy = pcap_packets(body_of(api_get({"cdrId": 3}, "getPCAP")))  # call #5: 486, SIP only
    assert 0 < len(busy) < 10
    assert error_reason(api_get({"cdrId": 3}, "getVoiceRecording")).startswith("no recording")
    png = api_get({"cdrId": 11, "type": "S", "side": "L"}, "getAudioGraph")  # lossy call #9
    assert png["Content-Type"] == "image/png"
    assert PASSWORD
