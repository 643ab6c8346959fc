"""api.php listActiveCalls / handleActiveCall against real manager peers on loopback."""

from __future__ import annotations

import base64
import json
import time

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, UserProfile
from cdr.models import Sensor, System
from cdr.sensors.manager import AesConfig
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.legacy.test_api_php_support import FAST_HASHERS, PASSWORD, call_api, ok, reason
from tests.cdr.sensors.test_manager_support import (
    ReplayPeer,
    SilentPeer,
    closed_port,
    fixture_bytes,
)

KEY = AesConfig(bytes(range(32)), bytes(range(100, 116)))


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 0.8
    settings.MANAGER_AES = "auto"
    settings.MANAGER_AES_KEY = ""
    settings.MANAGER_AES_IV = ""
    return settings


def make_user(name="operator", *, activecalls=True, sensors="", superuser=False):
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
    else:
        user = User.objects.create_user(username=name, password=PASSWORD)
    UserProfile.objects.create(user=user, can_activecalls=activecalls, enable_sensors=sensors)
    return user


def add_sensor(id_sensor, name, peer=None, *, port=None):
    return Sensor.objects.create(
        id_sensor=id_sensor,
        name=name,
        host="127.0.0.1" if peer is not None or port else None,
        port=peer.port if peer is not None else port,
    )


def listing(params=None, user="operator", **kw):
    return call_api(params, task="listActiveCalls", user=user, **kw)


def pause(params, user="operator", **kw):
    return call_api(params, task="handleActiveCall", user=user, **kw)


def pool(n, seed, ids=(-1,)):
    return CallPool(low=n, high=n, seed=seed, id_sensors=ids)


# ---------------------------------------------------------------------------
# listActiveCalls
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_merges_the_calls_of_every_sensor():
    make_user()
    with ManagerSimulator(pool=pool(3, 1)) as one, ManagerSimulator(pool=pool(2, 2)) as two:
        add_sensor(1, "prague-edge", one)
        add_sensor(2, "brno-core", two)
        body = ok(listing())
    assert body["total"] == 5 == len(body["rows"])
    assert {(r["sensorId"], r["sensorName"]) for r in body["rows"]} == {
        (1, "prague-edge"),
        (2, "brno-core"),
    }
    assert body["sensors"] == [
        {"sensorId": 1, "sensorName": "prague-edge"},
        {"sensorId": 2, "sensorName": "brno-core"},
    ]
    assert body["failed"] == []
    starts = [r["calldate_num"] for r in body["rows"]]
    assert starts == sorted(starts, reverse=True)
    row = body["rows"][0]
    assert row["callreference"].startswith("0x") and "callid" in row
    # the manager's columns, values as it sent them (IPv4 integers) plus a text copy
    if isinstance(row["callerip"], int):
        assert row["callerip_dotted"].startswith("10.1.")
    else:
        assert row["callerip_dotted"] == row["callerip"]


@pytest.mark.django_db
def test_it_keeps_the_managers_columns_and_values_exactly():
    make_user()
    raw = fixture_bytes("listcalls_reply.txt")
    expected = json.loads(raw)
    with ReplayPeer(raw) as peer:
        add_sensor(4, "lab", peer)
        body = ok(listing({"sensorId": "4"}))
    header = expected[0]
    for row, values in zip(body["rows"], expected[1:], strict=True):
        assert [row[c] for c in header] == values[: len(header)]
        assert row["sensorId"] == 4 and row["sensorName"] == "lab"
    first = body["rows"][0]
    assert (first["callerip"], first["callerip_dotted"]) == (2130706465, "127.0.0.33")
    assert (first["rtp_dst"], first["rtp_dst_dotted"]) == (2130706475, "127.0.0.43")
    assert first["callerip_encaps_dotted"] is None
    assert first["calleragent"] == "FixturePhone/1.0"


@pytest.mark.django_db
def test_it_lists_a_dead_or_hung_sensor_as_failed_within_the_timeout():
    make_user()
    with ManagerSimulator(pool=pool(2, 3)) as alive, SilentPeer() as hung:
        add_sensor(1, "alive", alive)
        add_sensor(2, "hung", hung)
        add_sensor(3, "dead", port=closed_port())
        started = time.monotonic()
        body = ok(listing())
        elapsed = time.monotonic() - started
    assert elapsed < 2.5  # connect 0.5 s + reply 0.8 s at most, in parallel
    assert body["total"] == 2 and {r["sensorId"] for r in body["rows"]} == {1}
    assert body["sensors"] == [{"sensorId": 1, "sensorName": "alive"}]
    failed = {f["sensorId"]: f for f in body["failed"]}
    assert set(failed) == {2, 3}
    assert failed[2]["sensorName"] == "hung" and "no reply" in failed[2]["reason"]
    assert "cannot connect to 127.0.0.1:" in failed[3]["reason"]


