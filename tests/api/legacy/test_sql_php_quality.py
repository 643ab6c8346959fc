"""sql.php's RTP quality filters, each against calls whose membership is known.

Semantics (docs/legacy-sql.md): MOS filters are "at most" thresholds on either side (they
find the bad calls); jitter, RTCP fraction lost, loss bursts and delay buckets are "at
least" thresholds on either side. A side the sniffer did not measure (NULL) never matches.
"""

from __future__ import annotations

import pytest
from django.test import Client

from api.legacy.sql_filters import QUALITY_FILTERS
from tests.api.legacy.test_sql_php_support import error, ids, send, session_client
from tests.factories import make_call

LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}


@pytest.fixture
def client(db) -> Client:
    return session_client()


def matching(client: Client, **fields) -> set[int]:
    return set(ids(send({**LISTING, "limit": 100, **fields}, client=client)))


def test_every_filter_of_the_spec_is_declared():
    spec = {"fmosf1", "fmosf2", "fmosadapt", "frtcp_maxjitter", "frtcp_avgjitter"}
    spec |= {"frtcp_maxfr", "frtcp_avgfr", "f_d50", "f_d70", "f_d90"}
    spec |= {f"floss{n}" for n in range(1, 11)} | {"f_d120", "f_d150", "f_d200", "f_d300"}
    assert set(QUALITY_FILTERS) == spec


# --- MOS: at most, either side ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "param,column", [("fmosf1", "f1"), ("fmosf2", "f2"), ("fmosadapt", "adapt")]
)
def test_mos_filters_find_calls_with_a_mos_at_most_the_value_on_either_side(client, param, column):
    good = make_call(**{f"a_mos_{column}_mult10": 45, f"b_mos_{column}_mult10": 44}).ID
    bad_a = make_call(**{f"a_mos_{column}_mult10": 30, f"b_mos_{column}_mult10": 45}).ID
    bad_b = make_call(**{f"a_mos_{column}_mult10": 45, f"b_mos_{column}_mult10": 35}).ID
    make_call()  # not measured: never matches
    # another MOS kind being bad does not count
    other = "f2" if column != "f2" else "f1"
    make_call(**{f"a_mos_{other}_mult10": 10, f"a_mos_{column}_mult10": 45})
    assert matching(client, **{param: "3.5"}) == {bad_a, bad_b}
    assert matching(client, **{param: "3"}) == {bad_a}
    assert matching(client, **{param: "2.9"}) == set()
    assert matching(client, **{param: 4.4}) == {bad_a, bad_b, good}
    assert matching(client, **{param: "3,5"}) == {bad_a, bad_b}  # decimal comma


@pytest.mark.django_db
def test_a_mos_above_5_is_refused(client):
    assert error(send({**LISTING, "fmosf1": "45"}, client=client)) == (
        "params",
        "fmosf1: must be at most 5",
    )


# --- jitter and RTCP fraction lost: at least, either side ------------------------------------


@pytest.mark.django_db
def test_rtcp_maxjitter_finds_calls_with_at_least_that_many_ms(client):
    low = make_call(a_rtcp_maxjitter=5, b_rtcp_maxjitter=3).ID
    high_a = make_call(a_rtcp_maxjitter=40, b_rtcp_maxjitter=2).ID
    high_b = make_call(a_rtcp_maxjitter=1, b_rtcp_maxjitter=25).ID
    make_call()
    assert matching(client, frtcp_maxjitter=25) == {high_a, high_b}
    assert matching(client, frtcp_maxjitter="26") == {high_a}
    assert matching(client, frtcp_maxjitter=5) == {low, high_a, high_b}


@pytest.mark.django_db
def test_rtcp_avgjitter_compares_ms_against_the_mult10_column(client):
    low = make_call(a_rtcp_avgjitter_mult10=20, b_rtcp_avgjitter_mult10=10).ID
    high_b = make_call(a_rtcp_avgjitter_mult10=5, b_rtcp_avgjitter_mult10=155).ID
    make_call()
    assert matching(client, frtcp_avgjitter="15.5") == {high_b}
    assert matching(client, frtcp_avgjitter="15.6") == set()
    assert matching(client, frtcp_avgjitter=2) == {low, high_b}


@pytest.mark.django_db
def test_rtcp_fraction_lost_filters_take_percent(client):
    # raw 0..255 scale: 26 ≈ 10.2 %, 13 ≈ 5.1 %; avg ×10: 130 ≈ 5.1 %, 60 ≈ 2.3 %
    ten = make_call(a_rtcp_maxfr=26, a_rtcp_avgfr_mult10=130).ID
    five = make_call(b_rtcp_maxfr=13, b_rtcp_avgfr_mult10=60).ID
    make_call(a_rtcp_maxfr=0, b_rtcp_maxfr=0)
    assert matching(client, frtcp_maxfr=10) == {ten}
    assert matching(client, frtcp_maxfr=5) == {ten, five}
    assert matching(client, frtcp_avgfr=5) == {ten}
    assert matching(client, frtcp_avgfr="2") == {ten, five}
    assert error(send({**LISTING, "frtcp_maxfr": 101}, client=client))[1] == (
        "frtcp_maxfr: must be at most 100"
    )


# --- loss bursts and delay buckets: at least, either side ------------------------------------

HISTOGRAM = [(f"floss{n}", f"sl{n}") for n in range(1, 11)] + [
    (f"f_d{n}", f"d{n}") for n in (50, 70, 90, 120, 150, 200, 300)
]


@pytest.mark.django_db
@pytest.mark.parametrize("param,column", HISTOGRAM)
def test_histogram_filters_find_calls_with_at_least_that_many_events(client, param, column):
    other = "sl2" if column != "sl2" else "sl3"
    three_a = make_call(**{f"a_{column}": 3, f"b_{column}": 0}).ID
    one_b = make_call(**{f"a_{column}": 0, f"b_{column}": 1}).ID
    make_call(**{f"a_{other}": 9})  # another bucket does not count
    make_call()  # not measured
    assert matching(client, **{param: 1}) == {three_a, one_b}
    assert matching(client, **{param: "2"}) == {three_a}
    assert matching(client, **{param: 4}) == set()


@pytest.mark.django_db
def test_quality_filters_combine_with_and(client):
    both = make_call(a_mos_f1_mult10=30, a_sl1=5).ID
    make_call(a_mos_f1_mult10=30)
    make_call(a_sl1=5, a_mos_f1_mult10=45)
    assert matching(client, fmosf1=3.5, floss1=1) == {both}


@pytest.mark.django_db
def test_a_quality_filter_value_must_be_a_number(client):
    assert error(send({**LISTING, "floss3": "many"}, client=client)) == (
        "params",
        "floss3: expected a number, got 'many'",
    )
    assert error(send({**LISTING, "f_d50": "-1"}, client=client))[1] == (
        "f_d50: must be a number of at least 0"
    )
