"""api.php over the REAL sniffer's database (db_notar.sql: 13 calls, see fixtures calls.md)."""

from __future__ import annotations

import pytest

from tests.api.legacy.test_api_php_support import FAST_HASHERS, call_api, make_api_user, ok

START = {"startTime": "2026-11-27"}
HEADERS = "X-Custom-Header,X-Account-Code"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def notar(sniffer_dump):
    sniffer_dump("db_notar.sql")
    make_api_user()


def rows(**params) -> list[dict]:
    return ok(call_api({**START, **params}))["cdr"]


@pytest.mark.mysql
def test_it_lists_the_13_real_calls_by_calldate(notar):
    result = rows()
    assert len(result) == 13
    assert [r["calldate"] for r in result] == sorted(r["calldate"] for r in result)
    assert (result[0]["caller"], result[0]["cdrId"]) == ("1001", 2)
    assert (result[-1]["caller"], result[-1]["cdrId"]) == ("1013", 9)


@pytest.mark.mysql
def test_it_returns_the_real_values_of_one_call(notar):
    (row,) = rows(caller="1004", customHeaders=HEADERS)
    expected = {
        "cdrId": 1,
        "callId": "0a4f6e04b2c94d04@alpha.example.com",
        "calldate": "2026-11-27 04:04:19",
        "callend": "2026-11-27 04:04:40",
        "duration": 21.316,
        "connect_duration": 20.308,
        "caller": "1004",
        "callername": "Dave Dvorak",
        "caller_domain": "alpha.example.com",
        "called": "2004",
        "called_domain": "beta.example.com",
        "sipcallerip": "127.0.0.11",
        "sipcalledip": "127.0.0.22",
        "sipcallerport": 5060,
        "sipcalledport": 5060,
        "lastSIPresponseNum": 200,
        "lastSIPresponse": "200 OK",
        "whohanged": "caller",
        "a_payload": 8,
        "b_payload": 8,
        "a_codec": "G.711 alaw",
        "b_codec": "G.711 alaw",
        "a_mos_f1": 4.5,
        "a_lost": 0,
        "a_ua": "FixturePhone/1.0",
        "b_ua": None,
        "X-Custom-Header": None,
        "X-Account-Code": "ACC-200",
    }
    assert {key: row[key] for key in expected} == expected


@pytest.mark.mysql
def test_it_returns_both_kinds_of_real_custom_headers(notar):
    got = {
        r["caller"]: (r["X-Custom-Header"], r["X-Account-Code"])
        for r in rows(customHeaders=HEADERS)
    }
    assert got["1001"] == ("fixture-call-01", "ACC-100")
    assert got["1002"] == ("fixture-call-02", None)
    assert got["+420601111111"] == ("vip", None)
    assert got["1005"] == ("busy-test", None)
    assert got["3009"] == ("lossy-call", None)
    assert got["1012"] == ("fixture-call-12", "ACC-300")
    assert got["1013"] == (None, None)


@pytest.mark.mysql
def test_it_returns_the_lossy_calls_quality(notar):
    (row,) = rows(callId="e1c4f309a7b44a09@gamma.example.net")
    assert (row["cdrId"], row["caller"]) == (11, "3009")
    assert row["a_lost"] == 26 and row["b_lost"] == 0
    assert row["a_mos_f1"] == 3.7
    assert row["packet_loss_perc"] == 4.333
    assert row["a_avgjitter"] == 8.2


@pytest.mark.mysql
def test_it_returns_the_busy_call(notar):
    (row,) = rows(caller="1005")
    assert (row["lastSIPresponseNum"], row["lastSIPresponse"]) == (486, "486 Busy Here")
    assert row["connect_duration"] is None and row["a_codec"] is None


@pytest.mark.mysql
def test_it_filters_the_real_calls(notar):
    assert len(rows(onlyConnected=1)) == 8
    assert [r["cdrId"] for r in rows(msisdn="2009")] == [11]
    assert [r["caller"] for r in rows(caller="%009")] == ["3009"]
    assert [r["called"] for r in rows(called="+44%")] == ["+442071234567"]
    assert [
        r["caller"] for r in rows(startTime="2026-11-27T04:05:30Z", callEnd="2026-11-27 04:05:43")
    ] == ["1012"]


@pytest.mark.mysql
def test_it_lists_the_real_cdr_ids(notar):
    body = ok(call_api({"size": 5, "offset": 10}, task="listCdrIds"))
    assert body["total"] == 13
    assert [r["cdrId"] for r in body["cdr"]] == [11, 12, 13]
    assert body["cdr"][0]["callId"] == "e1c4f309a7b44a09@gamma.example.net"
