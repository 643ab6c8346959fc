"""getVoipCalls: every parameter and combinations, against calls whose membership is known."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.api.legacy.test_api_php_support import (
    FAST_HASHERS,
    call_api,
    cdr_ids,
    make_api_user,
    ok,
    reason,
)
from tests.conftest import DEFAULT_SCHEMA
from tests.factories import (
    add_fixed_header_column,
    custom_header_definition,
    make_call,
    sensor,
    user_agent,
)

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
        calldate="2026-11-27 09:00:00", caller="123456", called="2002", duration=60, id_sensor=2
    ),
    "c": dict(
        calldate="2026-11-27 10:00:00",
        caller="555123",
        called="123999",
        duration=5,
        connect_duration=None,
        response="486 Busy Here",
    ),
    "d": dict(calldate="2026-11-27 23:30:00", caller="99_12", called="7123", id_sensor=3),
    "e": dict(calldate="2026-11-28 00:30:00", caller="99112", called="2001", duration=120),
    "f": dict(calldate="2026-11-26 12:00:00", caller="1001", called="2001"),
    "g": dict(
        calldate="2026-11-28 12:00:00", caller="4123", called="1001", call_id="alpha-2@example.com"
    ),
}
START = {"startTime": "2026-11-27"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def calls(db) -> dict[str, int]:
    make_api_user()
    return {name: make_call(**kwargs).ID for name, kwargs in CALLS.items()}


def names(body: dict, calls: dict[str, int]) -> list[str]:
    by_id = {cdr_id: name for name, cdr_id in calls.items()}
    return [by_id[cdr_id] for cdr_id in cdr_ids(body)]


def found(calls: dict[str, int], **params) -> list[str]:
    return names(call_api({**START, **params}), calls)


# --- time range ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_returns_calls_from_starttime_on_ordered_by_calldate(calls):
    assert found(calls) == ["a", "b", "c", "d", "e", "g"]


@pytest.mark.django_db
def test_it_takes_a_time_in_starttime(calls):
    assert found(calls, startTime="2026-11-27 09:00:00") == ["b", "c", "d", "e", "g"]


@pytest.mark.django_db
def test_it_bounds_by_starttimeto_inclusively(calls):
    assert found(calls, startTimeTo="2026-11-27 09:00:00") == ["a", "b"]


@pytest.mark.django_db
def test_a_date_only_starttimeto_covers_the_whole_day(calls):
    assert found(calls, startTimeTo="2026-11-27") == ["a", "b", "c", "d"]


@pytest.mark.django_db
def test_it_treats_endtime_as_starttimeto(calls):
    assert found(calls, endTime="2026-11-27 09:00:00") == ["a", "b"]


@pytest.mark.django_db
def test_starttimeto_wins_over_endtime(calls):
    assert found(calls, startTimeTo="2026-11-27 08:00:00", endTime="2026-11-28") == ["a"]


@pytest.mark.django_db
def test_it_bounds_by_callend(calls):
    # a ends 08:00:30, b ends 09:01:00, c ends 10:00:05.
    assert found(calls, callEnd="2026-11-27 09:00:59") == ["a"]
    assert found(calls, callEnd="2026-11-27 09:01:00") == ["a", "b"]
    assert found(calls, callEnd="2026-11-27") == ["a", "b", "c", "d"]


@pytest.mark.django_db
def test_it_converts_an_rfc3339_offset_to_the_sniffer_zone(calls):
    # TIME_ZONE is UTC in the tests: 10:00+01:00 is 09:00 UTC.
    assert found(
        calls, startTime="2026-11-27T10:00:00+01:00", startTimeTo="2026-11-27T09:00:00Z"
    ) == ["b"]


@pytest.mark.django_db
def test_it_reads_culture_formatted_dates(calls):
    assert found(
        calls, startTime="11/27/2026 9:00:00 AM", startTimeTo="11/27/2026 10:00:00 AM"
    ) == [
        "b",
        "c",
    ]


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_by_exact_caller(calls):
    assert found(calls, caller="1001") == ["a"]


@pytest.mark.django_db
def test_it_filters_by_exact_called(calls):
    assert found(calls, called="2001") == ["a", "e"]


@pytest.mark.django_db
def test_it_accepts_a_number_as_a_json_number(calls):
    assert found(calls, caller=1001) == ["a"]


@pytest.mark.django_db
def test_a_list_of_numbers_matches_any_of_them(calls):
    assert found(calls, caller=["1001", "123%"]) == ["a", "b"]
    assert found(calls, msisdn=["1001", "7123"]) == ["a", "d", "g"]


@pytest.mark.django_db
def test_caller_and_called_are_combined_with_and(calls):
    assert found(calls, caller="1001", called="2001") == ["a"]
    assert found(calls, caller="99112", called="2001") == ["e"]
    assert found(calls, caller="1001", called="2002") == []


@pytest.mark.django_db
def test_a_prefix_wildcard_matches_numbers_starting_with_it(calls):
    assert found(calls, caller="123%") == ["b"]
    assert found(calls, called="123%") == ["c"]


@pytest.mark.django_db
def test_a_suffix_wildcard_matches_numbers_ending_with_it_through_the_reverse_column(calls):
    with CaptureQueriesContext(connection) as queries:
        assert found(calls, caller="%123") == ["c", "g"]
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "caller_reverse" in sql and "321%" in sql
    assert found(calls, called="%123") == ["d"]


@pytest.mark.django_db
def test_an_infix_wildcard_matches_numbers_containing_it(calls):
    assert found(calls, caller="%23%") == ["b", "c", "g"]


@pytest.mark.django_db
def test_an_underscore_without_percent_is_literal(calls):
    assert found(calls, caller="99_12") == ["d"]


@pytest.mark.django_db
def test_an_underscore_in_a_wildcard_pattern_matches_one_character(calls):
    assert found(calls, caller="99_12%") == ["d", "e"]


@pytest.mark.django_db
def test_msisdn_matches_caller_or_called(calls):
    assert found(calls, msisdn="1001") == ["a", "g"]
    assert found(calls, msisdn="2001") == ["a", "e"]


@pytest.mark.django_db
def test_msisdn_takes_wildcards_on_both_sides(calls):
    assert found(calls, msisdn="%123") == ["c", "d", "g"]


@pytest.mark.django_db
def test_msisdn_true_combines_caller_and_called_with_or(calls):
    assert found(calls, caller="1001", called="2002") == []
    assert found(calls, caller="1001", called="2002", msisdn=True) == ["a", "b"]
    assert found(calls, caller="1001", called="2002", msisdn="false") == []


@pytest.mark.django_db
def test_blank_values_are_not_conditions(calls):
    assert found(calls, msisdn="1001", caller="", called="") == ["a", "g"]
    assert found(calls, caller="", callId="", cdrId="", id_sensor="") == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "g",
    ]


# --- identifiers --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_filters_by_call_id(calls):
    assert found(calls, callId="alpha-1@example.com") == ["a"]


@pytest.mark.django_db
def test_it_filters_by_call_id_pattern(calls):
    assert found(calls, callId="alpha-%") == ["a", "g"]


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["number", "string", "list", "string_list", "comma"])
def test_it_filters_by_cdr_id_in_every_form(calls, form):
    a, b = calls["a"], calls["b"]
    value = {
        "number": a,
        "string": str(a),
        "list": [a, b],
        "string_list": [str(a), str(b)],
        "comma": f"{a},{b}",
    }[form]
    expected = ["a"] if form in ("number", "string") else ["a", "b"]
    assert found(calls, cdrId=value) == expected


@pytest.mark.django_db
def test_cdr_id_still_respects_starttime(calls):
    assert found(calls, cdrId=calls["f"]) == []
    assert found(calls, cdrId=calls["f"], startTime="2026-11-26") == ["f"]


@pytest.mark.django_db
def test_it_filters_by_sensor(calls):
    assert found(calls, id_sensor=1) == ["a", "c", "e", "g"]
    assert found(calls, id_sensor="2") == ["b"]
    assert found(calls, id_sensor=[2, "3"]) == ["b", "d"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1, "1", True, "true"])
def test_only_connected_keeps_answered_calls(calls, value):
    assert found(calls, onlyConnected=value) == ["a", "b", "d", "e", "g"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, "0", False, "false"])
def test_only_connected_off_keeps_every_call(calls, value):
    assert found(calls, onlyConnected=value) == ["a", "b", "c", "d", "e", "g"]


# --- combinations -------------------------------------------------------------------------


@pytest.mark.django_db
def test_combination_range_pattern_sensor_connected(calls):
    params = dict(
        startTime="2026-11-27 08:30",
        startTimeTo="2026-11-28",
        caller="%2%",
        id_sensor=1,
        onlyConnected=1,
    )
    # b (sensor 2), c (not answered), d (sensor 3) drop out; e and g remain.
    assert found(calls, **params) == ["e", "g"]


@pytest.mark.django_db
def test_combination_msisdn_with_range_and_call_id(calls):
    assert found(calls, msisdn="1001", callId="alpha-%", startTimeTo="2026-11-27") == ["a"]


@pytest.mark.django_db
def test_combination_called_callend_connected(calls):
    # called contains 1: a, c, d, e, g; c is unanswered; e ends 00:32:00, g later.
    assert found(calls, called="%1%", callEnd="2026-11-28 00:31:00", onlyConnected=True) == [
        "a",
        "d",
    ]
    assert found(calls, called="%1%", callEnd="2026-11-28 00:32:00", onlyConnected=1) == [
        "a",
        "d",
        "e",
    ]


@pytest.mark.django_db
def test_combination_that_matches_nothing_gives_an_empty_list(calls):
    body = call_api({**START, "caller": "1001", "cdrId": calls["b"]})
    assert ok(body)["cdr"] == []


# --- result size ---------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(API_MAX_ROWS=4)
def test_it_caps_rows_at_api_max_rows_and_says_so(calls):
    body = ok(call_api(START))
    assert names(body, calls) == ["a", "b", "c", "d"]
    assert body["limited"] is True


@pytest.mark.django_db
@override_settings(API_MAX_ROWS=6)
def test_it_does_not_flag_a_result_that_fits(calls):
    body = ok(call_api(START))
    assert len(body["cdr"]) == 6 and "limited" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(("chunk", "max_rows"), [(1, 6), (2, 4), (2, 5), (4, 6), (4, 7), (5, 5)])
def test_an_answer_read_a_page_at_a_time_is_the_same_answer(calls, monkeypatch, chunk, max_rows):
    """getVoipCalls streams its rows in pages of VOIP_CALLS_CHUNK and writes each page when it
    comes: the answer, the cap and "limited" are the same wherever the pages end."""
    from api.legacy import tasks_cdr

    with override_settings(API_MAX_ROWS=max_rows):
        whole = ok(call_api(START))
        monkeypatch.setattr(tasks_cdr, "VOIP_CALLS_CHUNK", chunk)
        paged = ok(call_api(START))
    assert paged == whole
    assert len(paged["cdr"]) == min(6, max_rows)
    assert paged.get("limited", False) is (max_rows < 6)


# --- row content ---------------------------------------------------------------------------


@pytest.fixture
def rich_call(db):
    make_api_user()
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
        a_received=576,
        b_received=602,
        a_lost=26,
        b_lost=0,
        a_mos_f1_mult10=37,
        a_mos_f2_mult10=38,
        a_mos_adapt_mult10=39,
        b_mos_f1_mult10=45,
        b_mos_f2_mult10=45,
        b_mos_adapt_mult10=44,
        mos_min_mult10=37,
        a_avgjitter_mult10=125,
        b_avgjitter_mult10=0,
        jitter_mult10=125,
        packet_loss_perc_mult1000=4333,
    )


@pytest.mark.django_db
def test_row_has_the_documented_keys_and_values(rich_call):
    row = ok(call_api(START | {"startTime": "2026-11-27 04:00"}))["cdr"][0]
    expected = {
        "cdrId": rich_call.ID,
        "ID": rich_call.ID,
        "calldate": "2026-11-27 04:03:38",
        "callend": "2026-11-27 04:03:49",
        "duration": 11.316,
        "connect_duration": 10.308,
        "progress_time": 1.004,
        "caller": "+420601111111",
        "callername": "Carol Cerna",
        "caller_domain": "alpha.example.com",
        "called": "2001",
        "called_domain": "beta.example.com",
        "callId": "3c26700b8f2e1a01@alpha.example.com",
        "sipcallerip": "127.0.0.13",
        "sipcalledip": "127.0.0.22",
        "sipcallerport": 5060,
        "sipcalledport": 5060,
        "id_sensor": 7,
        "sensorname": "edge-7",
        "lastSIPresponseNum": 200,
        "lastSIPresponse": "200 OK",
        "whohanged": "caller",
        "bye": 3,
        "a_payload": 8,
        "b_payload": 8,
        "a_codec": "G.711 alaw",
        "b_codec": "G.711 alaw",
        "a_ua": "Gamma-SoftPhone/3.2",
        "b_ua": "Delta-SBC/5.1",
        "a_received": 574,
        "b_received": 600,
        "a_lost": 26,
        "b_lost": 0,
        "a_mos_f1": 3.7,
        "a_mos_f2": 3.8,
        "a_mos_adapt": 3.9,
        "b_mos_f1": 4.5,
        "b_mos_f2": 4.5,
        "b_mos_adapt": 4.4,
        "mos_min": 3.7,
        "a_avgjitter": 12.5,
        "b_avgjitter": 0,
        "jitter": 12.5,
        "packet_loss_perc": 4.333,
    }
    assert {key: row.get(key) for key in expected} == expected


@pytest.mark.django_db
def test_numbers_are_json_numbers(rich_call):
    body = call_api({"startTime": "2026-11-27 04:00"})
    row = ok(body)["cdr"][0]
    numeric = [
        "cdrId",
        "ID",
        "duration",
        "connect_duration",
        "sipcallerport",
        "sipcalledport",
        "id_sensor",
        "lastSIPresponseNum",
        "bye",
        "a_payload",
        "b_payload",
        "a_lost",
        "b_lost",
        "a_mos_f1",
        "b_mos_f1",
        "mos_min",
        "a_avgjitter",
        "packet_loss_perc",
        "a_received",
    ]
    for key in numeric:
        assert isinstance(row[key], (int, float)) and not isinstance(row[key], bool), key
    for key in ("calldate", "callend", "sipcallerip", "callId", "caller", "a_codec"):
        assert isinstance(row[key], str), key


@pytest.mark.django_db
def test_unmeasured_values_are_null(calls):
    row = ok(call_api({**START, "cdrId": calls["c"]}))["cdr"][0]
    assert row["connect_duration"] is None
    assert row["a_payload"] is None and row["a_codec"] is None
    assert row["a_mos_f1"] is None and row["mos_min"] is None
    assert row["lastSIPresponseNum"] == 486 and row["lastSIPresponse"] == "486 Busy Here"


# --- custom headers ------------------------------------------------------------------------


@pytest.fixture
def header_calls(sniffer_schema) -> dict[str, int]:
    # ALTER TABLE commits on MySQL: a fresh schema before, and (by the fixture) after the test.
    sniffer_schema(DEFAULT_SCHEMA)
    make_api_user()
    add_fixed_header_column("X-Custom-Header")
    custom_header_definition("X-Account-Code", 1, 1)
    return {
        "both": make_call(
            "2026-11-27 10:00:00",
            fixed_headers={"X-Custom-Header": "fixture-call-01"},
            dynamic_headers={(1, 1): "ACC-100"},
        ).ID,
        "fixed": make_call("2026-11-27 11:00:00", fixed_headers={"X-Custom-Header": "vip"}).ID,
        "none": make_call("2026-11-27 12:00:00").ID,
    }


@pytest.mark.django_db(transaction=True)
def test_it_returns_fixed_and_dynamic_custom_headers_by_name(header_calls):
    body = call_api({**START, "customHeaders": "X-Custom-Header, X-Account-Code"})
    rows = {row["cdrId"]: row for row in ok(body)["cdr"]}
    assert len(rows) == 3  # customHeaders selects columns; it never filters rows
    both, fixed, none = (rows[header_calls[k]] for k in ("both", "fixed", "none"))
    assert (both["X-Custom-Header"], both["X-Account-Code"]) == ("fixture-call-01", "ACC-100")
    assert (fixed["X-Custom-Header"], fixed["X-Account-Code"]) == ("vip", None)
    assert (none["X-Custom-Header"], none["X-Account-Code"]) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_custom_headers_read_a_page_at_a_time_are_the_same(header_calls, monkeypatch):
    """Fixed headers come with the streamed rows; dynamic ones are read per page."""
    from api.legacy import tasks_cdr

    params = {**START, "customHeaders": "X-Custom-Header, X-Account-Code"}
    whole = ok(call_api(params))
    monkeypatch.setattr(tasks_cdr, "VOIP_CALLS_CHUNK", 1)
    assert ok(call_api(params)) == whole
    assert [row["X-Account-Code"] for row in whole["cdr"]] == ["ACC-100", None, None]


@pytest.mark.django_db(transaction=True)
def test_it_returns_custom_headers_under_the_requested_spelling(header_calls):
    body = call_api({**START, "customHeaders": ["x-account-code"], "cdrId": header_calls["both"]})
    row = ok(body)["cdr"][0]
    assert row["x-account-code"] == "ACC-100" and "X-Account-Code" not in row


@pytest.mark.django_db(transaction=True)
def test_rows_have_no_custom_header_keys_unless_asked(header_calls):
    row = ok(call_api({**START, "cdrId": header_calls["both"]}))["cdr"][0]
    assert "X-Custom-Header" not in row and "X-Account-Code" not in row


@pytest.mark.django_db(transaction=True)
def test_an_unknown_custom_header_is_refused(header_calls):
    assert reason(call_api({**START, "customHeaders": "X-Custom-Header,X-Nope"})) == (
        "unknown custom header 'X-Nope'"
    )


# --- IPv6 / varbinary IP encoding ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_reads_ips_from_a_varbinary_ipv6_database(sniffer_schema):
    sniffer_schema(dataclasses.replace(DEFAULT_SCHEMA, ipv6=True))
    make_api_user()
    v4 = make_call("2026-11-27 10:00:00", sipcallerip="10.1.2.3", sipcalledip="10.1.2.4")
    v6 = make_call(
        "2026-11-27 11:00:00", sipcallerip="2001:db8::1", sipcalledip="2001:db8::2", caller="6006"
    )
    rows = ok(call_api(START))["cdr"]
    assert [(r["cdrId"], r["sipcallerip"], r["sipcalledip"]) for r in rows] == [
        (v4.ID, "10.1.2.3", "10.1.2.4"),
        (v6.ID, "2001:db8::1", "2001:db8::2"),
    ]
    assert cdr_ids(call_api({**START, "caller": "6006"})) == [v6.ID]


@pytest.mark.django_db
def test_it_reads_ips_from_an_int_ipv4_database(calls):
    row = ok(call_api({**START, "cdrId": calls["a"]}))["cdr"][0]
    assert (row["sipcallerip"], row["sipcalledip"]) == ("10.0.0.1", "10.0.0.2")