@pytest.mark.django_db
def test_it_answers_success_even_when_no_sensor_answers():
    """Clients use listActiveCalls without params as a credential check."""
    make_user()
    add_sensor(1, "dead", port=closed_port())
    body = ok(listing())
    assert body["rows"] == [] and body["total"] == 0
    assert [f["sensorId"] for f in body["failed"]] == [1]


@pytest.mark.django_db
def test_it_reports_a_malformed_reply_as_that_sensors_failure():
    make_user()
    with ReplayPeer(b'[["callreference","duration"],["0x1","long"]]') as bad:
        add_sensor(1, "bad", bad)
        body = ok(listing())
    assert "'duration' should be a whole number" in body["failed"][0]["reason"]


@pytest.mark.django_db
def test_it_filters_by_sensor_and_call_id():
    make_user()
    with ManagerSimulator(pool=pool(3, 1)) as one, ManagerSimulator(pool=pool(2, 2)) as two:
        add_sensor(1, "one", one)
        add_sensor(2, "two", two)
        only_two = ok(listing({"sensorId": 2}))
        assert {r["sensorId"] for r in only_two["rows"]} == {2}
        assert one.connections == 0  # sensor 1 was not asked
        assert only_two["total"] == 2
        assert ok(listing({"sensorId": "0"}))["total"] == 5  # "0": every sensor
        wanted = only_two["rows"][1]["callid"]
        exact = ok(listing({"callId": wanted}))
        assert [r["callid"] for r in exact["rows"]] == [wanted]
        domain = wanted.split("@")[1]
        pattern = ok(listing({"callId": f"%@{domain}"}))
        assert wanted in [r["callid"] for r in pattern["rows"]]
        assert ok(listing({"callId": "nope"}))["rows"] == []
        assert reason(listing({"sensorId": 9})) == "no such sensor: 9"
        assert "params.sensorId" in reason(listing({"sensorId": "x"}))


@pytest.mark.django_db
def test_it_uses_the_local_sniffer_when_no_sensor_is_registered(settings):
    make_user()
    with ReplayPeer(fixture_bytes("listcalls_reply_zip.bin")) as peer:
        settings.MANAGER_HOST, settings.MANAGER_PORT = peer.host, peer.port
        body = ok(listing())
    assert peer.received == [b'listcalls {"zip":"yes"}\r\n\r\n']
    assert body["total"] == 3
    assert {(r["sensorId"], r["sensorName"], r["id_sensor"]) for r in body["rows"]} == {
        (0, "local", -1)
    }


@pytest.mark.django_db
def test_it_caps_the_rows(settings):
    make_user()
    settings.API_MAX_ROWS = 2
    with ManagerSimulator(pool=pool(4, 5)) as sim:
        add_sensor(1, "one", sim)
        body = ok(listing())
    assert body["total"] == 4 and len(body["rows"]) == 2 and body["limited"] is True


@pytest.mark.django_db
def test_it_names_each_call_of_a_shared_manager_after_the_sensor_it_reports():
    make_user()
    make_user("one-only", sensors="1")
    with ManagerSimulator(pool=CallPool(low=9, high=9, seed=4, id_sensors=(1, 2, 3))) as sim:
        for sid in (1, 2, 3):
            add_sensor(sid, f"s{sid}", sim)
        body = ok(listing())
        restricted = ok(listing(user="one-only"))
        asked = sim.connections
    reported = {r["callreference"]: r["id_sensor"] for r in body["rows"]}
    assert body["total"] == 9 and asked == 2  # one request per manager, not per sensor
    assert all(r["sensorId"] == r["id_sensor"] for r in body["rows"])
    assert {r["sensorId"] for r in restricted["rows"]} == {1}
    assert len(restricted["rows"]) == list(reported.values()).count(1)
    assert restricted["sensors"] == [{"sensorId": 1, "sensorName": "s1"}]


# ---------------------------------------------------------------------------
# Permissions and scope
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_users_without_can_activecalls():
    make_user(activecalls=False)
    with ReplayPeer(fixture_bytes("listcalls_reply.txt")) as peer:
        add_sensor(1, "one", peer)
        assert reason(listing()) == (
            "permission denied: listing active calls needs the can_activecalls permission"
        )
        assert reason(pause({"sensorId": 1, "command": "pausecall", "callRef": "0x1"})) == (
            "permission denied: pausing active calls needs the can_activecalls permission"
        )
        time.sleep(0.05)
    assert peer.connections == 0
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CALL_PAUSE).exists()


