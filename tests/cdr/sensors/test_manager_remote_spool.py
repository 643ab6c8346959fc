"""VMGUI_SPOOL_REMOTE=missing: call files that are not in the local spool are streamed from
the call's sensor through its manager port (file_exists, getfile, getfile_in_tar)."""

from __future__ import annotations

import base64
import io
import shutil
import tarfile
from pathlib import Path

import dpkt
import pytest
import soundfile

from cdr.media.spool import KIND_RTP, KIND_SIP, CallRef
from cdr.models import Sensor
from cdr.sensors.manager import AesConfig, ManagerClient, RemoteSpoolFile, locate_remote
from cdr.sensors.simulator import ManagerSimulator
from tests.cdr.media.test_media_support import api_get, body_of, error_reason, media_user
from tests.cdr.sensors.test_manager_support import closed_port
from tests.conftest import FIXTURES_ROOT
from tests.factories import make_call

CAPTURE = FIXTURES_ROOT / "sipp_uac_pcap.pcap"
CALL_ID = "1-23776@127.0.0.51"
MINUTE = Path("2026-11-27") / "05" / "10"
KEY = AesConfig(bytes(range(32)), bytes(range(100, 116)))


def packets(data: bytes):
    return list(dpkt.pcap.Reader(io.BytesIO(data)))


@pytest.fixture
def spools(tmp_path, settings):
    settings.SPOOL_DIR = tmp_path / "local"
    settings.SPOOL_DIR.mkdir()
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    settings.SPOOL_REMOTE = "missing"
    settings.MANAGER_TIMEOUT = 2
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    remote = tmp_path / "remote"
    remote.mkdir()
    return remote


def sipp_call():
    return make_call(
        "2026-11-27 05:10:40.722",
        call_id=CALL_ID,
        sipcallerip="127.0.0.51",
        sipcalledip="127.0.0.52",
        duration=7.1,
        connect_duration=7.1,
        id_sensor=1,
    )


def put_plain(remote: Path) -> None:
    folder = remote / MINUTE / "ALL"  # pcapsplit=no: one pcap per call
    folder.mkdir(parents=True)
    shutil.copy(CAPTURE, folder / f"{CALL_ID}.pcap")


def put_in_tar(remote: Path) -> None:
    folder = remote / MINUTE / "SIP"
    folder.mkdir(parents=True)
    data = CAPTURE.read_bytes()
    half = len(data) // 2
    with tarfile.open(folder / "sip_2026-11-27-05-10.tar.gz", "w:gz") as tar:
        for name, part in ((f"{CALL_ID}.pcap#1", data[:half]), (f"{CALL_ID}.pcap", data[half:])):
            info = tarfile.TarInfo(name)
            info.size = len(part)
            tar.addfile(info, io.BytesIO(part))


@pytest.mark.django_db
def test_it_streams_a_pcap_and_a_recording_from_the_sensors_spool(spools):
    put_plain(spools)
    media_user()
    cdr = sipp_call()
    with ManagerSimulator(spool_dir=spools) as sim:
        Sensor.objects.create(id_sensor=1, name="remote", host=sim.host, port=sim.port)
        data = body_of(api_get({"cdrId": cdr.ID}, "getPCAP"))
        wav = body_of(api_get({"cdrId": cdr.ID}, "getVoiceRecording"))
    assert packets(data) == packets(CAPTURE.read_bytes())
    pcm, _ = soundfile.read(io.BytesIO(wav), dtype="int16")
    assert pcm[:, 0].any()
    assert any(c.startswith("file_exists 2026-11-27/05/10/SIP/") for c in sim.commands)
    assert "getfile 2026-11-27/05/10/ALL/1-23776@127.0.0.51.pcap 0 1" in sim.commands


@pytest.mark.django_db
def test_it_reassembles_a_member_of_a_tar_on_the_sensor_over_aes(spools, settings):
    put_in_tar(spools)
    media_user()
    cdr = sipp_call()
    settings.MANAGER_AES_KEY = base64.b64encode(KEY.key).decode()
    settings.MANAGER_AES_IV = base64.b64encode(KEY.iv).decode()
    with ManagerSimulator(spool_dir=spools, aes=KEY) as sim:
        Sensor.objects.create(id_sensor=1, name="remote", host=sim.host, port=sim.port)
        data = body_of(api_get({"cdrId": cdr.ID}, "getPCAP"))
    assert packets(data) == packets(CAPTURE.read_bytes())
    assert sim.requests and all(r.startswith(b"aes-256-cbc:") for r in sim.requests)


@pytest.mark.django_db
def test_it_reads_only_the_local_spool_unless_told(spools, settings):
    put_plain(spools)
    media_user()
    settings.SPOOL_REMOTE = "off"
    cdr = sipp_call()
    with ManagerSimulator(spool_dir=spools) as sim:
        Sensor.objects.create(id_sensor=1, name="remote", host=sim.host, port=sim.port)
        assert "no pcap for CDR" in error_reason(api_get({"cdrId": cdr.ID}, "getPCAP"))
    assert sim.connections == 0


@pytest.mark.django_db
def test_it_names_the_sensor_that_cannot_be_asked(spools):
    media_user()
    cdr = sipp_call()
    Sensor.objects.create(id_sensor=1, name="far-away", host="127.0.0.1", port=closed_port())
    reason = error_reason(api_get({"cdrId": cdr.ID}, "getPCAP"))
    assert "sensor 1 (far-away) cannot be asked for it: cannot connect" in reason


@pytest.mark.django_db
def test_it_answers_missing_when_the_sensor_does_not_have_the_file(spools):
    media_user()
    cdr = sipp_call()
    with ManagerSimulator(spool_dir=spools) as sim:
        Sensor.objects.create(id_sensor=1, name="remote", host=sim.host, port=sim.port)
        assert "no pcap for CDR" in error_reason(api_get({"cdrId": cdr.ID}, "getPCAP"))


def test_it_builds_remote_paths_from_database_values_only(tmp_path):
    import datetime as dt

    ref = CallRef(
        cdr_id=5,
        calldate=dt.datetime(2026, 11, 27, 5, 11, 0),
        fbasename="../../etc/passwd x\r\ny",
        tar_parts=((2, 1536), (2, 9728)),
    )
    with ManagerSimulator(spool_dir=tmp_path) as sim:
        client = ManagerClient(sim.host, sim.port, timeout=2)
        assert locate_remote(client, ref, KIND_SIP) is None
        rtp_dir = tmp_path / "2026-11-27" / "05" / "10" / "RTP"  # :00.000 → previous minute too
        rtp_dir.mkdir(parents=True)
        (rtp_dir / "rtp_2026-11-27-05-10.tar").write_bytes(b"\0" * 1024)
        found = locate_remote(client, ref, KIND_RTP)
    command = next(c for c in sim.commands if c.startswith("file_exists"))
    assert ".._.._etc_passwd_x__y.pcap" in command and "/../" not in command
    assert isinstance(found, RemoteSpoolFile)
    assert found.relpath == "2026-11-27/05/10/RTP/rtp_2026-11-27-05-10.tar"
    assert found.in_tar and found.positions == (1536, 9728) and found.record_id == 5
