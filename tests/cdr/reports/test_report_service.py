"""cdr.reports.service: every figure of a report equals the same figure computed directly in
SQL on real rows, under the definition's filters and the caller's scope, in grouped queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdr.query.scope import CdrScope
from cdr.reports.models import ReportDefinition
from cdr.reports.service import Period, check_period, find_report, summarize, visible_reports
from cdr.reports.spec import ReportError
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.factories import aware, make_call

PERIOD = Period(aware(f"{DAY} 00:00:00"), aware(f"{DAY} 23:59:59.999999"))
ALL = CdrScope.unrestricted()


def assert_same(got: dict, expected: dict) -> None:
    for key in ("summary", "sip_responses", "top_callers", "top_called", "sensors", "hours"):
        assert got[key] == expected[key], key


@pytest.mark.django_db
def test_it_computes_every_figure_like_direct_sql():
    seed_calls()
    got = summarize({}, PERIOD, ALL)
    expected = sql_report()
    assert got["summary"]["calls"] == 60  # the two calls outside the day are not counted
    assert_same(got, expected)
    assert [d["date"] for d in got["days"]] == [DAY]
    assert {k: v for k, v in got["days"][0].items() if k != "date"} == expected["by_day"][DAY]


@pytest.mark.django_db
def test_it_applies_the_definition_filters():
    seed_calls()
    got = summarize({"caller": ["1001", "+420%"], "connected": True}, PERIOD, ALL)
    expected = sql_report(
        where="(caller = %s OR caller LIKE %s) AND connect_duration IS NOT NULL",
        params=["1001", "+420%"],
    )
    assert 0 < got["summary"]["calls"] == got["summary"]["answered"]
    assert_same(got, expected)


@pytest.mark.django_db
def test_it_counts_only_the_rows_the_callers_scope_allows():
    seed_calls()
    got = summarize({"sip_response": "2xx,4xx"}, PERIOD, CdrScope(sensors=(2,)))
    expected = sql_report(
        where="id_sensor = 2 AND lastSIPresponseNum >= 200 AND lastSIPresponseNum < 500"
    )
    assert got["summary"]["calls"] > 0
    assert [s["id_sensor"] for s in got["sensors"]] == [2]
    assert_same(got, expected)


@pytest.mark.django_db
def test_it_answers_empty_figures_for_a_period_without_calls():
    got = summarize({}, PERIOD, ALL)
    assert got["summary"] == {
        "calls": 0, "answered": 0, "unanswered": 0, "asr": None, "acd": None, "minutes": 0.0,
        "mos_avg": None, "mos_min": None, "loss_avg": None, "loss_max": None,
        "jitter_avg": None, "jitter_max": None, "mos_calls": 0,
    }  # fmt: skip
    assert got["sip_responses"] == got["top_callers"] == got["sensors"] == []
    assert len(got["hours"]) == 24 and all(h["calls"] == 0 for h in got["hours"])


@pytest.mark.django_db
def test_it_lists_every_day_of_a_longer_period():
    make_call("2026-11-25 10:00:00")
    make_call("2026-11-27 11:00:00", response="486 Busy Here", connect_duration=None)
    period = Period(aware("2026-11-24 00:00:00"), aware("2026-11-27 23:59:59"))
    days = summarize({}, period, ALL, sections=["days"])["days"]
    assert [d["date"] for d in days] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert [(d["calls"], d["answered"]) for d in days] == [(0, 0), (1, 1), (0, 0), (1, 0)]


@pytest.mark.django_db
def test_it_shows_only_the_selected_sections_and_top_n_rows():
    seed_calls()
    got = summarize({}, PERIOD, ALL, sections=["top_callers"], top_n=2)
    assert set(got) == {"summary", "top_callers"}
    assert got["top_callers"] == sql_report(top=2)["top_callers"]


@pytest.mark.django_db
def test_it_runs_every_aggregation_in_the_database():
    seed_calls(n=40)
    with CaptureQueriesContext(connection) as few:
        summarize({}, PERIOD, ALL)
    seed_calls(n=200, seed=8)
    with CaptureQueriesContext(connection) as many:
        summarize({}, PERIOD, ALL)
    # The same statements whatever the number of rows: grouped aggregates, never a row fetch.
    assert len(few.captured_queries) == len(many.captured_queries) <= 8
    on_cdr = [q["sql"] for q in many.captured_queries if re.search(r"FROM [`\"]cdr[`\"]", q["sql"])]
    # (sensor, day, hour) for the summary, sensors, hours and days; SIP responses; callers; called
    assert len(on_cdr) == 4
    assert all("COUNT(" in sql and "GROUP BY" in sql for sql in on_cdr)


@pytest.mark.django_db
def test_it_refuses_a_period_that_ends_before_it_starts_or_is_too_long(settings):
    settings.REPORT_MAX_DAYS = 31
    start = aware("2026-11-01 00:00:00")
    with pytest.raises(ReportError, match="before"):
        check_period(start, start - dt.timedelta(seconds=1))
    with pytest.raises(ReportError, match="longer than 31 days"):
        check_period(start, start + dt.timedelta(days=32))
    assert check_period(start, start + dt.timedelta(days=31)).end.day == 2


@pytest.mark.django_db
def test_it_finds_a_report_by_its_description_and_lists_the_names_otherwise():
    ReportDefinition.objects.create(description="Daily Summary")
    ReportDefinition.objects.create(description="Carrier ASR")
    visible = visible_reports(None, is_admin=True)
    assert find_report("Daily Summary", visible).description == "Daily Summary"
    assert find_report("  daily summary ", visible).description == "Daily Summary"
    with pytest.raises(ReportError) as refused:
        find_report("Daily Report", visible)
    assert "no report named 'Daily Report'" in str(refused.value)
    assert "'Carrier ASR', 'Daily Summary'" in str(refused.value)
