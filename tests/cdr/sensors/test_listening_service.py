"""cdr.sensors.listening against the simulator over TCP: sessions bound to their owner and web
session, the per-user and total caps, the idle stop (sweep and the reaper thread), the
caller's scope, and the sniffer's refusals; each with the host's session files and with the
Redis store of several app hosts."""

from __future__ import annotations

import time

import pytest

from cdr.models import Sensor
from cdr.query.scope import CdrScope
from cdr.sensors import listening
from cdr.sensors.manager import CallNotFound, ManagerConnectError
from cdr.sensors.registry import UnknownSensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.cdr.sensors.test_manager_support import closed_port
from tests.redisserver import redis_server  # noqa: F401 (fixture)

ALL = CdrScope.unrestricted()
ALICE = {"owner": "1", "session": "alice-browser"}
BOB = {"owner": "2", "session": "bob-browser"}


@pytest.fixture(params=["files", "redis"])
def conf(request, settings, tmp_path):
    """Every test runs with the host's session files and with Redis (several app hosts)."""
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_server").url
    settings.LISTEN_STATE_DIR = tmp_path / "listen"
    settings.LISTEN_REAPER = False
    settings.LISTEN_MAX_PER_USER = 2
    settings.LISTEN_MAX_TOTAL = 20
    settings.LISTEN_IDLE_SECONDS = 15
    settings.MANAGER_AES = "off"
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 1.0
    return settings


@pytest.fixture
def sim(db, conf):
    pool = CallPool(low=6, high=6, seed=11, id_sensors=(1,))
    now = time.time()
    for call in pool.calls:  # every call talking, for minutes
        call.answer_at, call.end = now - 3, now + 600
    with ManagerSimulator(pool=pool) as server:
        Sensor.objects.create(id_sensor=1, name="praha-edge", host="127.0.0.1", port=server.port)
        yield server


def refs(sim) -> list[str]:
    return [c.ref for c in sim.pool.calls]


def stops(sim) -> list[tuple[str, str]]:
    return [(ref, lid) for cmd, ref, lid in sim.listen_log if cmd == "listen_stop"]


def test_it_starts_reads_and_stops_a_session(sim):
    ref = refs(sim)[0]
    item = listening.start(ALL, 1, ref, **ALICE)
    assert len(item.listen_id) == 16 and item.sensor_name == "praha-edge"
    assert sim.listening(ref) == [item.listen_id]
    assert [s.listen_id for s in listening.sessions("1")] == [item.listen_id]
    time.sleep(0.3)
    pcm = listening.read(item.listen_id, scope=ALL, **ALICE)
    assert len(pcm) >= 2 * 1000 and len(pcm) % 2 == 0
    assert listening.stop(item.listen_id, **ALICE).listen_id == item.listen_id
    assert sim.listening(ref) == [] and stops(sim) == [(ref, item.listen_id)]
    with pytest.raises(listening.ListenNotFound, match="has ended"):
        listening.read(item.listen_id, scope=ALL, **ALICE)
    assert listening.stop(item.listen_id, **ALICE) is None  # twice: nothing more is sent
    assert len(stops(sim)) == 1


def test_it_caps_the_sessions_of_a_user_and_of_the_server(sim, conf):
    first, second, third, fourth = refs(sim)[:4]
    listening.start(ALL, 1, first, **ALICE)
    listening.start(ALL, 1, second, **ALICE)
    with pytest.raises(listening.ListenLimit, match="already listening to 2 call"):
        listening.start(ALL, 1, third, **ALICE)
    assert sim.listening(third) == []  # refused before the sensor was asked
    conf.LISTEN_MAX_TOTAL = 3
    listening.start(ALL, 1, third, **BOB)
    with pytest.raises(listening.ListenLimit, match="on this server"):
        listening.start(ALL, 1, fourth, **BOB)
    assert len(listening.sessions()) == 3


def test_listening_again_to_the_same_call_replaces_the_old_session(sim):
    ref = refs(sim)[0]
    old = listening.start(ALL, 1, ref, **ALICE)
    new = listening.start(ALL, 1, ref, **ALICE)  # a reloaded page
    assert new.listen_id != old.listen_id
    assert sim.listening(ref) == [new.listen_id] and stops(sim) == [(ref, old.listen_id)]
    assert [s.listen_id for s in listening.sessions()] == [new.listen_id]
    other = listening.start(ALL, 1, ref, **BOB)  # another user on the same call: both listen
    assert sorted(sim.listening(ref)) == sorted([new.listen_id, other.listen_id])


def test_an_idle_session_is_stopped_by_the_server(sim):
    ref = refs(sim)[0]
    item = listening.start(ALL, 1, ref, **ALICE)
    now = time.time()
    assert listening.sweep(now + 10) == []  # not idle yet
    listening.read(item.listen_id, scope=ALL, now=now + 10, **ALICE)  # a read keeps it alive
    assert listening.sweep(now + 20) == []
    stopped = listening.sweep(now + 26)
    assert [s.listen_id for s in stopped] == [item.listen_id]
    assert stops(sim) == [(ref, item.listen_id)] and sim.listening(ref) == []
    assert listening.sessions() == []


