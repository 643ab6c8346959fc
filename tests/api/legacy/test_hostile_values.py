"""Issue 12, findings 1, 2 and 4: each hostile request of the report, and its clear answer.

Every request here once blocked a worker, ate the database or ended in "internal error" (or
an HTML page). Each now answers the JSON envelope (or success) at once; the limits are named
in the answer with the setting that moves them (docs/security-inputs.md).
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cdr.query import engine
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.legacy.test_hostile_support import superuser_session
from tests.api.legacy.test_media_api import calls, spool, user  # noqa: F401 - fixtures
from tests.cdr.media.test_media_support import api_get
from tests.factories import make_call

HANG_GUARD_S = 5.0  # a hang guard far above the measured times (docs/benchmarks.md)
INTERNAL = "internal error"


@pytest.fixture
def root(db, settings):
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 1.0
    return superuser_session(settings)


def api(client: Client, task: str, params, *, post_json: bool = False) -> dict:
    fields = {"task": task, "user": "root", "password": "root-pass-1", "params": params}
    if not isinstance(params, str):
        fields["params"] = json.dumps(params)
    if post_json:
        fields["params"] = params
        response = client.post("/php/api.php", json.dumps(fields), content_type="text/plain")
    else:
        response = client.get("/php/api.php", fields)
    assert response.status_code == 200
    body = json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    assert isinstance(body["success"], bool)
    return body


def sql(client: Client, **fields) -> dict:
    response = client.post("/php/model/sql.php", fields)
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)


def refused(body: dict, *words: str) -> str:
    assert body["success"] is False, body
    reason = body["errors"]["reason"]
    assert INTERNAL not in reason
    for word in words:
        assert word in reason, reason
    return reason


# --- finding 1: a backtracking pattern ---------------------------------------------------------


def test_list_active_calls_with_a_run_of_percent_signs_answers_at_once(root):
    from cdr.models import Sensor

    pool = CallPool(low=3, high=3, seed=7, id_sensors=(-1,))
    with ManagerSimulator(pool=pool) as sim:
        Sensor.objects.create(id_sensor=1, name="edge", host="127.0.0.1", port=sim.port)
        for percents in (9, 12, 40):
            start = time.perf_counter()
            body = api(root, "listActiveCalls", {"sensorId": "1", "callId": "%" * percents + "#"})
            assert time.perf_counter() - start < HANG_GUARD_S
            assert body["success"] and body["rows"] == [], body
        listed = api(root, "listActiveCalls", {"sensorId": "1"})["rows"]
        assert len(listed) == 3
        one = listed[0]["callid"]
        pattern = one[:8] + "%%%%" + one[-3:]
        found = api(root, "listActiveCalls", {"sensorId": "1", "callId": pattern})
        assert [r["callid"] for r in found["rows"]] == [one]


def test_a_pattern_longer_than_the_limit_is_refused_by_name(root, settings):
    settings.MAX_PATTERN_LENGTH = 64
    make_call(ID=1)
    refused(
        api(root, "getVoipCalls", {"startTime": "2026-11-27", "caller": "1" * 65}),
        "at most 64",
        "VMGUI_MAX_PATTERN_LENGTH",
    )
    refused(
        sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", fcallid="x" * 65),
        "VMGUI_MAX_PATTERN_LENGTH",
    )
    refused(api(root, "listActiveCalls", {"callId": "%" * 65}), "VMGUI_MAX_PATTERN_LENGTH")


# --- finding 2: unbounded lists ---------------------------------------------------------------


def test_list_cdr_ids_refuses_more_call_ids_than_the_limit_by_name(root):
    ids = [f"call-{n}@example.com" for n in range(20_000)]
    start = time.perf_counter()
    body = api(root, "listCdrIds", {"callId": ids}, post_json=True)
    assert time.perf_counter() - start < HANG_GUARD_S
    refused(body, "params.callId", "at most 10000", "VMGUI_MAX_ID_VALUES")


def test_list_cdr_ids_runs_a_large_call_id_batch_in_bounded_chunks(root):
    for n in range(1, 6):
        make_call(f"2026-11-27 10:0{n}:00", ID=n, call_id=f"wanted-{n}@example.com")
    make_call("2026-11-27 11:00:00", ID=9, call_id="other@example.com")
    wanted = [f"wanted-{n}@example.com" for n in range(1, 6)]
    batch = [f"absent-{n}@example.com" for n in range(2495)] + wanted
    with CaptureQueriesContext(__import__("django.db").db.connection) as queries:
        body = api(root, "listCdrIds", {"callId": batch}, post_json=True)
    assert body["success"], body
    assert body["total"] == 5 and [r["cdrId"] for r in body["cdr"]] == [1, 2, 3, 4, 5]
    lookups = [q["sql"] for q in queries if "fbasename` IN (" in q["sql"].replace('"', "`")]
    # the page looks the batch up in ceil(2500 / 1000) chunks; no query holds it whole (the
    # total comes from the page, which ends before its size: no count)
    assert len(lookups) == 3
    assert all(q.count("@example.com") <= engine.ID_CHUNK for q in lookups)


def test_sql_php_refuses_fifty_thousand_numbers_by_name(root):
    numbers = ",".join(str(600_000_000 + n) for n in range(50_000))
    start = time.perf_counter()
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", fcaller=numbers)
    assert time.perf_counter() - start < HANG_GUARD_S
    refused(body, "fcaller", "at most 1000", "VMGUI_MAX_LIST_VALUES")


def test_sql_php_refuses_sixty_thousand_networks_by_name(root):
    cidrs = ",".join(f"10.{n // 256 % 256}.{n % 256}.0/24" for n in range(60_000))
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", fsipcallerip=cidrs)
    refused(body, "fsipcallerip", "VMGUI_MAX_LIST_VALUES")


def test_every_list_parameter_has_the_limit(root, settings):
    settings.MAX_LIST_VALUES = 3
    settings.MAX_ID_VALUES = 4
    four = ["1", "2", "3", "4"]
    five = [*four, "5"]
    base = {"startTime": "2026-11-27"}
    for name, values in (
        ("caller", four),
        ("called", four),
        ("msisdn", four),
        ("id_sensor", four),
        ("customHeaders", four),
        ("callId", five),
        ("cdrId", five),
    ):
        refused(api(root, "getVoipCalls", {**base, name: values}), f"params.{name}", "at most")
    for name in (
        "fcaller",
        "fcalled",
        "fcaller_domain",
        "fcalled_domain",
        "fsipcallerip",
        "fsipcalledip",
        "fsensor_id",
        "fcodec",
        "fsipresponse",
    ):
        body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", **{name: "1,2,3,4"})
        refused(body, name, "at most 3", "VMGUI_MAX_LIST_VALUES")
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", fcallid=json.dumps(five))
    assert body["success"] is not None  # a JSON text is one Call-ID on sql.php (may hold commas)
    refused(api(root, "listActiveCalls", {"callId": four}), "params.callId", "at most 3")
    headers = {f"fcustom_header__X-H{n}": "1" for n in range(4)}
    refused(
        sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", **headers),
        "fcustom_header_",
        "at most 3",
    )
    sort = json.dumps([{"property": "calldate"}] * 4)
    refused(sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", sort=sort), "sort")


def test_response_classes_count_once(root):
    make_call(ID=1, response="486 Busy Here")
    body = sql(
        root,
        task="LISTING",
        module="CDR",
        fdatefrom="2026-11-27",
        fsipresponse=",".join(["4"] * 900),
    )
    assert body["success"] and [r["ID"] for r in body["results"]] == [1]


# --- finding 4: values that crashed parsing ------------------------------------------------


def test_a_lone_surrogate_in_params_is_refused(root):
    body = api(root, "getVoipCalls", '{"startTime":"2026-11-27","caller":"\\ud800"}')
    refused(body, "params.caller", "surrogate")


def test_a_lone_surrogate_in_the_user_of_a_json_body_is_refused(root):
    raw = '{"task":"getVoipCalls","user":"\\ud800","password":"x","params":{}}'
    response = Client().post("/php/api.php", raw, content_type="application/json")
    refused(response.json(), "user", "surrogate")


def test_a_lone_surrogate_in_a_sql_php_json_body_is_refused(root):
    raw = '{"task":"LISTING","module":"CDR","fdatefrom":"2026-11-27","fcaller":"\\udfff"}'
    response = root.post("/php/model/sql.php", raw, content_type="application/json")
    refused(response.json(), "fcaller", "surrogate")


def test_a_surrogate_pair_in_loose_json_is_one_character(root):
    make_call(ID=1, caller="1001")
    body = api(root, "getVoipCalls", "{startTime:'2026-11-27', caller:'\\ud83d\\ude00%'}")
    assert body["success"] and body["cdr"] == [], body


@pytest.mark.parametrize("depth", [40, 2000, 100_000])
def test_deeply_nested_params_are_refused(root, depth):
    deep = "[" * depth + "]" * depth
    refused(
        api(root, "getVoipCalls", '{"startTime":"2026-11-27","caller":' + deep + "}"),
        "nested too deeply",
    )
    body = '{"task":"getVoipCalls","user":"root","password":"root-pass-1","params":' + deep + "}"
    response = root.post("/php/api.php", body, content_type="application/json")
    refused(response.json(), "nested too deeply")
    refused(
        sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", sort=deep),
        "nested too deeply",
    )


def test_deeply_nested_bracket_names_are_refused(root):
    name = "params" + "[a]" * 2000
    response = root.get(
        "/php/api.php",
        {"task": "getVoipCalls", "user": "root", "password": "root-pass-1", name: "1"},
    )
    refused(response.json(), "levels of [..]")


@pytest.mark.parametrize("name", ["limit", "start", "page"])
def test_sql_php_refuses_twenty_digit_paging(root, name):
    make_call(ID=1)
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", **{name: "9" * 20})
    refused(body, name, "at most")


def test_sql_php_refuses_a_page_beyond_the_row_numbers(root):
    body = sql(
        root, task="LISTING", module="CDR", fdatefrom="2026-11-27", page=str(2**52), limit="1000"
    )
    refused(body, "page")


@pytest.mark.parametrize("name", ["offset", "size"])
def test_list_cdr_ids_refuses_twenty_digit_paging(root, name):
    refused(api(root, "listCdrIds", {name: "9" * 20}), f"params.{name}", "at most")
    refused(api(root, "listCdrIds", {name: 1e20}), f"params.{name}", "at most")


def test_list_cdr_ids_accepts_the_largest_offset(root):
    make_call(ID=1)
    body = api(root, "listCdrIds", {"offset": 2**53 - 1})
    assert body["success"] and body["total"] == 1 and body["cdr"] == []


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"),
        ("0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00"),
        ("0001-01-01", "9999-12-31"),
    ],
)
def test_dates_at_the_edges_of_the_calendar_mean_every_call(root, settings, first, last):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: the widest shift there is
    make_call("2026-11-27 10:00:00", ID=1)
    make_call("2026-11-28 10:00:00", ID=2)
    body = api(root, "getVoipCalls", {"startTime": first, "startTimeTo": last, "callEnd": last})
    assert body["success"], body
    assert [r["cdrId"] for r in body["cdr"]] == [1, 2]
    body = sql(root, task="LISTING", module="CDR", fdatefrom=first, fdateto=last, sort="ID")
    assert body["success"] and [r["ID"] for r in body["results"]] == [1, 2], body


def test_a_huge_cid_interval_is_refused_on_get_pcap(root):
    make_call(ID=1, call_id="abc@example.com")
    body = api(root, "getPCAP", {"callId": "abc@example.com", "cidInterval": 1e20})
    refused(body, "params.cidInterval", "at most 86400")


def test_a_huge_cid_interval_on_pcap2text_answers_a_page_not_a_500(root):
    make_call(ID=1, call_id="abc@example.com")
    response = root.get(
        "/php/pcap2text.php",
        {"action": "brief", "id": "1", "cidInterval": "1e20"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 400
    assert b"cidInterval" in response.content
    response = root.get(
        "/php/pcap2text.php", {"action": "brief_data", "id": "1", "cidInterval": str(10**20)}
    )
    assert response.status_code == 200
    refused(response.json(), "cidInterval", "at most 86400")


def test_post_to_pcap_php_answers_the_envelope_not_the_csrf_page(root):
    make_call(ID=1)
    client = Client(enforce_csrf_checks=True)
    client.cookies = root.cookies
    response = client.post("/php/pcap.php", {"id": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and "pcap" in body["errors"]["reason"].lower(), body
    response = client.post("/php/pcap.php", {"id": "abc"})
    refused(response.json(), "id: expected a whole number")
    response = client.post("/php/wav.php", {"id": "1", "key": "nope"})
    assert response["Content-Type"].startswith("application/json")
    refused(response.json())
    response = client.put("/php/pcap.php")
    refused(response.json(), "method PUT is not supported")


def test_huge_quality_thresholds_are_refused(root):
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", frtcp_avgjitter="1e308")
    refused(body, "frtcp_avgjitter", "at most")
    body = sql(root, task="LISTING", module="CDR", fdatefrom="2026-11-27", fdurationgt="1e400")
    refused(body, "fdurationgt")


def test_a_number_of_five_thousand_digits_is_refused(root):
    body = api(root, "getVoipCalls", "{startTime:'2026-11-27', cdrId: " + "9" * 5000 + "}")
    refused(body)
    raw = (
        '{"task":"listCdrIds","user":"root","password":"root-pass-1","params":{"size":'
        + "9" * 5000
        + "}}"
    )
    refused(root.post("/php/api.php", raw, content_type="text/plain").json())


# --- found while hunting (item 6) ---------------------------------------------------------------


def test_a_range_header_of_thousands_of_digits_gets_the_whole_file(calls, user):  # noqa: F811
    call = calls[0]
    wav = call.files.audio.read_bytes()
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=1-" + "9" * 19):
        response = api_get({"cdrId": call.cdr_id}, "getVoiceRecording", HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert b"".join(response.streaming_content) == wav