@pytest.mark.django_db
def test_a_user_restricted_to_sensor_1_cannot_list_or_pause_calls_of_sensor_2():
    make_user(sensors="1")
    with ManagerSimulator(pool=pool(2, 1)) as one, ManagerSimulator(pool=pool(2, 2)) as two:
        add_sensor(1, "one", one)
        add_sensor(2, "two", two)
        body = ok(listing())
        assert {r["sensorId"] for r in body["rows"]} == {1}
        assert body["sensors"] == [{"sensorId": 1, "sensorName": "one"}]
        assert reason(listing({"sensorId": 2})) == "no such sensor: 2"
        ref = two.pool.advance()[0].ref
        assert reason(pause({"sensorId": 2, "command": "pausecall", "callRef": ref})) == (
            "no such sensor: 2"
        )
        # A call of sensor 2 named with sensor 1 is simply not found there.
        refused = reason(pause({"sensorId": 1, "command": "pausecall", "callRef": ref}))
        assert refused.startswith(f"call {ref} is not active on sensor 1 (one)")
    assert two.connections == 0 and two.commands == []
    assert not any(c.paused for c in two.pool.advance())


@pytest.mark.django_db
def test_a_restricted_user_cannot_pause_another_sensors_call_through_a_shared_manager():
    make_user(sensors="1")
    with ManagerSimulator(pool=CallPool(low=6, high=6, seed=8, id_sensors=(1, 2))) as sim:
        add_sensor(1, "s1", sim)
        add_sensor(2, "s2", sim)
        calls = sim.pool.advance()
        theirs = next(c for c in calls if c.id_sensor == 2)
        mine = next(c for c in calls if c.id_sensor == 1)
        assert "is not active on sensor 1" in reason(
            pause({"sensorId": 1, "command": "pausecall", "callRef": theirs.ref})
        )
        assert not theirs.paused
        ok(pause({"sensorId": 1, "command": "pausecall", "callRef": mine.ref}))
        assert mine.paused
    assert [c for c in sim.commands if c.startswith("pausecall")] == [f"pausecall {mine.ref}"]


@pytest.mark.django_db
def test_a_restricted_user_does_not_see_the_implicit_local_sensor(settings):
    make_user(sensors="1")
    with ReplayPeer(fixture_bytes("listcalls_reply.txt")) as peer:
        settings.MANAGER_HOST, settings.MANAGER_PORT = peer.host, peer.port
        body = ok(listing())
        time.sleep(0.05)
    assert body["rows"] == [] and body["sensors"] == [] and peer.connections == 0


# ---------------------------------------------------------------------------
# handleActiveCall
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_pauses_and_unpauses_a_call_and_audits_it():
    make_user()
    with ManagerSimulator(pool=pool(3, 1)) as sim:
        add_sensor(1, "prague-edge", sim)
        ref = ok(listing())["rows"][0]["callreference"]
        body = ok(pause({"sensorId": "1", "command": "pausecall", "callRef": ref}))
        assert body == {"success": True, "sensorId": 1, "command": "pausecall", "callRef": ref}
        assert sim.pool.find(int(ref, 16)).paused is True
        ok(pause({"sensorId": 1, "command": "unpausecall", "callRef": ref}, transport="json"))
        assert sim.pool.find(int(ref, 16)).paused is False
    events = list(AuditEvent.objects.filter(action=AuditEvent.Action.CALL_PAUSE).order_by("id"))
    assert [e.details["command"] for e in events] == ["pausecall", "unpausecall"]
    first = events[0]
    assert first.success and first.object_id == ref and first.face == "api.php"
    assert first.username == "operator" and first.ip == "127.0.0.1"
    assert first.details["sensor"] == 1 and first.details["call_ref"] == ref
    assert first.details["sensor_name"] == "prague-edge"


