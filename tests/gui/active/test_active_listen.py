"""Live listening through the GUI's URLs against the simulator: start (audited), the audio
chunks (the simulator's tone, found by FFT), stop, the clear refusals, and the 403s."""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEvent
from cdr.sensors.simulator import SAMPLE_RATE
from tests.gui.support import gui_user, signed_in

LISTENER = ("can_activecalls", "can_listen_active_call")


def start(client: Client, sensor_id: int, ref: str):
    return client.post(f"/active/{sensor_id}/{ref}/listen/", headers={"X-Requested-With": "fetch"})


def dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def test_a_listener_hears_the_calls_own_tone_and_stops_it(sensors):
    call = sensors.one.pool.calls[2]
    client = signed_in("ears", LISTENER)
    response = start(client, 1, call.ref)
    assert response.status_code == 200
    info = response.json()
    listen_id = info["listen_id"]
    assert info["audio_url"] == f"/active/listen/{listen_id}/audio/"
    assert info["stop_url"] == f"/active/listen/{listen_id}/stop/"
    assert info["sample_rate"] == 8000 and info["sensor"].endswith("sensor 1 (praha-edge)")
    assert sensors.one.listening(call.ref) == [listen_id]

    time.sleep(1.2)
    chunk = client.get(info["audio_url"])
    assert chunk.status_code == 200
    assert chunk["Content-Type"] == "application/octet-stream"
    assert chunk["X-Sample-Rate"] == "8000" and chunk["Cache-Control"] == "no-store"
    pcm = chunk.content
    assert len(pcm) >= 2 * SAMPLE_RATE and len(pcm) % 2 == 0
    assert abs(dominant_hz(pcm) - call.tone_hz) < 3
    other = sensors.one.pool.calls[0]
    assert other.tone_hz != call.tone_hz or other is call

    stopped = client.post(info["stop_url"])
    assert stopped.json() == {"ok": True, "stopped": True}
    assert ("listen_stop", call.ref, listen_id) in sensors.one.listen_log
    after = client.get(info["audio_url"])
    assert after.status_code == 404 and "has ended" in after.json()["error"]

    event = AuditEvent.objects.get(action=AuditEvent.Action.LIVE_LISTEN)
    assert (event.face, event.object_id, event.success, event.username) == (
        "gui",
        call.ref,
        True,
        "ears",
    )
    assert event.details["listen_id"] == listen_id and event.details["sensor"] == 1


def test_another_user_cannot_read_or_stop_someone_elses_listening(sensors):
    call = sensors.one.pool.calls[0]
    info = start(signed_in("ears", LISTENER), 1, call.ref).json()
    intruder = signed_in("intruder", LISTENER)
    assert intruder.get(info["audio_url"]).status_code == 404
    assert intruder.post(info["stop_url"]).json() == {"ok": True, "stopped": False}
    assert sensors.one.listening(call.ref) == [info["listen_id"]]


def test_the_call_ending_ends_the_listening_with_a_clear_answer(sensors):
    call = sensors.two.pool.calls[0]
    client = signed_in("ears", LISTENER)
    info = start(client, 2, call.ref).json()
    call.end = time.time() - 1
    response = client.get(info["audio_url"])
    assert response.status_code == 410
    assert response.json()["error"].startswith("the call has ended")


@pytest.mark.parametrize(
    ("sensor_id", "ref", "status", "message"),
    [
        (1, "0x7f0000000001", 404, "call 0x7f0000000001 is not active on sensor 1"),
        (3, "0x7f0000000001", 502, "sensor 3 cannot be asked: cannot connect"),
        (9, "0x7f0000000001", 404, "no such sensor: 9"),
        (1, "not-a-ref", 400, "is not valid: expected 0x"),
    ],
)
def test_refusals_are_clear_and_audited(sensors, sensor_id, ref, status, message):
    response = start(signed_in("ears", LISTENER), sensor_id, ref)
    assert response.status_code == status
    assert message in response.json()["error"]
    events = AuditEvent.objects.filter(action="live_listen")
    if status == 400:
        assert not events.exists()  # refused before anything was tried
    else:
        assert events.get().success is False and message in events.get().details["reason"]


def test_a_sensor_without_liveaudio_is_named(sensors):
    sensors.one.liveaudio = False
    response = start(signed_in("ears", LISTENER), 1, sensors.one.pool.calls[0].ref)
    assert response.status_code == 409
    assert "sensor 1 (praha-edge) does not allow live listening" in response.json()["error"]
    assert "liveaudio=yes" in response.json()["error"]


def test_a_user_listens_to_at_most_the_configured_number_of_calls(sensors, conf):
    client = signed_in("ears", LISTENER)
    calls = sensors.one.pool.calls
    assert start(client, 1, calls[0].ref).status_code == 200
    assert start(client, 1, calls[1].ref).status_code == 200
    response = start(client, 1, calls[2].ref)
    assert response.status_code == 429 and "stop one first" in response.json()["error"]
    assert sensors.one.listening(calls[2].ref) == []


def test_a_user_restricted_to_one_sensor_cannot_listen_elsewhere(sensors):
    client = signed_in("praha-ears", LISTENER, enable_sensors="1")
    response = start(client, 2, sensors.two.pool.calls[0].ref)
    assert response.status_code == 404 and response.json()["error"] == "no such sensor: 2"
    assert sensors.two.listen_log == []


def test_without_can_listen_active_call_every_listening_url_refuses(sensors):
    call = sensors.one.pool.calls[0]
    owner = signed_in("ears", LISTENER)
    info = start(owner, 1, call.ref).json()
    for flags in (("can_activecalls",), ("can_listen_active_call",)):
        client = signed_in(f"user-{len(flags[0])}", flags)
        missing = ({"can_activecalls", "can_listen_active_call"} - set(flags)).pop()
        for response in (
            start(client, 1, call.ref),
            client.get(info["audio_url"]),
            client.post(info["stop_url"]),
        ):
            assert response.status_code == 403
            assert missing.encode() in response.content
    assert sensors.one.listening(call.ref) == [info["listen_id"]]
    assert AuditEvent.objects.filter(action="live_listen").count() == 1


def test_starting_needs_post_and_the_csrf_token(sensors):
    call = sensors.one.pool.calls[0]
    assert signed_in("ears", LISTENER).get(f"/active/1/{call.ref}/listen/").status_code == 405
    user = get_user_model().objects.get(pk=gui_user("csrf-ears", LISTENER).pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/active/1/{call.ref}/listen/").status_code == 403
    assert sensors.one.listen_log == []
