"""/api/v1/sensors/ and /api/v1/active-calls/ against real manager peers on loopback."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from cdr.models import Sensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import media_user
from tests.cdr.sensors.test_manager_support import SilentPeer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _timeouts(settings):
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 0.8
    settings.MANAGER_AES = "off"


@pytest.fixture
def two_sensors():
    with (
        ManagerSimulator(pool=CallPool(low=2, high=2, seed=1, id_sensors=(1,))) as one,
        ManagerSimulator(pool=CallPool(low=3, high=3, seed=2, id_sensors=(2,))) as two,
    ):
        Sensor.objects.create(id_sensor=1, name="prague", host="127.0.0.1", port=one.port)
        Sensor.objects.create(id_sensor=2, name="brno", host="127.0.0.1", port=two.port)
        yield one, two


def client_for(name: str, *, writable: bool = False, **restrictions) -> TokenClient:
    user = media_user(name, flags=("can_cdr", "can_activecalls"), **restrictions)
    return TokenClient(token_for(user, read_only=not writable))


def test_it_lists_only_the_sensors_a_user_may_see(two_sensors):
    assert client_for("all").get("/api/v1/sensors/").json() == [
        {"id": 1, "name": "prague"},
        {"id": 2, "name": "brno"},
    ]
    assert client_for("only2", enable_sensors="2").get("/api/v1/sensors/").json() == [
        {"id": 2, "name": "brno"}
    ]


def test_it_merges_the_active_calls_of_every_visible_sensor(two_sensors):
    body = client_for("ops").get("/api/v1/active-calls/").json()
    assert body["total"] == 5 and not body["limited"] and body["failed"] == []
    assert sorted(c["sensor_id"] for c in body["calls"]) == [1, 1, 2, 2, 2]
    assert all(c["callreference"].startswith("0x") for c in body["calls"])
    restricted = client_for("ops2", enable_sensors="1").get("/api/v1/active-calls/").json()
    assert {c["sensor_id"] for c in restricted["calls"]} == {1}


def test_a_silent_sensor_is_listed_as_failed_within_the_timeout(two_sensors):
    with SilentPeer() as silent:
        Sensor.objects.create(id_sensor=3, name="dead", host="127.0.0.1", port=silent.port)
        body = client_for("ops3").get("/api/v1/active-calls/").json()
    assert [f["id"] for f in body["failed"]] == [3]
    assert body["total"] == 5


def test_it_pauses_and_resumes_a_call_and_audits_it(two_sensors):
    one, _ = two_sensors
    client = client_for("pauser", writable=True)
    ref = client.get("/api/v1/active-calls/", {"sensor": 1}).json()["calls"][0]["callreference"]
    response = client.post(f"/api/v1/active-calls/1/{ref}/pause")
    assert response.json() == {"sensor_id": 1, "call_ref": ref.lower(), "paused": True}
    assert [c.paused for c in one.pool.calls if c.ref.lower() == ref.lower()] == [True]
    assert client.post(f"/api/v1/active-calls/1/{ref}/unpause").json()["paused"] is False
    events = AuditEvent.objects.filter(action="call_pause", face="rest")
    assert [e.details["command"] for e in events.order_by("id")] == ["pausecall", "unpausecall"]


def test_it_refuses_pausing_with_a_read_only_token_or_another_sensors_call(two_sensors):
    ro = client_for("ro")
    ref = ro.get("/api/v1/active-calls/", {"sensor": 2}).json()["calls"][0]["callreference"]
    assert ro.post(f"/api/v1/active-calls/2/{ref}/pause").status_code == 403
    only1 = client_for("w1", writable=True, enable_sensors="1")
    response = only1.post(f"/api/v1/active-calls/2/{ref}/pause")
    assert response.status_code == 404
    problem(response)


def test_an_unknown_sensor_or_a_bad_call_reference_is_a_clear_4xx(two_sensors):
    client = client_for("w2", writable=True)
    assert client.get("/api/v1/active-calls/", {"sensor": 99}).status_code == 404
    response = client.post("/api/v1/active-calls/1/not-a-ref/pause")
    assert response.status_code == 400
    assert "call_ref" in problem(response)["detail"]
