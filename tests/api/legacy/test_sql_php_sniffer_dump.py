"""sql.php over the REAL sniffer's database (db_notar.sql: 13 calls, see fixtures calls.md)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.api.legacy.test_sql_php_support import ids, ok, send, session_client

LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27T00:00:00"}
ASC = json.dumps([{"property": "calldate", "direction": "ASC"}])


@pytest.fixture
def client(sniffer_dump) -> Client:
    sniffer_dump("db_notar.sql")
    return session_client()


def rows(client: Client, **fields) -> list[dict]:
    return ok(send({**LISTING, **fields}, client=client))["results"]


@pytest.mark.mysql
def test_it_lists_the_13_real_calls_newest_first(client):
    body = ok(send(LISTING, client=client))
    assert body["total"] == 13 and body["deferTotal"] is False
    assert [r["caller"] for r in body["results"][:2]] == ["1013", "1012"]
    assert (body["results"][-1]["caller"], body["results"][-1]["ID"]) == ("1001", 2)


@pytest.mark.mysql
def test_it_returns_the_real_values_of_the_lossy_call(client):
    (row,) = rows(client, fcallid="e1c4f309a7b44a09@gamma.example.net")
    expected = {
        "ID": 11,
        "cdr_ID": 11,
        "fbasename": "e1c4f309a7b44a09@gamma.example.net",
        "calldate": "2026-11-27 04:05:06",
        "caller": "3009",
        "callername": "Ivan Ivanov",
        "caller_domain": "gamma.example.net",
        "called": "2009",
        "called_domain": "beta.example.com",
        "sipcallerip": "127.0.0.13",
        "sipcallerport": 5060,
        "sipcalledip": "127.0.0.21",
        "duration": 13.316,
        "connect_duration": 12.308,
        "lastSIPresponse": "200 OK",
        "lastSIPresponseNum": 200,
        "whohanged": "caller",
        "bye": 3,
        "a_codec": "G.711 alaw",
        "a_mos_f1": 3.7,
        "b_mos_f1": 4.5,
        "packet_loss_perc": 4.333,
        "a_ua": "Gamma-SoftPhone/3.2",
        "b_ua": None,
        "id_sensor": None,
        "first_rtp_time": 1.008,
    }
    assert {key: row[key] for key in expected} == expected


@pytest.mark.mysql
def test_it_filters_the_real_calls(client):
    assert ids(send({**LISTING, "fcaller": "%009", "sort": ASC}, client=client)) == [11]
    assert [r["called"] for r in rows(client, fcalled="+44%")] == ["+442071234567"]
    assert len(rows(client, fsipresponse="4")) == 4  # 486, 487, 480, 404
    assert [r["ID"] for r in rows(client, fsipresponse="503")] == [8]
    assert [r["caller"] for r in rows(client, fsipcallerip="127.0.0.13", sort=ASC)] == [
        "+420601111111",
        "3006",
        "3009",
    ]
    both = rows(client, fcaller="1001", fcalled="2012", fcallerd_type=0)
    assert {r["caller"] for r in both} == {"1001"}
    assert len(rows(client, fcodec="8", fdurationgt=10)) == 3  # 1001, 1004, 3009
    assert [r["ID"] for r in rows(client, fcustom_header_1_1="ACC-%", sort=ASC)] == [2, 1, 6]
    assert [r["caller"] for r in rows(client, **{"fcustom_header__X-Custom-Header": "vip"})] == [
        "+420601111111"
    ]


@pytest.mark.mysql
def test_the_real_quality_filters_find_the_lossy_call(client):
    assert ids(send({**LISTING, "fmosf1": "4"}, client=client)) == [11]
    assert ids(send({**LISTING, "fmosadapt": "3.7"}, client=client)) == [11]
    assert ids(send({**LISTING, "floss1": "20"}, client=client)) == [11]
    assert ids(send({**LISTING, "floss2": "2"}, client=client)) == [11]
    assert ids(send({**LISTING, "floss3": "1"}, client=client)) == []
    assert ids(send({**LISTING, "f_d50": "1"}, client=client)) == []


@pytest.mark.mysql
def test_the_real_stats_by_last_sip_response(client):
    body = ok(
        send({**LISTING, "module": "CDR_stats", "group_by": "lastSIPresponse"}, client=client)
    )
    got = {
        r["lastSIPresponse"]: (r["lastSIPresponseNum"], r["cnt_all"], r["cnt_ok"])
        for r in body["results"]
    }
    assert got == {
        "200 OK": (200, 8, 8),
        "486 Busy Here": (486, 1, 0),
        "487 Request Terminated": (487, 1, 0),
        "503 Service Unavailable": (503, 1, 0),
        "480 Temporarily Unavailable": (480, 1, 0),
        "404 Not Found": (404, 1, 0),
    }
    by_sensor = ok(send({**LISTING, "module": "CDR_stats", "group_by": "sensor"}, client=client))
    assert by_sensor["results"] == [
        {"id_sensor": None, "sensorname": None, "cnt_all": 13, "cnt_ok": 8}
    ]


@pytest.mark.mysql
def test_the_real_totals_and_streamed_listing(client):
    assert send({"task": "TOTAL", **LISTING, "fcalled": "20%"}, client=client)["total"] == 9
    body = ok(send({**LISTING, "limit": -1, "sort": ASC}, client=client))
    assert body["total"] == 13 and [r["ID"] for r in body["results"]][:3] == [2, 4, 12]
