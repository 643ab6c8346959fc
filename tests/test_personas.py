"""Every endpoint of every face, called by fixed personas: each sees exactly what it may.

The matrix below is the contract of the permission layer (docs/permissions.md). Two calls
exist, both with real pcaps and recordings in the spool:

- A: sensor 1, caller +420601111111 → 2002
- B: sensor 2, caller 1001 → 2002

Personas: ``admin`` (superuser); ``sensor1`` (media flags, only sensor 1); ``prefix420``
(media flags, only numbers +420%); ``nomedia`` (can_cdr only); ``blocked`` (media flags,
blocked); ``anonymous`` (no credentials, authorization enabled). An outcome is
``("rows", {calls})``, ``("count", n)``, ``("file", content-type)`` or ``("refused", text)``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from accounts.services import profile_of
from cdr.models import Sensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.rest.support import token_for
from tests.cdr.media.test_media_support import PASSWORD, media_user, tone_spec, write_calls

MEDIA = (
    "can_cdr",
    "can_pcap",
    "can_download_audio",
    "can_play_audio",
    "can_graphs",
    "can_activecalls",
)
T0 = dt.datetime(2026, 11, 27, 9, 0, 0)
SQL = "/php/model/sql.php"


def make_personas() -> None:
    get_user_model().objects.create_superuser("admin", "a@x", PASSWORD)
    media_user("sensor1", flags=MEDIA, enable_sensors="1")
    media_user("prefix420", flags=MEDIA, number="+420%")
    media_user("nomedia", flags=("can_cdr",))
    blocked = media_user("blocked", flags=MEDIA)
    profile = profile_of(blocked)
    profile.blocked, profile.blocked_reason = True, "left the company"
    profile.save()


@pytest.fixture
def world(db, tmp_path):
    specs = [
        tone_spec("persona-a@alpha", T0, caller="+420601111111"),
        tone_spec("persona-b@alpha", T0 + dt.timedelta(minutes=5), caller="1001", seed=9),
    ]
    with override_settings(SPOOL_DIR=tmp_path):
        calls = write_calls(tmp_path, specs, wav=True, db=False)
        from tests.cdr.media.test_media_support import insert_cdr

        ids = {
            "A": insert_cdr(calls[0].spec, calls[0].result, calls[0].files, id_sensor=1),
            "B": insert_cdr(calls[1].spec, calls[1].result, calls[1].files, id_sensor=2),
        }
        make_personas()
        # Each sensor's manager port is a real TCP peer serving two active calls.
        with (
            ManagerSimulator(pool=CallPool(low=2, high=2, seed=1, id_sensors=(1,))) as one,
            ManagerSimulator(pool=CallPool(low=2, high=2, seed=2, id_sensors=(2,))) as two,
        ):
            Sensor.objects.filter(id_sensor__in=[1, 2]).delete()
            Sensor.objects.create(id_sensor=1, name="s1", host="127.0.0.1", port=one.port)
            Sensor.objects.create(id_sensor=2, name="s2", host="127.0.0.1", port=two.port)
            admin = Client()
            body = json.loads(
                admin.get(
                    "/php/api.php",
                    {"task": "listActiveCalls", "user": "admin", "password": PASSWORD},
                ).content
            )
            ALL_ACTIVE[:] = body["rows"]
            TOKENS.clear()
            for user in get_user_model().objects.all():
                TOKENS[user.username] = token_for(user)
            yield ids


# --- how each endpoint is called and its answer normalised ---------------------------------


def _json_outcome(response, ids: dict[str, int], rows_key: str | None, id_key: str):
    body = json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    if not body.get("success"):
        reason = (body.get("errors") or {}).get("reason") or (body.get("error") or {}).get("type")
        return ("refused", reason)
    if rows_key is None:
        return ("count", body["total"])
    names = {v: k for k, v in ids.items()}
    return ("rows", {names[row[id_key]] for row in body[rows_key]})


def _file_outcome(response, ids):
    kind = response["Content-Type"]
    if kind.startswith("application/json"):
        return _json_outcome(response, ids, None, "")
    assert response.status_code in (200, 206)
    return ("file", kind.split(";")[0])


def active_calls(persona, ids):
    fields = {"task": "listActiveCalls", "params": "{}"}
    if persona:
        fields.update(user=persona, password=PASSWORD)
    body = json.loads(Client().get("/php/api.php", fields).content)
    if not body.get("success"):
        return ("refused", body["errors"]["reason"])
    if persona == "prefix420":  # restricted by number: it sees exactly the 420% calls
        visible = {row["callreference"] for row in body["rows"]}
        expected = {r["callreference"] for r in ALL_ACTIVE if _number_match(r)}
        exercised = 0 < len(expected) < len(ALL_ACTIVE)  # some calls hidden, some shown
        return PREFIX_CALLS if visible == expected and exercised else ("wrong calls", visible)
    return ("sensors", {row["sensorId"] for row in body["rows"]})


def _number_match(row) -> bool:
    return any(str(row.get(k) or "").startswith("+420") for k in ("caller", "called"))


ALL_ACTIVE: list[dict] = []


def api(task: str, params: dict) -> Callable:
    def call(persona: str | None, ids: dict[str, int]):
        fields = {"task": task, "params": json.dumps({k: ids.get(v, v) for k, v in params.items()})}
        if persona:
            fields.update(user=persona, password=PASSWORD)
        response = Client().get("/php/api.php", fields)
        if task in ("getVoipCalls",):
            return _json_outcome(response, ids, "cdr", "cdrId")
        if task == "listCdrIds":
            return _json_outcome(response, ids, "cdr", "cdrId")
        return _file_outcome(response, ids)

    return call


def session(persona: str | None) -> tuple[Client, tuple | None]:
    """A client with a sql.php session for the persona (or the login's refusal)."""
    client = Client()
    if persona:
        body = json.loads(
            client.get(SQL, {"module": "bypass_login", "user": persona, "pass": PASSWORD}).content
        )
        if not body.get("success"):
            return client, ("refused", body.get("errors", {}).get("reason") or body.get("error"))
    return client, None


def sql(fields: dict, rows_key: str | None = "results") -> Callable:
    def call(persona, ids):
        client, refused = session(persona)
        if refused:
            return refused
        response = client.get(SQL, {"fdatefrom": "2026-11-27T00:00:00", **fields})
        if fields.get("module") == "CDR_stats":
            body = json.loads(response.content)
            if not body.get("success"):
                return ("refused", (body.get("error") or {}).get("type"))
            return ("count", sum(r["cnt_all"] for r in body["results"]))
        return _json_outcome(response, ids, rows_key, "ID")

    return call


def deep_link(persona, ids):
    """The old GUI's link, opened with the sql.php session: the GUI's CDR list (HTML)."""
    client, refused = session(persona)
    if refused:
        return refused
    response = client.get("/admin.php", {"cdr_filter": '{fdatefrom:"2026-11-27"}'})
    if response.status_code == 302 and response["Location"].startswith("/login/"):
        return ("refused", "login redirect")
    response = client.get(response["Location"])
    assert response.status_code == 200, response.status_code
    names = {v: k for k, v in ids.items()}
    shown = re.findall(r'<tr data-id="(\d+)"', response.content.decode())
    return ("rows", {names[int(i)] for i in shown})


def pcap_php(which: str) -> Callable:
    def call(persona, ids):
        client, refused = session(persona)
        if refused:
            return refused
        return _file_outcome(client.get("/php/pcap.php", {"id": ids[which]}), ids)

    return call


def sip_history(which: str) -> Callable:
    def call(persona, ids):
        client, refused = session(persona)
        if refused:
            return refused
        response = client.get("/php/pcap2text.php", {"action": "brief_data", "id": ids[which]})
        body = json.loads(response.content)
        if not body.get("success"):
            return ("refused", (body.get("errors") or {}).get("reason") or body.get("error"))
        return ("file", "sip history") if body["total"] > 0 else ("refused", "empty history")

    return call


TOKENS: dict[str, str] = {}


def rest(path: str, which: str | None = None, params: dict | None = None) -> Callable:
    """A REST API v1 call with the persona's API token (none for anonymous)."""

    def call(persona, ids):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKENS[persona]}"} if persona else {}
        url = "/api/v1/" + path.format(id=ids[which] if which else "")
        response = Client(**headers).get(url, params or {})
        kind = response["Content-Type"].split(";")[0]
        if kind == "application/problem+json":
            return ("refused", json.loads(response.content)["detail"])
        if kind != "application/json":
            return ("file", kind)
        body = json.loads(response.content)
        if path == "sensors/":
            return ("sensors", {row["id"] for row in body})
        if path == "active-calls/":
            rows = [{**c, "sensorId": c["sensor_id"]} for c in body["calls"]]
            return _active_outcome(persona, rows)
        if "results" in body:
            names = {v: k for k, v in ids.items()}
            return ("rows", {names[row["ID"]] for row in body["results"]})
        return ("rows", {next(k for k, v in ids.items() if v == body["ID"])})

    return call


