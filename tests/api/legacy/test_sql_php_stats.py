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


ACCEPTED = (
    "codes: 4 = lastSIPresponse; names: lastSIPresponse (lastSIPresponseNum, sipresponse), "
    "id_sensor (sensor, sensor_id)"
)


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["caller", "7", "0", '["4","caller"]'])
def test_an_unknown_group_is_refused_with_the_accepted_codes_and_names(client, group_by):
    kind, reason = error(send({**STATS, "group_by": group_by}, client=client))
    assert kind == "params"
    wrong = "caller" if "caller" in group_by else group_by
    assert reason == f"group_by: cannot group by {wrong!r} ({ACCEPTED})"


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["4", 4, "[4]", '["4"]', "4,lastSIPresponse"])
def test_the_group_panel_code_4_is_the_last_sip_response(client, group_by):
    by_code = ok(send({**STATS, "group_by": group_by}, client=client))
    by_name = ok(send({**STATS, "group_by": "lastSIPresponse"}, client=client))
    assert by_code == by_name
    assert set(by_code["results"][0]) == {
        "cnt_all",
        "cnt_ok",
        "lastSIPresponse",
        "lastSIPresponseNum",
    }


@pytest.mark.django_db
def test_code_4_and_the_sensor_group_combine(client):
    rows = ok(send({**STATS, "group_by": "4,id_sensor"}, client=client))["results"]
    assert by(rows, "id_sensor", "lastSIPresponseNum")[(2, 486)] == (1, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "need_columns",
    [
        '["lastSIPresponse","cnt_all","cnt_ok","lastSIPresponseNum"]',
        "%5B%22lastSIPresponse%22%2C%22cnt_all%22%5D",
        "%5B%22lastSIPresponse%22%2C%22cnt_all%22%2C%22cnt_ok%22%lastSIPresponseNum%22%sensor_id",
        '["no_such_column", 12, null]',
        "[[[[",
        "%",
        "x" * 100_000,
    ],
)
def test_need_columns_never_breaks_nor_narrows_the_answer(client, need_columns):
    body = ok(send({**STATS, "needColumns": need_columns}, client=client, transport="form"))
    assert by(body["results"], "lastSIPresponseNum") == {
        (200,): (4, 4),
        (486,): (2, 0),
        (503,): (1, 1),
    }


def test_need_columns_is_read_leniently():
    from api.legacy.sql_listing import need_columns

    malformed = (
        "%5B%22lastSIPresponse%22%2C%22cnt_all%22%2C%22cnt_ok%22%lastSIPresponseNum%22%sensor_id"
    )
    assert need_columns(malformed) == [
        "lastSIPresponse",
        "cnt_all",
        "cnt_ok",
        "lastSIPresponseNum",
        "sensor_id",
    ]
    assert need_columns('["a","b","a"]') == ["a", "b"]
    assert need_columns(["cnt_all", "cnt_ok"]) == ["cnt_all", "cnt_ok"]
    assert need_columns("") == [] and need_columns(None) == []


@pytest.mark.django_db
def test_need_percentile_adds_each_groups_share(client):
    rows = ok(send({**STATS, "needPercentile": "1"}, client=client))["results"]
    assert {r["lastSIPresponseNum"]: r["cnt_all_percent"] for r in rows} == {
        200: 57.14,
        486: 28.57,
        503: 14.29,
    }
    for value in ("0", "", "maybe"):
        rows = ok(send({**STATS, "needPercentile": value}, client=client))["results"]
        assert "cnt_all_percent" not in rows[0]


@pytest.mark.django_db
def test_a_sensor_without_calls_answers_an_empty_success(client):
    body = send({**STATS, "fsensor_id": "21", "group_by": "4"}, client=client)
    assert body == {"success": True, "total": 0, "results": []}


@pytest.mark.django_db
def test_the_group_panels_bookkeeping_fields_are_ignored(client):
    noisy = {
        **STATS,
        "group_by": "4",
        "needPercentile": "1",
        "page": "1",
        "start": "0",
        "limit": "-1",
        "timestampId": "1642680756758_CDR-group-panel",
        "clientTimezone": "UTC",
        "clientOsTimezone": "UTC",
        "timeout": "3600",
        "check_active_request": "true",
    }
    rows = ok(send(noisy, client=client, transport="multipart"))["results"]
    assert by(rows, "lastSIPresponseNum") == {(200,): (4, 4), (486,): (2, 0), (503,): (1, 1)}


@pytest.mark.django_db
def test_stats_need_a_date_like_the_listing(client):
    fields = {"task": "LISTING", "module": "CDR_stats"}
    assert error(send(fields, client=client))[1].startswith("fdatefrom or fdateto is required")
