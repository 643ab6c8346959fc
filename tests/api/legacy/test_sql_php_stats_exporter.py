"""A deployed Prometheus exporter's CDR_stats requests, replayed byte for byte.

The exporter (Go, ``mime/multipart``) logs in with ``POST sql.php?module=bypass_login&user=U&
pass=P`` and an empty body, then per sensor of a fixed list POSTs one multipart form with its
fields in a fixed order: an RFC 3339 UTC ``fdatefrom`` (now − 5 min), ``fsensor_id``,
``group_by=4`` (the GUI group panel's "last SIP response"), a broken ``needColumns``,
``limit=-1`` and the group panel's bookkeeping fields, with only ``Cookie: PHPSESSID=<SID>``.
It reads ``results[].cnt_all``, ``lastSIPresponse`` and ``lastSIPresponseNum``.

Against the REAL sniffer's rows (db_notar.sql, MariaDB) and against factory rows (both
backends). In the dump every call has ``id_sensor`` NULL (one sniffer without ``id_sensor``);
the test sets the ids a two-sensor deployment writes (4 and 14, two of the exporter's sensors).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from tests.api.legacy.test_api_php_support import PASSWORD, USER, make_api_user
from tests.factories import make_call, sensor

URL = "/php/model/sql.php"
# The exporter's sensors (component → id) and the text it sends as needColumns, verbatim.
EXPORTER_SENSORS = ["4", "8", "9", "10", "15", "21", "14", "17", "12", "18", "19", "20"]
NEED_COLUMNS = (
    "%5B%22lastSIPresponse%22%2C%22cnt_all%22%2C%22cnt_ok%22%lastSIPresponseNum%22%sensor_id"
)
# Go's multipart.Writer boundary: 30 random bytes in hex.
BOUNDARY = "8d2a6f1c0b9e4d3a7f5e2c1b0a9d8e7f6c5b4a3928171605f4e3d2c1b0a9"


def exporter_fields(fdatefrom: str, sensor_id: str) -> list[tuple[str, str]]:
    """The fields of one stats request, in the exporter's order (writeToPayload)."""
    return [
        ("task", "LISTING"),
        ("module", "CDR_stats"),
        ("fdatefrom", fdatefrom),
        ("fsensor_id", sensor_id),
        ("group_by", "4"),
        ("needColumns", NEED_COLUMNS),
        ("needPercentile", "1"),
        ("page", "1"),
        ("start", "0"),
        ("limit", "-1"),
        ("timestampId", "1642680756758_CDR-group-panel"),
        ("clientTimezone", "UTC"),
        ("clientOsTimezone", "UTC"),
        ("timeout", "3600"),
        ("check_active_request", "true"),
    ]


def go_multipart(fields: list[tuple[str, str]]) -> bytes:
    """The body Go's ``multipart.Writer`` writes for ``WriteField`` calls and ``Close``."""
    parts = []
    for index, (name, value) in enumerate(fields):
        lead = "" if index == 0 else "\r\n"
        parts.append(
            f'{lead}--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}'
        )
    parts.append(f"\r\n--{BOUNDARY}--\r\n")
    return "".join(parts).encode()


def exporter_login() -> str:
    """bypass_login as the exporter sends it (credentials in the URL, empty POST body)."""
    response = Client().generic(
        "POST", f"{URL}?module=bypass_login&user={USER}&pass={PASSWORD}", b"", content_type=""
    )
    assert response.status_code == 200
    return json.loads(response.content)["SID"]