def _active_outcome(persona, rows):
    if persona == "prefix420":
        visible = {row["callreference"] for row in rows}
        expected = {r["callreference"] for r in ALL_ACTIVE if _number_match(r)}
        exercised = 0 < len(expected) < len(ALL_ACTIVE)
        return PREFIX_CALLS if visible == expected and exercised else ("wrong calls", visible)
    return ("sensors", {row["sensorId"] for row in rows})


ENDPOINTS: dict[str, Callable] = {
    "api getVoipCalls": api("getVoipCalls", {"startTime": "2026-11-27"}),
    "api listCdrIds": api("listCdrIds", {}),
    "api getPCAP A": api("getPCAP", {"cdrId": "A"}),
    "api getPCAP B": api("getPCAP", {"cdrId": "B"}),
    "api getVoiceRecording A": api("getVoiceRecording", {"cdrId": "A"}),
    "api getAudioGraph A": api("getAudioGraph", {"cdrId": "A", "type": "P"}),
    "api listActiveCalls": active_calls,
    "sql LISTING": sql({"task": "LISTING", "module": "CDR"}),
    "sql TOTAL": sql({"task": "TOTAL", "module": "CDR"}, rows_key=None),
    "sql CDR_stats": sql({"task": "LISTING", "module": "CDR_stats"}),
    "admin.php deep link": deep_link,
    "pcap.php A": pcap_php("A"),
    "pcap.php B": pcap_php("B"),
    "pcap2text.php A": sip_history("A"),
    "pcap2text.php B": sip_history("B"),
    "rest cdrs": rest("cdrs/", params={"date_from": "2026-11-27"}),
    "rest cdr A": rest("cdrs/{id}/", "A"),
    "rest cdr B": rest("cdrs/{id}/", "B"),
    "rest pcap A": rest("cdrs/{id}/pcap", "A"),
    "rest pcap B": rest("cdrs/{id}/pcap", "B"),
    "rest recording A": rest("cdrs/{id}/recording", "A"),
    "rest sip-history B": rest("cdrs/{id}/sip-history", "B", {"format": "svg"}),
    "rest audiograph A": rest("cdrs/{id}/audiograph", "A", {"type": "P"}),
    "rest active-calls": rest("active-calls/"),
    "rest sensors": rest("sensors/"),
}

