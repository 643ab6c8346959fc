"""A full disk while writing a temporary recording: the clear envelope, nothing half-written
left behind, and the same request works once there is room again.

``VMGUI_MEDIA_TMP_DIR`` is put on a tiny tmpfs mounted by the test (it truly answers ENOSPC,
as a full disk does); mounting needs root, as the CI runs.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from tests.cdr.media.test_media_support import (
    api_get,
    body_of,
    error_reason,
    media_user,
    tone_spec,
    write_calls,
)

NO_SPACE = "no space left in the temporary directory to prepare the recording"


@pytest.fixture
def tiny_tmp(tmp_path) -> Path:
    """An 8 KiB tmpfs: too small for a few seconds of audio, decoded or compressed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the CI runs as root)")
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _free(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bfree * stat.f_frsize


def _used(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


@pytest.fixture
def calls(tmp_path, settings, tiny_tmp):
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tiny_tmp)
    decoded, own_wav = write_calls(
        settings.SPOOL_DIR,
        [
            tone_spec("decoded@x", dt.datetime(2026, 11, 27, 9)),
            tone_spec("ownwav@x", dt.datetime(2026, 11, 27, 10)),
        ],
        wav=False,
    )
    # The second call also has the sniffer's own WAV (converted to OGG on request).
    write_calls(
        settings.SPOOL_DIR,
        [tone_spec("ownwav@x", dt.datetime(2026, 11, 27, 10))],
        wav=True,
        db=False,
    )
    media_user()
    return decoded, own_wav


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("which", "task", "params"),
    [
        ("decoded", "getVoiceRecording", {}),  # RTP decoded into temporary channels
        ("decoded", "getVoiceRecording", {"ogg": 1}),
        ("own", "getVoiceRecording", {"ogg": 1}),  # the sniffer's WAV converted to OGG
        ("own", "getVoiceRecording", {"saveaudio_afterconnect": 1}),
        ("decoded", "getAudioGraph", {}),
    ],
)
def test_a_full_temporary_disk_is_a_clear_envelope_and_leaves_nothing(
    calls, tiny_tmp, which, task, params
):
    call = calls[0] if which == "decoded" else calls[1]
    free_before = _free(tiny_tmp)
    assert NO_SPACE in error_reason(api_get({"cdrId": call.cdr_id, **params}, task))
    assert list(tiny_tmp.iterdir()) == []  # unnamed temporary files: nothing to clean up
    assert _free(tiny_tmp) == free_before and _used(tiny_tmp) == 0


@pytest.mark.django_db
def test_a_zip_of_recordings_on_a_full_disk_names_each_call(calls, tiny_tmp):
    ids = [c.cdr_id for c in calls]
    reason = error_reason(api_get({"cdrId": ids, "ogg": 1}, "getVoiceRecording"))
    assert reason.count(NO_SPACE) == 2
    assert _used(tiny_tmp) == 0


@pytest.mark.django_db
def test_the_same_request_works_once_there_is_room(calls, tiny_tmp):
    call = calls[0]
    assert NO_SPACE in error_reason(api_get({"cdrId": call.cdr_id}, "getVoiceRecording"))
    subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_tmp)], check=True)
    response = api_get({"cdrId": call.cdr_id}, "getVoiceRecording")
    assert response["Content-Type"] == "audio/x-wav"
    assert body_of(response)[:4] == b"RIFF"
    assert _used(tiny_tmp) == 0  # closed after sending: gone
