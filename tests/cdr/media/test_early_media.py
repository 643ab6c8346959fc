"""A failed call with early media (a carrier's announcement after 183 Session Progress, then
503): the generator builds it like a real one, the sniffer-style spool keeps its RTP, and the
media layer decodes the announcement as the call's recording."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import soundfile
from django.test import override_settings

from cdr.demo.pcapgen import generate_call
from cdr.demo.signals import SignalSpec
from cdr.media import service as media
from cdr.query.scope import CdrScope
from tests.cdr.media.test_media_support import dominant_freq, tone_spec, write_calls

T0 = dt.datetime(2026, 11, 26, 14, 0, 0)


def announcement(call_id: str = "early@alpha", **overrides):
    return tone_spec(
        call_id,
        T0,
        answered=False,
        final_code=503,
        final_reason="Service Unavailable",
        ring_s=3.0,
        early_media=True,
        called_signal=SignalSpec(kind="tone", freq=620.0, level_dbfs=-12),
        **overrides,
    )


def test_the_generator_answers_183_with_sdp_and_plays_the_announcement():
    result = generate_call(announcement())
    lines = re.findall(rb"SIP/2\.0 \d{3} [^\r]*", result.sip.pcap_bytes())
    assert lines == [
        b"SIP/2.0 100 Trying",
        b"SIP/2.0 183 Session Progress",
        b"SIP/2.0 503 Service Unavailable",
    ]
    assert b"m=audio 21000 RTP/AVP" in result.sip.pcap_bytes()
    (stream,) = result.streams
    assert stream.is_caller is False and stream.received > 100
    assert 2.5 < stream.duration < 3.0
    assert result.connect_duration is None and result.last_sip_response_num == 503


@pytest.mark.django_db
def test_the_announcement_is_the_recording_of_the_failed_call(tmp_path):
    with override_settings(SPOOL_DIR=tmp_path, MEDIA_TMP_DIR=str(tmp_path / "tmp")):
        (call,) = write_calls(tmp_path, [announcement()])
        (found,) = media.find_calls([call.cdr_id], CdrScope.unrestricted())
        item = media.recording(found, fmt="wav")
        with item.file:
            samples, rate = soundfile.read(item.file, dtype="int16")
    assert rate == 8000
    called = samples[:, 1] if samples.ndim == 2 else samples
    assert len(called) / rate > 2.5
    loud = called[np.abs(called) > 1000]
    assert len(loud) > rate  # a second and more of the announcement
    assert dominant_freq(called[4000:20000]) == pytest.approx(620, abs=15)
