"""sql.php task=LISTING&module=CDR_stats: counts per last SIP response and per sensor, as
monitoring exporters ask for them (multipart POSTs, RFC 3339 dates, one sensor at a time)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.legacy.test_sql_php_support import error, ok, send, session_client
from tests.factories import make_call, sensor

STATS = {"task": "LISTING", "module": "CDR_stats", "fdatefrom": "2026-11-27"}


@pytest.fixture
def client(db) -> Client:
    session_client_ = session_client()
    sensor(1, "edge-1")
    sensor(2, "edge-2")
    for _ in range(3):
        make_call("2026-11-27 10:00:00", id_sensor=1)
    make_call("2026-11-27 10:05:00", id_sensor=2)
    make_call("2026-11-27 10:10:00", id_sensor=1, response="486 Busy Here", connect_duration=None)
    make_call("2026-11-27 10:20:00", id_sensor=2, response="486 Busy Here", connect_duration=None)
    make_call("2026-11-27 10:30:00", id_sensor=2, response="503 Service Unavailable")
    make_call("2026-11-26 10:00:00", id_sensor=1)  # before fdatefrom
    return session_client_


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys): (row["cnt_all"], row["cnt_ok"]) for row in rows}


@pytest.mark.django_db
def test_it_groups_by_last_sip_response_by_default(client):
    body = ok(send(STATS, client=client))
    assert body["total"] == 3
    assert body["results"][0] == {
        "cnt_all": 4,
        "cnt_ok": 4,
        "lastSIPresponse": "200 OK",
        "lastSIPresponseNum": 200,
    }
    assert by(body["results"], "lastSIPresponseNum", "lastSIPresponse") == {
        (200, "200 OK"): (4, 4),
        (486, "486 Busy Here"): (2, 0),
        # answered (connect_duration set) although the last response is a 503: counted ok
        (503, "503 Service Unavailable"): (1, 1),
    }


@pytest.mark.django_db
def test_it_groups_by_sensor(client):
    rows = ok(send({**STATS, "group_by": "id_sensor"}, client=client))["results"]
    assert by(rows, "id_sensor", "sensorname") == {(1, "edge-1"): (4, 3), (2, "edge-2"): (3, 2)}
    assert set(rows[0]) == {"cnt_all", "cnt_ok", "id_sensor", "sensorname"}


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["lastSIPresponse,sensor", '["sensor","lastSIPresponse"]'])
def test_it_groups_by_both(client, group_by):
    rows = ok(send({**STATS, "group_by": group_by}, client=client))["results"]
    assert by(rows, "id_sensor", "lastSIPresponseNum") == {
        (1, 200): (3, 3),
        (1, 486): (1, 0),
        (2, 200): (1, 1),
        (2, 486): (1, 0),
        (2, 503): (1, 1),
    }


@pytest.mark.django_db
def test_it_applies_the_listing_filters(client):
    rows = ok(send({**STATS, "fsensor_id": 2, "fdateto": "2026-11-27 10:20"}, client=client))[
        "results"
    ]
    assert by(rows, "lastSIPresponseNum") == {(200,): (1, 1), (486,): (1, 0)}


@pytest.mark.django_db
def test_an_exporters_multipart_post_with_rfc3339_dates(client):
    fields = {
        **STATS,
        "fdatefrom": "2026-11-27T10:04:00Z",
        "fdateto": "2026-11-27T11:25:00+01:00",
        "fsensor_id": "2",
        "group_by": "lastSIPresponse",
    }
    body = send(fields, transport="multipart", client=client)
    assert by(body["results"], "lastSIPresponseNum") == {(200,): (1, 1), (486,): (1, 0)}


@pytest.mark.django_db
def test_counts_are_json_numbers(client):
    row = ok(send(STATS, client=client))["results"][0]
    assert type(row["cnt_all"]) is int and type(row["cnt_ok"]) is int
    assert type(row["lastSIPresponseNum"]) is int


@pytest.mark.django_db
def test_an_empty_range_has_no_groups(client):
    body = ok(send({**STATS, "fdatefrom": "2026-12-01"}, client=client))
    assert body["results"] == [] and body["total"] == 0


@pytest.mark.django_db
def test_an_unknown_group_is_refused(client):
    assert error(send({**STATS, "group_by": "caller"}, client=client)) == (
        "params",
        "group_by: cannot group by 'caller' (use lastSIPresponse and/or id_sensor)",
    )


@pytest.mark.django_db
def test_stats_need_a_date_like_the_listing(client):
    fields = {"task": "LISTING", "module": "CDR_stats"}
    assert error(send(fields, client=client))[1].startswith("fdatefrom or fdateto is required")
