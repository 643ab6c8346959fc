"""A sensor that accepts the manager connection and never answers: every face that talks to
sensors answers within its timeouts, with a reason naming the sensor.

(listActiveCalls with a hung sensor is in test_active_calls_api.py: the sensor is listed as
failed and the others answer.) Here: pausing a call (handleActiveCall), and call files read
from a sensor's own spool (VMGUI_SPOOL_REMOTE=missing) when the sensor hangs on the look-up
or in the middle of the download.
"""

from __future__ import annotations

import time

import pytest

from cdr.models import Sensor
from cdr.sensors.simulator import ManagerSimulator
from tests.api.legacy.test_active_calls_api import add_sensor, make_user, pause
from tests.api.legacy.test_api_php_support import reason
from tests.api.legacy.test_faults_support import within
from tests.cdr.media.test_media_support import api_get, error_reason, media_user
from tests.cdr.sensors.test_manager_remote_spool import put_plain, sipp_call
from tests.cdr.sensors.test_manager_support import SilentPeer

CONNECT, REPLY = 0.5, 0.8  # the settings below: the longest a sensor may hold a request


@pytest.fixture(autouse=True)
def _timeouts(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MANAGER_CONNECT_TIMEOUT = CONNECT
    settings.MANAGER_TIMEOUT = REPLY
    settings.MANAGER_AES = "off"
    settings.SPOOL_DIR = tmp_path / "local"
    settings.SPOOL_DIR.mkdir()
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    settings.SPOOL_REMOTE = "missing"


class HangsOnDownload(ManagerSimulator):
    """Answers the look-ups (file_exists) like a sniffer, then never sends the file."""

    def _answer(self, data: bytes) -> bytes:
        if data.lstrip().startswith(b"getfile"):
            self._stop.wait(60)
            return b""
        return super()._answer(data)


@pytest.mark.django_db
def test_pausing_a_call_on_a_hung_sensor_answers_within_the_timeout():
    make_user()
    with SilentPeer() as hung:
        add_sensor(1, "hung", hung)
        with within(CONNECT + REPLY + 1.5):
            answer = pause({"sensorId": 1, "command": "pausecall", "callRef": "0x1"})
    assert reason(answer).startswith("sensor 1 (hung): no reply from 127.0.0.1:")
    assert reason(answer).endswith(f"within {REPLY:g} s")


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["getPCAP", "getVoiceRecording"])
def test_a_hung_sensor_spool_look_up_is_a_clear_envelope(task):
    media_user()
    cdr = sipp_call()
    with SilentPeer() as hung:
        Sensor.objects.create(id_sensor=1, name="far-away", host="127.0.0.1", port=hung.port)
        with within(CONNECT + 3 * REPLY + 1.5):
            shown = error_reason(api_get({"cdrId": cdr.ID}, task))
    assert "sensor 1 (far-away) cannot be asked for it" in shown
    assert "no reply from 127.0.0.1:" in shown


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["getPCAP", "getVoiceRecording"])
def test_a_sensor_that_hangs_in_the_download_is_a_clear_envelope(tmp_path, task):
    remote = tmp_path / "remote"
    put_plain(remote)
    media_user()
    cdr = sipp_call()
    with HangsOnDownload(spool_dir=remote) as sim:
        Sensor.objects.create(id_sensor=1, name="remote", host=sim.host, port=sim.port)
        started = time.monotonic()
        shown = error_reason(api_get({"cdrId": cdr.ID}, task))
        elapsed = time.monotonic() - started
    assert elapsed < CONNECT + 4 * REPLY + 2
    assert f"sent nothing for {REPLY:g} s" in shown, shown
    assert any(r.lstrip().startswith(b"getfile ") for r in sim.requests)