def test_the_reaper_thread_stops_an_abandoned_session_by_itself(sim, conf):
    conf.LISTEN_REAPER = True
    conf.LISTEN_IDLE_SECONDS = 0.6
    ref = refs(sim)[1]
    item = listening.start(ALL, 1, ref, **ALICE)
    deadline = time.monotonic() + 6
    while not stops(sim) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stops(sim) == [(ref, item.listen_id)]
    assert listening.sessions() == []


def test_another_user_or_browser_can_neither_read_nor_stop_a_session(sim):
    ref = refs(sim)[0]
    item = listening.start(ALL, 1, ref, **ALICE)
    for who in (BOB, {"owner": "1", "session": "alice-other-browser"}):
        with pytest.raises(listening.ListenNotFound):
            listening.read(item.listen_id, scope=ALL, **who)
        assert listening.stop(item.listen_id, **who) is None
    assert sim.listening(ref) == [item.listen_id]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "A" * 16, "0123456789abcdef0"])
def test_a_malformed_listen_id_is_just_an_unknown_session(sim, bad):
    with pytest.raises(listening.ListenNotFound):
        listening.read(bad, scope=ALL, **ALICE)
    assert listening.stop(bad, **ALICE) is None


def test_a_user_who_may_not_see_the_sensor_cannot_listen(sim):
    ref = refs(sim)[0]
    with pytest.raises(UnknownSensor, match="no such sensor: 1"):
        listening.start(CdrScope(sensors=(2,)), 1, ref, **ALICE)
    assert not any(c.startswith("listen") for c in sim.commands)
    assert listening.sessions() == []


def test_a_user_limited_to_some_numbers_may_listen_only_to_their_calls(sim):
    mine, other = sim.pool.calls[0], sim.pool.calls[1]
    other.caller, other.called = "+81312345678", "+81398765432"
    scope = CdrScope(numbers=(mine.caller,))
    assert mine.caller not in (other.caller, other.called)
    with pytest.raises(CallNotFound):
        listening.start(scope, 1, other.ref, **ALICE)
    assert sim.listening(other.ref) == []
    item = listening.start(scope, 1, mine.ref, **ALICE)
    assert sim.listening(mine.ref) == [item.listen_id]


def test_a_session_ends_when_its_sensor_leaves_the_users_scope(sim):
    ref = refs(sim)[0]
    item = listening.start(ALL, 1, ref, **ALICE)
    with pytest.raises(listening.ListenEnded, match="no longer see sensor 1"):
        listening.read(item.listen_id, scope=CdrScope(sensors=(3,)), **ALICE)
    assert stops(sim) == [(ref, item.listen_id)]


def test_a_session_ends_with_its_call(sim):
    call = sim.pool.calls[0]
    item = listening.start(ALL, 1, call.ref, **ALICE)
    call.end = time.time() - 1
    with pytest.raises(listening.ListenEnded, match="the call has ended"):
        listening.read(item.listen_id, scope=ALL, **ALICE)
    assert listening.sessions() == []


def test_the_sniffers_refusals_are_named_and_leave_no_session(sim, db):
    with pytest.raises(CallNotFound):
        listening.start(ALL, 1, "0x1", **ALICE)
    sim.liveaudio = False
    with pytest.raises(listening.LiveAudioDisabled, match="liveaudio=yes"):
        listening.start(ALL, 1, refs(sim)[0], **ALICE)
    assert listening.sessions() == []


def test_a_down_sensor_is_named_and_leaves_no_session(db, conf):
    Sensor.objects.create(id_sensor=5, name="brno-core", host="127.0.0.1", port=closed_port())
    with pytest.raises(ManagerConnectError, match="cannot connect"):
        listening.start(ALL, 5, "0x7f0011", **ALICE)
    assert listening.sessions() == []


def test_stop_all_ends_every_session_of_a_user(sim):
    a, b = refs(sim)[:2]
    listening.start(ALL, 1, a, **ALICE)
    listening.start(ALL, 1, b, **ALICE)
    keep = listening.start(ALL, 1, a, **BOB)
    assert listening.stop_all("1") == 2
    assert [s.listen_id for s in listening.sessions()] == [keep.listen_id]
    assert len(stops(sim)) == 2


def test_a_session_started_on_one_host_is_read_on_another_only_through_redis(sim, conf, tmp_path):
    ref = refs(sim)[0]
    conf.LISTEN_STATE_DIR = tmp_path / "host-a"
    item = listening.start(ALL, 1, ref, **ALICE)
    conf.LISTEN_STATE_DIR = tmp_path / "host-b"  # another host, with its own directory
    time.sleep(0.3)
    if not conf.REDIS_URL:  # per host by design: route a user to one host (deployment.md)
        with pytest.raises(listening.ListenNotFound):
            listening.read(item.listen_id, scope=ALL, **ALICE)
        return
    assert len(listening.read(item.listen_id, scope=ALL, **ALICE)) > 0
    assert listening.stop(item.listen_id, **ALICE) is not None
    assert stops(sim) == [(ref, item.listen_id)]
    assert not (tmp_path / "host-a").exists() and not (tmp_path / "host-b").exists()