@pytest.mark.django_db
def test_it_maps_the_sniffers_pause_errors_and_audits_the_failure():
    make_user()
    with ManagerSimulator(pool=pool(1, 1)) as sim:
        add_sensor(1, "one", sim)
        assert reason(pause({"sensorId": 1, "command": "pausecall", "callRef": "0xdeadbeef"})) == (
            "call 0xdeadbeef is not active on sensor 1 (one) (it may have ended)"
        )
    event = AuditEvent.objects.get(action=AuditEvent.Action.CALL_PAUSE)
    assert event.success is False and event.object_id == "0xdeadbeef"
    with ReplayPeer(b"Bad/missing Call id\n") as peer:
        add_sensor(2, "two", peer)
        assert "could not read the call reference" in reason(
            pause({"sensorId": 2, "command": "pausecall", "callRef": "0x1"})
        )
    dead = closed_port()
    add_sensor(3, "three", port=dead)
    assert reason(pause({"sensorId": 3, "command": "pausecall", "callRef": "0x1"})).startswith(
        f"sensor 3 (three): cannot connect to 127.0.0.1:{dead}"
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CALL_PAUSE).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"sensorId": 1, "command": "pausecall", "callRef": "0x1\r\ngetfile /etc/passwd"},
            "callRef",
        ),
        ({"sensorId": 1, "command": "pausecall", "callRef": "0x1 getfile_in_tar x"}, "callRef"),
        ({"sensorId": 1, "command": "pausecall", "callRef": "0x1\ngetversion"}, "callRef"),
        ({"sensorId": 1, "command": "pausecall", "callRef": "7f2bc000f090"}, "callRef"),
        ({"sensorId": 1, "command": "pausecall", "callRef": "0x"}, "callRef"),
        ({"sensorId": 1, "command": "pausecall", "callRef": "0x1;reload"}, "callRef"),
        ({"sensorId": 1, "command": "pausecall", "callRef": ["0x1"]}, "callRef"),
        ({"sensorId": 1, "command": "pausecall"}, "params.callRef is required"),
        ({"sensorId": 1, "command": "reload", "callRef": "0x1"}, "pausecall or unpausecall"),
        ({"sensorId": 1, "command": "PAUSECALL", "callRef": "0x1"}, "pausecall or unpausecall"),
        ({"sensorId": 1, "command": "pausecall\r\n", "callRef": "0x1"}, "pausecall or unpausecall"),
        ({"sensorId": 1, "command": "listcalls", "callRef": "0x1"}, "pausecall or unpausecall"),
        ({"sensorId": 1, "callRef": "0x1"}, "params.command is required"),
        ({"sensorId": "1 2", "command": "pausecall", "callRef": "0x1"}, "params.sensorId"),
    ],
)
def test_it_validates_strictly_before_anything_is_sent(params, message):
    make_user()
    with ReplayPeer(b"") as peer:
        add_sensor(1, "one", peer)
        assert message in reason(pause(params))
        time.sleep(0.05)
    assert peer.connections == 0 and peer.received == []
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CALL_PAUSE).exists()


@pytest.mark.django_db
def test_it_needs_params_and_a_sensor_when_several_are_visible():
    make_user()
    with ManagerSimulator(pool=pool(1, 1)) as one, ManagerSimulator(pool=pool(1, 2)) as two:
        add_sensor(1, "one", one)
        assert "missing params" in reason(pause(None))
        ref = one.pool.advance()[0].ref
        # one visible sensor: sensorId may be left out
        ok(pause({"command": "pausecall", "callRef": ref}))
        add_sensor(2, "two", two)
        assert "params.sensorId is required" in reason(
            pause({"command": "unpausecall", "callRef": ref})
        )


@pytest.mark.django_db
def test_anonymous_callers_work_when_authorization_is_disabled(settings):
    settings.API_DISABLE_AUTH = True
    with ManagerSimulator(pool=pool(1, 1)) as sim:
        add_sensor(1, "one", sim)
        ref = ok(listing(user=None, password=None))["rows"][0]["callreference"]
        ok(pause({"sensorId": 1, "command": "pausecall", "callRef": ref}, user=None, password=None))
    assert AuditEvent.objects.get(action=AuditEvent.Action.CALL_PAUSE).username == "anonymous"


# ---------------------------------------------------------------------------
# AES
# ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.django_db
def test_it_encrypts_with_the_system_manager_key_row():
    make_user()
    with ManagerSimulator(aes=KEY, pool=pool(2, 1)) as sim:
        add_sensor(1, "secure", sim)
        refused = ok(listing())
        assert "need aes" in refused["failed"][0]["reason"]
        System.objects.create(
            type="manager_key", content=json.dumps({"key": _b64(KEY.key), "iv": _b64(KEY.iv)})
        )
        body = ok(listing())
        assert body["total"] == 2 and body["failed"] == []
        ref = body["rows"][0]["callreference"]
        ok(pause({"sensorId": 1, "command": "pausecall", "callRef": ref}))
        assert sim.pool.find(int(ref, 16)).paused is True


@pytest.mark.django_db
def test_it_encrypts_with_the_key_from_settings_and_can_be_told_not_to(settings):
    make_user()
    settings.MANAGER_AES_KEY, settings.MANAGER_AES_IV = _b64(KEY.key), _b64(KEY.iv)
    System.objects.create(type="manager_key", content='{"key":"AAAA","iv":"AAAA"}')
    with ManagerSimulator(aes=KEY, pool=pool(1, 1)) as sim:
        add_sensor(1, "secure", sim)
        assert ok(listing())["total"] == 1  # settings win over the row
        settings.MANAGER_AES = "off"
        assert "need aes" in ok(listing())["failed"][0]["reason"]


@pytest.mark.django_db
def test_it_explains_an_unusable_manager_key_row():
    make_user()
    System.objects.create(type="manager_key", content="not json")
    add_sensor(1, "one", port=closed_port())
    assert "the system manager_key row cannot be used" in reason(listing())