def exporter_stats(sid: str, fdatefrom: str, sensor_id: str) -> dict:
    """One stats request exactly as the exporter sends it; the decoded JSON."""
    response = Client().generic(
        "POST",
        URL,
        go_multipart(exporter_fields(fdatefrom, sensor_id)),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers={"Cookie": f"PHPSESSID={sid}"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def what_the_exporter_reads(body: dict) -> dict[tuple[int, str], tuple[int, int]]:
    """results → {(lastSIPresponseNum, lastSIPresponse): (cnt_all, cnt_ok)}, with the types
    the exporter's JSON decoder needs (float64 count, string, int)."""
    assert body["success"] is True, body
    assert body["total"] == len(body["results"])
    out = {}
    for row in body["results"]:
        assert type(row["cnt_all"]) is int and type(row["lastSIPresponseNum"]) is int
        assert isinstance(row["lastSIPresponse"], str)
        out[(row["lastSIPresponseNum"], row["lastSIPresponse"])] = (row["cnt_all"], row["cnt_ok"])
    counts = [row["cnt_all"] for row in body["results"]]
    assert counts == sorted(counts, reverse=True)  # largest group first
    return out


def test_the_replayed_body_is_what_go_writes():
    body = go_multipart([("task", "LISTING"), ("module", "CDR_stats")]).decode()
    assert body == (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="task"\r\n\r\nLISTING'
        f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="module"\r\n\r\nCDR_stats'
        f"\r\n--{BOUNDARY}--\r\n"
    )


# --- the real sniffer's calls ---------------------------------------------------------------

# db_notar.sql: cdr.ID → calldate, last response (tests/fixtures/sniffer-2026.04.0/calls.md).
# The exporter runs at 04:09:00 UTC with its default 5-minute interval: fdatefrom 04:04:00Z
# leaves out IDs 2 (04:03:38) and 4 (04:03:52).
FDATEFROM = "2026-11-27T04:04:00Z"
SENSOR_OF = {**dict.fromkeys(range(1, 8), 4), **dict.fromkeys(range(8, 14), 14)}
REAL_SENSOR_4 = {  # IDs 1, 5, 6 (200 OK, answered), 3 (486), 7 (487)
    (200, "200 OK"): (3, 3),
    (486, "486 Busy Here"): (1, 0),
    (487, "487 Request Terminated"): (1, 0),
}
REAL_SENSOR_14 = {  # IDs 10, 11, 12 (200 OK), 8 (503), 9 (480), 13 (404)
    (200, "200 OK"): (3, 3),
    (503, "503 Service Unavailable"): (1, 0),
    (480, "480 Temporarily Unavailable"): (1, 0),
    (404, "404 Not Found"): (1, 0),
}


@pytest.fixture
def real_calls(sniffer_dump):
    sniffer_dump("db_notar.sql")
    with connection.cursor() as cursor:
        for cdr_id, sensor_id in SENSOR_OF.items():
            cursor.execute("UPDATE cdr SET id_sensor = %s WHERE ID = %s", [sensor_id, cdr_id])
    make_api_user()


@pytest.mark.mysql
def test_the_exporter_gets_every_real_count_per_sensor(real_calls):
    sid = exporter_login()
    answers = {s: exporter_stats(sid, FDATEFROM, s) for s in EXPORTER_SENSORS}
    assert what_the_exporter_reads(answers["4"]) == REAL_SENSOR_4
    assert what_the_exporter_reads(answers["14"]) == REAL_SENSOR_14
    for sensor_id in set(EXPORTER_SENSORS) - {"4", "14"}:
        assert answers[sensor_id] == {"success": True, "total": 0, "results": []}


@pytest.mark.mysql
def test_the_real_counts_add_up_to_the_calls_in_the_window(real_calls):
    sid = exporter_login()
    everything = exporter_stats(sid, "2026-11-27T00:00:00Z", "4")
    # All seven calls of sensor 4: the two before 04:04 are 200 OK answered calls.
    assert what_the_exporter_reads(everything)[(200, "200 OK")] == (5, 5)
    # From 04:05:30 on: ID 6 (04:05:34, sensor 4) and ID 9 (04:05:44, sensor 14).
    late = "2026-11-27T04:05:30Z"
    assert what_the_exporter_reads(exporter_stats(sid, late, "4")) == {(200, "200 OK"): (1, 1)}
    assert what_the_exporter_reads(exporter_stats(sid, late, "14")) == {
        (480, "480 Temporarily Unavailable"): (1, 0)
    }


# --- factory rows (SQLite and MariaDB) ------------------------------------------------------


@pytest.fixture
def factory_calls(db):
    make_api_user()
    sensor(4, "audiocodes-eastus")
    sensor(14, "opensips1")
    for minute in (1, 2, 3):
        make_call(f"2026-11-27 10:0{minute}:00", id_sensor=4)
    make_call("2026-11-27 10:04:00", id_sensor=4, response="486 Busy Here", connect_duration=None)
    make_call("2026-11-27 10:04:30", id_sensor=14, response="486 Busy Here", connect_duration=None)
    make_call("2026-11-27 10:04:40", id_sensor=14, response="503 Service Unavailable")
    make_call("2026-11-27 09:59:59", id_sensor=4)  # before the window
    make_call("2026-11-27 10:02:00", id_sensor=None)  # a call without a sensor id


@pytest.mark.django_db
def test_the_exporter_gets_every_count_per_sensor(factory_calls):
    sid = exporter_login()
    answers = {s: exporter_stats(sid, "2026-11-27T10:00:00Z", s) for s in EXPORTER_SENSORS}
    assert what_the_exporter_reads(answers["4"]) == {
        (200, "200 OK"): (3, 3),
        (486, "486 Busy Here"): (1, 0),
    }
    # answered (connect_duration set) although its last response is a 503: counted in cnt_ok
    assert what_the_exporter_reads(answers["14"]) == {
        (486, "486 Busy Here"): (1, 0),
        (503, "503 Service Unavailable"): (1, 1),
    }
    for sensor_id in set(EXPORTER_SENSORS) - {"4", "14"}:
        assert answers[sensor_id] == {"success": True, "total": 0, "results": []}


@pytest.mark.django_db
def test_the_exporter_without_a_session_gets_no_session(factory_calls):
    body = exporter_stats("0123456789abcdef0123456789abcdef", "2026-11-27T10:00:00Z", "4")
    assert body == {"success": False, "error": {"type": "no_session"}}
