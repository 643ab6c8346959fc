"""The simulator's live listening (listen / readaudio / listen_stop) over real TCP, driven by
the manager client vmgui uses: the sniffer's answers, real-time 8 kHz PCM of each call's
tone, silence while paused, and the command-line switch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command

from cdr.sensors.manager import AesConfig, CallNotFound, ManagerClient, ManagerReplyError
from cdr.sensors.simulator import SAMPLE_RATE, CallPool, ManagerSimulator
from tests.cdr.sensors.test_manager_support import ReplayPeer

T0 = 1_795_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def simulator(clock: Clock, **kw) -> ManagerSimulator:
    pool = CallPool(low=4, high=4, seed=kw.pop("seed", 7), clock=clock)
    return ManagerSimulator(pool=pool, **kw)


def client(sim: ManagerSimulator, **kw) -> ManagerClient:
    return ManagerClient(sim.host, sim.port, connect_timeout=1, timeout=2, **kw)


def answered_call(sim: ManagerSimulator):
    """A call that is talking now and for the next minute."""
    now = sim.pool.clock()
    for call in sim.pool.advance():
        if call.answer_at is not None and call.answer_at < now - 1 and call.end > now + 60:
            return call
    call = sim.pool.calls[0]
    call.answer_at, call.end = now - 5, now + 600
    return call


def dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def test_it_streams_the_calls_tone_in_real_time_to_a_listener():
    clock = Clock()
    with simulator(clock) as sim:
        call = answered_call(sim)
        c = client(sim)
        assert c.listen(call.ref, "a1b2c3d4e5f60718") == "success"
        assert c.readaudio(call.ref, "a1b2c3d4e5f60718") == b""  # nothing new yet
        clock.now += 1.5
        pcm = c.readaudio(call.ref, "a1b2c3d4e5f60718")
        assert len(pcm) == 2 * int(1.5 * SAMPLE_RATE)
        assert abs(dominant_hz(pcm) - call.tone_hz) < 3
        assert np.abs(np.frombuffer(pcm, "<i2")).max() > 2000  # a real signal, not silence
        clock.now += 0.5
        assert len(c.readaudio(call.ref, "a1b2c3d4e5f60718")) == 2 * SAMPLE_RATE // 2
        assert c.listen_stop(call.ref, "a1b2c3d4e5f60718") == ""
        with pytest.raises(ManagerReplyError, match="worker not found"):
            c.readaudio(call.ref, "a1b2c3d4e5f60718")
    assert sim.listen_log == [
        ("listen", call.ref, "a1b2c3d4e5f60718"),
        ("listen_stop", call.ref, "a1b2c3d4e5f60718"),
    ]
    assert "readaudio " + call.ref + " a1b2c3d4e5f60718" in sim.commands


def test_each_call_has_its_own_tone_and_the_audio_is_continuous_across_reads():
    clock = Clock()
    with simulator(clock) as sim:
        calls = sim.pool.advance()
        assert len({c.tone_hz for c in calls}) > 1
        call = answered_call(sim)
        c = client(sim)
        c.listen(call.ref, "1")
        parts = []
        for _ in range(4):
            clock.now += 0.25
            parts.append(c.readaudio(call.ref, "1"))
    joined = b"".join(parts)
    # The same samples as one read of the whole second: no gap or phase jump between reads.
    start = int((T0) * SAMPLE_RATE)
    assert joined == call.audio(start, len(joined) // 2)


def test_a_second_listener_hears_the_call_too():
    clock = Clock()
    with simulator(clock) as sim:
        call = answered_call(sim)
        c = client(sim)
        assert c.listen(call.ref, "first") == "success"
        clock.now += 1
        assert c.listen(call.ref, "second") == "call already listening"
        clock.now += 1
        first, second = c.readaudio(call.ref, "first"), c.readaudio(call.ref, "second")
        assert len(first) == 2 * 2 * SAMPLE_RATE and len(second) == 2 * SAMPLE_RATE
        assert sorted(sim.listening(call.ref)) == ["first", "second"]
        with pytest.raises(ManagerReplyError, match="client of worker not found"):
            c.readaudio(call.ref, "third")


def test_it_answers_like_the_sniffer_for_unknown_calls_and_disabled_liveaudio():
    clock = Clock()
    with simulator(clock) as sim:
        c = client(sim)
        assert c.listen("0x1", "a") == "call not found"
        with pytest.raises(CallNotFound):
            c.readaudio("0x1", "a")
        assert c.listen_stop("0x1", "a") == ""
    with simulator(clock, liveaudio=False) as sim:
        call = answered_call(sim)
        assert client(sim).listen(call.ref, "a") == "liveaudio is disabled"
        assert sim.listeners == {}


def test_a_ringing_call_gives_no_audio_until_it_is_answered():
    clock = Clock()
    with simulator(clock) as sim:
        call = sim.pool.advance()[0]
        call.answer_at, call.end = T0 + 2, T0 + 600
        c = client(sim)
        assert c.listen(call.ref, "ring") == "success"
        clock.now += 1
        assert c.readaudio(call.ref, "ring") == b""
        clock.now += 2
        assert len(c.readaudio(call.ref, "ring")) == 2 * SAMPLE_RATE  # from the answer on


def test_a_paused_call_is_silent_and_an_ended_call_is_gone():
    clock = Clock()
    with simulator(clock) as sim:
        call = answered_call(sim)
        c = client(sim)
        c.listen(call.ref, "p")
        c.pausecall(call.ref)
        clock.now += 1
        assert set(c.readaudio(call.ref, "p")) == {0}
        c.unpausecall(call.ref)
        clock.now += 1
        assert set(c.readaudio(call.ref, "p")) != {0}
        clock.now = call.end + 1
        with pytest.raises(CallNotFound):
            c.readaudio(call.ref, "p")
        assert sim.listeners == {}


def test_a_listener_that_stops_reading_gets_only_the_last_ten_seconds():
    clock = Clock()
    with simulator(clock) as sim:
        call = answered_call(sim)
        c = client(sim)
        c.listen(call.ref, "slow")
        clock.now += 25
        assert len(c.readaudio(call.ref, "slow")) == 2 * 10 * SAMPLE_RATE


def test_it_reads_a_decimal_reference_and_cuts_the_listen_id_like_the_sniffer():
    clock = Clock()
    with simulator(clock) as sim:
        call = answered_call(sim)
        c = client(sim)
        c.request(f"listen {int(call.ref, 16)} {'x' * 30}")
        assert sim.listening(call.ref) == ["x" * 19]


def test_it_listens_over_aes_too():
    aes = AesConfig(bytes(range(16)), bytes(range(16, 32)))
    clock = Clock()
    with simulator(clock, aes=aes) as sim:
        call = answered_call(sim)
        c = client(sim, aes=aes)
        assert c.listen(call.ref, "enc") == "success"
        clock.now += 1
        assert abs(dominant_hz(c.readaudio(call.ref, "enc")) - call.tone_hz) < 3
        with pytest.raises(Exception, match="need aes"):
            client(sim).listen(call.ref, "plain")


@pytest.mark.django_db
def test_the_demo_simulator_allows_listening_unless_told_otherwise(monkeypatch):
    seen = {}

    class Stop(Exception):
        pass

    def fake_start(self):
        seen["liveaudio"] = self.liveaudio
        self._server.server_close()
        raise Stop

    monkeypatch.setattr(ManagerSimulator, "start", fake_start)
    for extra, expected in (([], True), (["--no-liveaudio"], False)):
        out = io.StringIO()
        with pytest.raises(Stop):
            call_command("sensor_simulator", "--port", "0", *extra, stdout=out)
        assert seen["liveaudio"] is expected
        assert ("live audio on" if expected else "live audio off") in out.getvalue()


def test_the_client_keeps_pcm_that_begins_like_gzip_as_audio():
    pcm = b"\x1f\x8b" + bytes(range(254))  # a first sample of -29921: loud, but audio
    with ReplayPeer(pcm) as peer:
        got = ManagerClient(peer.host, peer.port, timeout=1).readaudio("0x1", "a")
    assert got == pcm
