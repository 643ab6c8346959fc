"""sql.php task=LISTING&module=CDR: every filter and combinations, against calls whose
membership is known; paging, sorting, suppress_results, TOTAL, deferTotal, row shape."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.legacy import sql_listing
from cdr.query.scope import CdrScope
from tests.api.legacy.test_sql_php_support import error, ids, ok, send, session_client
from tests.factories import make_call, sensor, user_agent

# name → make_call arguments. Dates 26-28 Nov 2026 (inside the test schema's partitions).
CALLS: dict[str, dict] = {
    "a": dict(
        calldate="2026-11-27 08:00:00",
        caller="1001",
        called="2001",
        duration=30,
        call_id="alpha-1@example.com",
    ),
    "b": dict(
        calldate="2026-11-27 09:00:00",
        caller="123456",
        called="2002",
        duration=60,
        id_sensor=2,
        payload=0,
        caller_domain="gamma.example.net",
        sipcallerip="192.168.1.5",
    ),
    "c": dict(
        calldate="2026-11-27 10:00:00",
        caller="555123",
        called="123999",
        duration=5,
        connect_duration=None,
        response="486 Busy Here",
    ),
    "d": dict(
        calldate="2026-11-27 23:30:00",
        caller="99_12",
        called="7123",
        id_sensor=3,
        called_domain="delta.example.org",
        sipcalledip="172.16.0.9",
        connect_duration=None,
        response="503 Service Unavailable",
    ),
    "e": dict(
        calldate="2026-11-28 00:30:00", caller="99112", called="2001", duration=120, payload=18
    ),
    "f": dict(calldate="2026-11-26 12:00:00", caller="1001", called="2001"),
    "g": dict(
        calldate="2026-11-28 12:00:00",
        caller="4123",
        called="1001",
        call_id="alpha-2@example.com",
        id_sensor=None,
    ),
}
LISTING = {"task": "LISTING", "module": "CDR"}
FROM = {"fdatefrom": "2026-11-27"}
ASC = json.dumps([{"property": "calldate", "direction": "ASC"}])


@pytest.fixture
def client(db) -> Client:
    return session_client()


@pytest.fixture
def calls(client) -> dict[str, int]:
    return {name: make_call(**kwargs).ID for name, kwargs in CALLS.items()}


def names(body: dict, calls: dict[str, int]) -> list[str]:
    by_id = {cdr_id: name for name, cdr_id in calls.items()}
    return [by_id[cdr_id] for cdr_id in ids(body)]


def found(client: Client, calls: dict[str, int], **fields) -> list[str]:
    """Names of the calls listed for these fields, calldate ascending."""
    return names(send({**LISTING, **FROM, "sort": ASC, **fields}, client=client), calls)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_calls_from_fdatefrom_newest_first_by_default(client, calls):
    body = ok(send({**LISTING, **FROM}, client=client))
    assert names(body, calls) == ["g", "e", "d", "c", "b", "a"]
    assert body["total"] == 6 and body["deferTotal"] is False


@pytest.mark.django_db
def test_it_takes_fdateto_alone_and_a_date_only_fdateto_covers_the_day(client, calls):
    body = send({**LISTING, "fdateto": "2026-11-27", "sort": ASC}, client=client)
    assert names(body, calls) == ["f", "a", "b", "c", "d"]


@pytest.mark.django_db
def test_it_bounds_by_both_dates_with_times(client, calls):
    assert found(client, calls, fdatefrom="2026-11-27T09:00:00", fdateto="2026-11-27 10:00:00") == [
        "b",
        "c",
    ]


@pytest.mark.django_db
def test_it_reads_rfc3339_dates(client, calls):
    assert found(
        client, calls, fdatefrom="2026-11-27T10:00:00+01:00", fdateto="2026-11-27T10:00:00Z"
    ) == ["b", "c"]


@pytest.mark.django_db
def test_it_refuses_a_listing_without_any_date(client, calls):
    kind, reason = error(send(LISTING, client=client))
    assert kind == "params"
    assert reason.startswith("fdatefrom or fdateto is required")


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_by_exact_caller_and_called(client, calls):
    assert found(client, calls, fcaller="1001") == ["a"]
    assert found(client, calls, fcalled="2001") == ["a", "e"]


@pytest.mark.django_db
def test_it_filters_by_wildcard_numbers(client, calls):
    assert found(client, calls, fcaller="123%") == ["b"]
    assert found(client, calls, fcaller="%123") == ["c", "g"]
    assert found(client, calls, fcalled="%12%") == ["c", "d"]


@pytest.mark.django_db
def test_an_underscore_is_literal_without_percent_and_a_wildcard_with_it(client, calls):
    assert found(client, calls, fcaller="99_12") == ["d"]
    assert found(client, calls, fcaller="99_12%") == ["d", "e"]


@pytest.mark.django_db
def test_a_comma_list_of_numbers_matches_any_of_them(client, calls):
    assert found(client, calls, fcaller="1001,4123") == ["a", "g"]


@pytest.mark.django_db
def test_fcallerd_type_1_combines_caller_and_called_with_and(client, calls):
    assert found(client, calls, fcaller="1001", fcalled="2001", fcallerd_type=1) == ["a"]
    assert found(client, calls, fcaller="1001", fcalled="2002", fcallerd_type=1) == []


@pytest.mark.django_db
def test_fcallerd_type_0_combines_caller_and_called_with_or(client, calls):
    assert found(client, calls, fcaller="1001", fcalled="2002", fcallerd_type=0) == ["a", "b"]
    assert found(client, calls, fcaller="%123", fcalled="%123", fcallerd_type="0") == [
        "c",
        "d",
        "g",
    ]


@pytest.mark.django_db
def test_without_fcallerd_type_caller_and_called_are_anded(client, calls):
    assert found(client, calls, fcaller="1001", fcalled="2002") == []


@pytest.mark.django_db
def test_fcallerd_type_alone_changes_nothing(client, calls):
    assert found(client, calls, fcaller="1001", fcallerd_type=0) == ["a"]


# --- domains, IPs, identifiers -------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_by_domains(client, calls):
    assert found(client, calls, fcaller_domain="gamma.example.net") == ["b"]
    assert found(client, calls, fcalled_domain="delta.%") == ["d"]
    assert found(client, calls, fcaller_domain="%.example.com") == ["a", "c", "d", "e", "g"]


@pytest.mark.django_db
def test_it_filters_by_sip_ips_and_networks(client, calls):
    assert found(client, calls, fsipcallerip="192.168.1.5") == ["b"]
    assert found(client, calls, fsipcallerip="192.168.0.0/16") == ["b"]
    assert found(client, calls, fsipcalledip="172.16.0.9") == ["d"]
    assert found(client, calls, fsipcalledip="10.0.0.2") == ["a", "b", "c", "e", "g"]


@pytest.mark.django_db
def test_it_filters_by_call_id_exact_and_pattern(client, calls):
    assert found(client, calls, fcallid="alpha-1@example.com") == ["a"]
    assert found(client, calls, fcallid="alpha-%") == ["a", "g"]


@pytest.mark.django_db
def test_it_filters_by_sip_response_code_list_and_class(client, calls):
    assert found(client, calls, fsipresponse="486") == ["c"]
    assert found(client, calls, fsipresponse="486,503") == ["c", "d"]
    assert found(client, calls, fsipresponse="5") == ["d"]
    assert found(client, calls, fsipresponse="2xx") == ["a", "b", "e", "g"]


@pytest.mark.django_db
def test_it_filters_by_duration_bounds(client, calls):
    assert found(client, calls, fdurationgt=30) == ["b", "e"]
    assert found(client, calls, fdurationlt="30") == ["c"]
    assert found(client, calls, fdurationgt="29.5", fdurationlt="60.5") == ["a", "b", "d", "g"]


@pytest.mark.django_db
def test_it_filters_by_sensor_ids(client, calls):
    assert found(client, calls, fsensor_id=2) == ["b"]
    assert found(client, calls, fsensor_id="2,3") == ["b", "d"]
    assert found(client, calls, fsensor_id=-1) == ["g"]


@pytest.mark.django_db
def test_it_filters_by_codec_numbers(client, calls):
    assert found(client, calls, fcodec="0") == ["b"]
    assert found(client, calls, fcodec="0,18") == ["b", "e"]
    assert found(client, calls, fcodec="8") == ["a", "g"]


@pytest.mark.django_db
def test_blank_filters_are_not_conditions(client, calls):
    assert found(client, calls, fcaller="", fcalled="", fsensor_id="", fmosf1="") == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "g",
    ]


# --- combinations ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_combination_dates_pattern_sensor_and_duration(client, calls):
    fields = dict(fdatefrom="2026-11-27 08:30", fdateto="2026-11-28", fcaller="%2%", fsensor_id=1)
    # a starts before 08:30; b (sensor 2), d (sensor 3) and g (no sensor) drop out; the
    # date-only fdateto keeps the whole 28th (e). The duration bound then drops c (5 s).
    assert found(client, calls, **fields) == ["c", "e"]
    assert found(client, calls, **fields, fdurationgt=10) == ["e"]
    assert found(client, calls, **{**fields, "fdateto": "2026-11-27 23:59"}) == ["c"]


@pytest.mark.django_db
def test_combination_or_numbers_with_response_and_domain(client, calls):
    fields = dict(fcaller="%123", fcalled="2%", fcallerd_type=0)
    assert found(client, calls, **fields) == ["a", "b", "c", "e", "g"]
    assert found(client, calls, **fields, fsipresponse="4,5") == ["c"]
    assert found(client, calls, **fields, fcaller_domain="gamma%") == ["b"]


@pytest.mark.django_db
def test_combination_call_id_codec_and_ip(client, calls):
    assert found(client, calls, fcallid="alpha-%", fcodec=8, fsipcallerip="10.0.0.0/8") == [
        "a",
        "g",
    ]
    assert found(client, calls, fcallid="alpha-%", fsensor_id=1) == ["a"]


@pytest.mark.django_db
def test_a_combination_that_matches_nothing_is_an_empty_page(client, calls):
    body = ok(send({**LISTING, **FROM, "fcaller": "1001", "fsensor_id": 2}, client=client))
    assert body["results"] == [] and body["total"] == 0


# --- paging, sorting, totals ----------------------------------------------------------------


@pytest.mark.django_db
def test_it_pages_with_start_and_limit(client, calls):
    body = ok(send({**LISTING, **FROM, "sort": ASC, "start": 2, "limit": 2}, client=client))
    assert names(body, calls) == ["c", "d"] and body["total"] == 6


@pytest.mark.django_db
def test_it_pages_with_page_and_limit_and_start_wins(client, calls):
    body = send({**LISTING, **FROM, "sort": ASC, "page": 3, "limit": 2}, client=client)
    assert names(body, calls) == ["e", "g"]
    body = send({**LISTING, **FROM, "sort": ASC, "page": 3, "start": 1, "limit": 2}, client=client)
    assert names(body, calls) == ["b", "c"]


@pytest.mark.django_db
def test_limit_minus_one_streams_every_row_with_the_total(client, calls):
    response = client.get("/php/model/sql.php", {**LISTING, **FROM, "sort": ASC, "limit": -1})
    assert response.streaming
    body = json.loads(b"".join(response.streaming_content))
    assert names(body, calls) == ["a", "b", "c", "d", "e", "g"]
    assert body["total"] == 6 and body["deferTotal"] is False and body["success"] is True


@pytest.mark.django_db
def test_limit_minus_one_with_start_streams_the_rest_and_counts_all(client, calls):
    body = ok(send({**LISTING, **FROM, "sort": ASC, "limit": -1, "start": 4}, client=client))
    assert names(body, calls) == ["e", "g"] and body["total"] == 6
    body = ok(send({**LISTING, **FROM, "limit": -1, "start": 10}, client=client))
    assert body["results"] == [] and body["total"] == 6


@pytest.mark.django_db
def test_pages_larger_than_the_stream_threshold_are_streamed(client, calls, monkeypatch):
    monkeypatch.setattr(sql_listing, "STREAM_ABOVE", 2)
    response = client.get(
        "/php/model/sql.php", {**LISTING, **FROM, "sort": ASC, "start": 1, "limit": 3}
    )
    assert response.streaming
    body = json.loads(b"".join(response.streaming_content))
    assert names(body, calls) == ["b", "c", "d"] and body["total"] == 6
    # deferred: one row more is read to tell the pager that a next page exists
    response = client.get(
        "/php/model/sql.php",
        {**LISTING, **FROM, "sort": ASC, "start": 1, "limit": 3, "deferTotal": 1},
    )
    body = json.loads(b"".join(response.streaming_content))
    assert names(body, calls) == ["b", "c", "d"]
    assert body["deferTotal"] is True and body["total"] == 5


@pytest.mark.parametrize("batch", [1, 2, 4, 200])
@pytest.mark.django_db
def test_a_streamed_listing_has_the_same_rows_whatever_its_batch_size(
    client, calls, monkeypatch, batch
):
    """Streamed rows are shaped and written a batch at a time: a batch boundary anywhere
    (inside the page, at its end, at the look-ahead row) changes nothing."""
    paged = send({**LISTING, **FROM, "sort": ASC, "limit": 100}, client=client)
    monkeypatch.setattr(sql_listing, "BATCH", batch)
    monkeypatch.setattr(sql_listing, "STREAM_ABOVE", 1)
    everything = json.loads(
        b"".join(
            client.get(
                "/php/model/sql.php", {**LISTING, **FROM, "sort": ASC, "limit": -1}
            ).streaming_content
        )
    )
    assert everything["results"] == paged["results"] and everything["total"] == 6
    for start, limit in ((0, 2), (1, 3), (2, 4), (0, 6)):
        response = client.get(
            "/php/model/sql.php",
            {**LISTING, **FROM, "sort": ASC, "start": start, "limit": limit, "deferTotal": 1},
        )
        assert response.streaming
        body = json.loads(b"".join(response.streaming_content))
        assert body["results"] == paged["results"][start : start + limit]
        more = start + limit < 6
        assert body["total"] == start + limit + (1 if more else 0)


@pytest.mark.django_db
def test_a_failure_while_streaming_closes_the_json_with_an_error(client, calls, monkeypatch):
    def broken(rows):
        raise RuntimeError("disk on fire")

    shape = sql_listing.listing_rows
    monkeypatch.setattr(sql_listing, "listing_rows", broken)
    response = client.get("/php/model/sql.php", {**LISTING, **FROM, "limit": -1})
    text = b"".join(response.streaming_content)
    body = json.loads(text)
    assert body["success"] is False and body["error"]["type"] == "internal"
    assert b"disk on fire" not in text and b"Traceback" not in text
    # the stream that failed no longer holds the connection: the next listing reads it all
    monkeypatch.setattr(sql_listing, "listing_rows", shape)
    assert len(found(client, calls, limit=-1)) == 6


@pytest.mark.django_db
def test_it_sorts_by_the_json_sort_list(client, calls):
    sort = json.dumps(
        [
            {"property": "duration", "direction": "DESC"},
            {"property": "calldate", "direction": "ASC"},
        ]
    )
    # durations: e 120, b 60, a/d/g 30, c 5
    assert found(client, calls, sort=sort) == ["e", "b", "a", "d", "g", "c"]


@pytest.mark.django_db
def test_it_sorts_by_a_bare_property_and_dir(client, calls):
    # text order: "1001" < "123456" < "4123" < "555123" < "99112" < "99_12"
    assert found(client, calls, sort="caller", dir="DESC") == ["d", "e", "c", "g", "b", "a"]
    assert found(client, calls, sort="caller") == ["a", "b", "g", "c", "e", "d"]


@pytest.mark.django_db
def test_it_sorts_by_display_names_of_scaled_columns(client, calls):
    assert found(client, calls, sort=json.dumps([{"property": "mos_min"}]))  # allowed name


@pytest.mark.django_db
def test_it_refuses_a_sort_property_outside_the_allow_list(client, calls):
    kind, reason = error(
        send({**LISTING, **FROM, "sort": '[{"property":"caller; DROP TABLE cdr"}]'}, client=client)
    )
    assert kind == "params" and reason.startswith("cannot sort by 'caller; DROP TABLE cdr'")


@pytest.mark.django_db
def test_it_refuses_a_bad_sort_direction(client, calls):
    kind, reason = error(
        send(
            {**LISTING, **FROM, "sort": '[{"property":"calldate","direction":"UP"}]'}, client=client
        )
    )
    assert reason == "sort: direction must be ASC or DESC, got 'UP'"


@pytest.mark.django_db
def test_suppress_results_answers_only_the_count(client, calls):
    body = ok(send({**LISTING, **FROM, "fcalled": "2001", "suppress_results": 1}, client=client))
    assert body["total"] == 2 and body["results"] == []


@pytest.mark.django_db
def test_task_total_answers_the_count_of_the_same_filters(client, calls):
    body = send({"task": "TOTAL", "module": "CDR", **FROM, "fcalled": "2001"}, client=client)
    assert body == {"success": True, "total": 2}
    assert send({"task": "TOTAL", **FROM}, client=client)["total"] == 6


@pytest.mark.django_db
def test_defer_total_1_answers_a_provisional_total_for_the_pager(client, calls):
    body = ok(send({**LISTING, **FROM, "limit": 2, "deferTotal": 1}, client=client))
    assert body["deferTotal"] is True
    assert body["total"] == 3  # two rows shown and at least one more
    body = ok(send({**LISTING, **FROM, "limit": 4, "start": 4, "deferTotal": 1}, client=client))
    assert body["deferTotal"] is True and body["total"] == 6  # the last page: exact


@pytest.mark.django_db
def test_the_total_is_deferred_when_the_count_is_over_its_budget(client, calls, monkeypatch):
    monkeypatch.setattr(sql_listing.query, "count_within", lambda f, scope, budget: None)
    body = ok(send({**LISTING, **FROM, "limit": 5}, client=client))
    assert body["deferTotal"] is True and body["total"] == 6 and len(body["results"]) == 5
    # deferTotal=0 insists on the exact count
    body = ok(send({**LISTING, **FROM, "limit": 5, "deferTotal": 0}, client=client))
    assert body["deferTotal"] is False and body["total"] == 6


@pytest.mark.django_db
def test_the_newest_first_page_is_bounded_by_its_last_calldate(client, calls):
    with CaptureQueriesContext(connection) as queries:
        body = send({**LISTING, **FROM, "limit": 2}, client=client)
    assert names(body, calls) == ["g", "e"]
    # the page query only sorts the calls from the calldate of the page's look-ahead row on
    # (d: 27th 23:30; the row tells whether another page exists and, when none does, the
    # total); it is joined with its look-ups (cdr_next, texts) in the same statement
    pages = [q["sql"] for q in queries.captured_queries if "2026-11-27 23:30:00" in q["sql"]]
    assert len(pages) == 1 and ">=" in pages[0]


# --- scope and permission ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_applies_the_callers_scope(client, calls, monkeypatch):
    monkeypatch.setattr("api.legacy.sql_session.scope_for", lambda user: CdrScope(sensors=(2, 3)))
    assert found(client, calls) == ["b", "d"]
    assert found(client, calls, fcaller="1001") == []
    assert send({"task": "TOTAL", **FROM}, client=client)["total"] == 2


@pytest.mark.django_db
def test_a_user_without_can_cdr_is_refused(db):
    from tests.api.legacy.test_api_php_support import make_api_user
    from tests.api.legacy.test_sql_php_support import login

    make_api_user("nocdr", "pw-nocdr-1", can_cdr=False)
    client = Client()
    login(client, "nocdr", "pw-nocdr-1")
    kind, reason = error(send({**LISTING, **FROM}, client=client))
    assert kind == "permission" and "can_cdr" in reason


# --- transports ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["get", "form", "query_post", "multipart", "json"])
def test_every_transport_carries_the_same_listing(client, calls, transport):
    fields = {**LISTING, **FROM, "fcaller": "%123", "fcallerd_type": "1", "sort": ASC}
    assert names(send(fields, transport=transport, client=client), calls) == ["c", "g"]


# --- rows ----------------------------------------------------------------------------------


@pytest.fixture
def rich_call(client):
    sensor(7, "edge-7")
    return make_call(
        "2026-11-27 04:03:38.631",
        caller="+420601111111",
        called="2001",
        callername="Carol Cerna",
        sipcallerip="127.0.0.13",
        sipcalledip="127.0.0.22",
        duration=11.316,
        connect_duration=10.308,
        id_sensor=7,
        payload=8,
        call_id="3c26700b8f2e1a01@alpha.example.com",
        ua="Gamma-SoftPhone/3.2",
        b_ua_id=user_agent("Delta-SBC/5.1"),
        whohanged="caller",
        bye=3,
        progress_time=Decimal("1.004"),
        first_rtp_time=Decimal("1.100"),
        reason_q850_cause=16,
        reason_sip_cause=200,
        a_received=576,
        a_lost=26,
        a_mos_f1_mult10=37,
        b_mos_f1_mult10=45,
        mos_min_mult10=37,
        jitter_mult10=125,
        packet_loss_perc_mult1000=4333,
        a_rtcp_maxjitter=31,
        a_rtcp_avgjitter_mult10=82,
    )


@pytest.mark.django_db
def test_row_has_the_reference_keys_and_values(client, rich_call):
    (row,) = ok(send({**LISTING, "fdatefrom": "2026-11-27"}, client=client))["results"]
    expected = {
        "ID": rich_call.ID,
        "cdr_ID": rich_call.ID,
        "calldate": "2026-11-27 04:03:38",
        "callend": "2026-11-27 04:03:49",
        "duration": 11.316,
        "connect_duration": 10.308,
        "caller": "+420601111111",
        "callername": "Carol Cerna",
        "caller_domain": "alpha.example.com",
        "called": "2001",
        "called_domain": "beta.example.com",
        "sipcallerip": "127.0.0.13",
        "sipcallerport": 5060,
        "sipcalledip": "127.0.0.22",
        "sipcalledport": 5060,
        "id_sensor": 7,
        "sensorname": "edge-7",
        "whohanged": "caller",
        "bye": 3,
        "lastSIPresponse": "200 OK",
        "lastSIPresponseNum": 200,
        "a_codec": "G.711 alaw",
        "b_codec": "G.711 alaw",
        "a_mos_f1": 3.7,
        "b_mos_f1": 4.5,
        "mos_min": 3.7,
        "jitter": 12.5,
        "packet_loss_perc": 4.333,
        "a_ua": "Gamma-SoftPhone/3.2",
        "b_ua": "Delta-SBC/5.1",
        "fbasename": "3c26700b8f2e1a01@alpha.example.com",
        "progress_time": 1.004,
        "first_rtp_time": 1.1,
        "reason_q850_cause": 16,
        "reason_sip_cause": 200,
        "a_rtcp_maxjitter": 31,
        "a_rtcp_avgjitter": 8.2,
    }
    assert {key: row.get(key) for key in expected} == expected
    assert "cdrId" not in row and "callId" not in row


@pytest.mark.django_db
def test_numbers_are_json_numbers(client, rich_call):
    response = client.get("/php/model/sql.php", {**LISTING, "fdatefrom": "2026-11-27"})
    body = json.loads(response.content)
    assert isinstance(body["total"], int)
    row = body["results"][0]
    for key in (
        "ID",
        "cdr_ID",
        "duration",
        "connect_duration",
        "sipcallerport",
        "id_sensor",
        "bye",
        "lastSIPresponseNum",
        "a_mos_f1",
        "b_mos_f1",
        "mos_min",
        "jitter",
        "packet_loss_perc",
        "progress_time",
        "reason_q850_cause",
    ):
        assert isinstance(row[key], (int, float)) and not isinstance(row[key], bool), key
    for key in ("calldate", "callend", "sipcallerip", "caller", "fbasename", "lastSIPresponse"):
        assert isinstance(row[key], str), key


@pytest.mark.django_db
def test_streamed_rows_have_the_same_shape_as_paged_rows(client, rich_call):
    paged = ok(send({**LISTING, "fdatefrom": "2026-11-27"}, client=client))["results"]
    streamed = ok(send({**LISTING, "fdatefrom": "2026-11-27", "limit": -1}, client=client))
    assert streamed["results"] == paged


# --- custom headers ------------------------------------------------------------------------


@pytest.fixture
def header_calls(sniffer_schema) -> tuple[Client, dict[str, int]]:
    from tests.conftest import DEFAULT_SCHEMA
    from tests.factories import add_fixed_header_column, custom_header_definition

    # ALTER TABLE commits on MySQL: a fresh schema before, and (by the fixture) after the test.
    sniffer_schema(DEFAULT_SCHEMA)
    client = session_client()
    add_fixed_header_column("X-Custom-Header")
    custom_header_definition("X-Account-Code", 1, 1)
    calls = {
        "both": make_call(
            "2026-11-27 10:00:00",
            fixed_headers={"X-Custom-Header": "fixture-call-01"},
            dynamic_headers={(1, 1): "ACC-100"},
        ).ID,
        "fixed": make_call("2026-11-27 11:00:00", fixed_headers={"X-Custom-Header": "vip"}).ID,
        "acc": make_call("2026-11-27 12:00:00", dynamic_headers={(1, 1): "ACC-200"}).ID,
        "none": make_call("2026-11-27 13:00:00").ID,
    }
    return client, calls


@pytest.mark.django_db(transaction=True)
def test_it_filters_by_a_dynamic_custom_header_by_position(header_calls):
    client, calls = header_calls
    assert found(client, calls, fcustom_header_1_1="ACC-100") == ["both"]
    assert found(client, calls, fcustom_header_1_1="ACC-%") == ["both", "acc"]
    assert found(client, calls, fcustom_header_1_2="x") == []  # a column nobody uses


@pytest.mark.django_db(transaction=True)
def test_it_filters_by_a_fixed_custom_header_by_name(header_calls):
    client, calls = header_calls
    assert found(client, calls, **{"fcustom_header__X-Custom-Header": "vip"}) == ["fixed"]
    assert found(client, calls, **{"fcustom_header__X-Custom-Header": "%"}) == ["both", "fixed"]


@pytest.mark.django_db(transaction=True)
def test_custom_header_filters_combine_with_the_others(header_calls):
    client, calls = header_calls
    fields = {"fcustom_header_1_1": "ACC-%", "fcustom_header__X-Custom-Header": "fixture%"}
    assert found(client, calls, **fields) == ["both"]
    assert found(client, calls, fcustom_header_1_1="ACC-%", fdatefrom="2026-11-27 11:00") == ["acc"]


def _counts(queries) -> int:
    cdr = [q["sql"] for q in queries.captured_queries if "auditevent" not in q["sql"]]
    return sum("COUNT(" in sql.upper() for sql in cdr)  # not the login throttle's


@pytest.mark.django_db
def test_a_page_that_ends_before_its_limit_gives_the_total_without_a_count(client, calls):
    with CaptureQueriesContext(connection) as queries:
        body = ok(send({**LISTING, **FROM, "fcalled": "2001"}, client=client))
    assert body["total"] == 2 and body["deferTotal"] is False and len(body["results"]) == 2
    assert _counts(queries) == 0
    with CaptureQueriesContext(connection) as queries:  # the last page, from an offset
        body = ok(send({**LISTING, **FROM, "limit": 4, "start": 4}, client=client))
    assert body["total"] == 6 and body["deferTotal"] is False and _counts(queries) == 0


@pytest.mark.django_db
def test_a_full_page_or_a_start_past_the_end_still_counts(client, calls):
    with CaptureQueriesContext(connection) as queries:
        body = ok(send({**LISTING, **FROM, "limit": 2}, client=client))
    assert body["total"] == 6 and body["deferTotal"] is False and _counts(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        body = ok(send({**LISTING, **FROM, "limit": 2, "start": 40}, client=client))
    assert body["total"] == 6 and body["results"] == [] and _counts(queries) == 1
    with CaptureQueriesContext(connection) as queries:  # exactly a page: the look-ahead says so
        body = ok(send({**LISTING, **FROM, "limit": 6}, client=client))
    assert body["total"] == 6 and len(body["results"]) == 6 and _counts(queries) == 0