PCAP = ("file", "application/vnd.tcpdump.pcap")
WAV = ("file", "audio/x-wav")
PNG = ("file", "image/png")
SIP = ("file", "sip history")
PREFIX_CALLS = ("calls", "exactly the 420% ones")
BOTH, ONLY_A = ("rows", {"A", "B"}), ("rows", {"A"})
NO_CDR = ("refused", "no such CDR")
BLOCKED = ("refused", "user is blocked: left the company")
SVG = ("file", "image/svg+xml")
REST_NO_CDR = ("refused", "no such CDR")

EXPECTED: dict[str, dict[str, tuple]] = {
    "admin": {
        "api getVoipCalls": BOTH,
        "api listCdrIds": BOTH,
        "api getPCAP A": PCAP,
        "api getPCAP B": PCAP,
        "api getVoiceRecording A": WAV,
        "api getAudioGraph A": PNG,
        "api listActiveCalls": ("sensors", {1, 2}),
        "sql LISTING": BOTH,
        "sql TOTAL": ("count", 2),
        "sql CDR_stats": ("count", 2),
        "admin.php deep link": BOTH,
        "pcap.php A": PCAP,
        "pcap.php B": PCAP,
        "pcap2text.php A": SIP,
        "pcap2text.php B": SIP,
        "rest cdrs": BOTH,
        "rest cdr A": ONLY_A,
        "rest cdr B": ("rows", {"B"}),
        "rest pcap A": PCAP,
        "rest pcap B": PCAP,
        "rest recording A": WAV,
        "rest sip-history B": SVG,
        "rest active-calls": ("sensors", {1, 2}),
        "rest audiograph A": PNG,
        "rest sensors": ("sensors", {1, 2}),
    },
    "sensor1": {
        "api getVoipCalls": ONLY_A,
        "api listCdrIds": ONLY_A,
        "api getPCAP A": PCAP,
        "api getPCAP B": NO_CDR,
        "api getVoiceRecording A": WAV,
        "api getAudioGraph A": PNG,
        "api listActiveCalls": ("sensors", {1}),
        "sql LISTING": ONLY_A,
        "sql TOTAL": ("count", 1),
        "sql CDR_stats": ("count", 1),
        "admin.php deep link": ONLY_A,
        "pcap.php A": PCAP,
        "pcap.php B": NO_CDR,
        "pcap2text.php A": SIP,
        "pcap2text.php B": NO_CDR,
        "rest cdrs": ONLY_A,
        "rest cdr A": ONLY_A,
        "rest cdr B": REST_NO_CDR,
        "rest pcap A": PCAP,
        "rest pcap B": REST_NO_CDR,
        "rest recording A": WAV,
        "rest sip-history B": REST_NO_CDR,
        "rest active-calls": ("sensors", {1}),
        "rest audiograph A": PNG,
        "rest sensors": ("sensors", {1}),
    },
    "prefix420": {
        "api getVoipCalls": ONLY_A,
        "api listCdrIds": ONLY_A,
        "api getPCAP A": PCAP,
        "api getPCAP B": NO_CDR,
        "api getVoiceRecording A": WAV,
        "api getAudioGraph A": PNG,
        "api listActiveCalls": PREFIX_CALLS,
        "sql LISTING": ONLY_A,
        "sql TOTAL": ("count", 1),
        "sql CDR_stats": ("count", 1),
        "admin.php deep link": ONLY_A,
        "pcap.php A": PCAP,
        "pcap.php B": NO_CDR,
        "pcap2text.php A": SIP,
        "pcap2text.php B": NO_CDR,
        "rest cdrs": ONLY_A,
        "rest cdr A": ONLY_A,
        "rest cdr B": REST_NO_CDR,
        "rest pcap A": PCAP,
        "rest pcap B": REST_NO_CDR,
        "rest recording A": WAV,
        "rest sip-history B": REST_NO_CDR,
        "rest active-calls": PREFIX_CALLS,
        "rest audiograph A": PNG,
        "rest sensors": ("sensors", {1, 2}),
    },
    "nomedia": {
        "api getVoipCalls": BOTH,
        "api listCdrIds": BOTH,
        "api getPCAP A": ("refused", "needs the can_pcap permission"),
        "api getPCAP B": ("refused", "needs the can_pcap permission"),
        "api getVoiceRecording A": ("refused", "needs the can_download_audio permission"),
        "api getAudioGraph A": ("refused", "needs the can_graphs permission"),
        "api listActiveCalls": ("refused", "needs the can_activecalls permission"),
        "sql LISTING": BOTH,
        "sql TOTAL": ("count", 2),
        "sql CDR_stats": ("count", 2),
        "admin.php deep link": BOTH,
        "pcap.php A": ("refused", "needs the can_pcap permission"),
        "pcap.php B": ("refused", "needs the can_pcap permission"),
        "pcap2text.php A": SIP,
        "pcap2text.php B": SIP,
        "rest cdrs": BOTH,
        "rest cdr A": ONLY_A,
        "rest cdr B": ("rows", {"B"}),
        "rest pcap A": ("refused", "needs the can_pcap permission"),
        "rest pcap B": ("refused", "needs the can_pcap permission"),
        "rest recording A": ("refused", "needs the can_download_audio permission"),
        "rest sip-history B": SVG,
        "rest active-calls": ("refused", "needs the can_activecalls permission"),
        "rest audiograph A": ("refused", "needs the can_graphs permission"),
        "rest sensors": ("sensors", {1, 2}),
    },
    "blocked": dict.fromkeys(ENDPOINTS, BLOCKED),
    "anonymous": {
        **{
            name: ("refused", "missing user or password")
            for name in ENDPOINTS
            if name.startswith("api ")
        },
        "sql LISTING": ("refused", "no_session"),
        "sql TOTAL": ("refused", "no_session"),
        "sql CDR_stats": ("refused", "no_session"),
        # a browser link (served by the GUI): sign in first
        "admin.php deep link": ("refused", "login redirect"),
        "pcap.php A": ("refused", "not logged in"),
        "pcap.php B": ("refused", "not logged in"),
        "pcap2text.php A": ("refused", "no_session"),
        "pcap2text.php B": ("refused", "no_session"),
        **{
            name: ("refused", "authentication required")
            for name in ENDPOINTS
            if name.startswith("rest ")
        },
    },
}


def matches(outcome: tuple, expected: tuple) -> bool:
    if expected[0] == "refused":
        return outcome[0] == "refused" and expected[1] in str(outcome[1])
    return outcome == expected


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_gets_exactly_its_answers_on_every_endpoint(world, persona):
    assert set(EXPECTED[persona]) == set(ENDPOINTS), "every endpoint needs an expectation"
    wrong = {}
    for name, endpoint in ENDPOINTS.items():
        outcome = endpoint(None if persona == "anonymous" else persona, world)
        if not matches(outcome, EXPECTED[persona][name]):
            wrong[name] = (outcome, EXPECTED[persona][name])
    assert not wrong, wrong


@override_settings(API_DISABLE_AUTH=True)
def test_with_authorization_disabled_anonymous_api_use_sees_everything(world):
    assert ENDPOINTS["api getVoipCalls"](None, world) == BOTH
    assert ENDPOINTS["api getPCAP B"](None, world) == PCAP
    assert ENDPOINTS["sql LISTING"](None, world) == BOTH
