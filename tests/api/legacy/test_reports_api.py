"""api.php reportSummary: a report defined like in the admin, run on real rows, as JSON (every
figure recomputed directly in SQL) or as a PNG; unknown names list the existing reports."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import given, note
from hypothesis import strategies as st
from PIL import Image

import tests.hypothesis_profiles  # noqa: F401 - registers and loads the profile
from accounts.models import UserProfile
from cdr.reports.models import ReportDefinition
from tests.api.legacy.test_api_php_support import (
    FAST_HASHERS,
    PASSWORD,
    URL,
    call_api,
    make_api_user,
    ok,
    reason,
)
from tests.api.legacy.test_properties import JSON_VALUE
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.factories import make_call

PARAMS = {"report_name": "Daily Summary", "datetime_from": DAY, "datetime_to": DAY, "json": True}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def daily(db):
    make_api_user()
    return ReportDefinition.objects.create(description="Daily Summary")


def summary(params=None, **kw) -> dict:
    return call_api({**PARAMS, **(params or {})}, task="reportSummary", **kw)


def png(params=None, user="apiuser"):
    fields = {"task": "reportSummary", "user": user, "password": PASSWORD}
    fields["params"] = json.dumps({**PARAMS, "json": False, **(params or {})})
    return Client().get(URL, fields)


@pytest.mark.django_db
def test_it_answers_every_figure_of_a_report_as_json(daily):
    seed_calls()
    body = ok(summary())
    expected = sql_report()
    for key in ("summary", "sip_responses", "top_callers", "top_called", "sensors", "hours"):
        assert body[key] == expected[key], key
    assert body["report_name"] == "Daily Summary"
    assert (body["datetime_from"], body["datetime_to"]) == (f"{DAY} 00:00:00", f"{DAY} 23:59:59")
    assert body["report"]["filters"] == {} and body["report"]["id"] == daily.pk
    assert body["days"][0]["calls"] == body["summary"]["calls"] == 60


@pytest.mark.django_db
def test_it_applies_the_reports_stored_filters(daily):
    seed_calls()
    daily.filters = {"sip_response": "4xx", "sensor": "1"}
    daily.save()
    body = ok(summary())
    expected = sql_report(where="id_sensor = 1 AND lastSIPresponseNum BETWEEN 400 AND 499")
    assert body["summary"] == expected["summary"] and body["summary"]["answered"] == 0
    assert body["top_callers"] == expected["top_callers"]


@pytest.mark.django_db
def test_it_answers_a_png_image_by_default(daily):
    seed_calls()
    response = png({"json": None})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (f'inline; filename="report-daily-summary-{DAY}.png"')
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.width == 1200 and image.height > 900


@pytest.mark.django_db
def test_it_lists_the_existing_report_names_for_an_unknown_name(daily):
    ReportDefinition.objects.create(description="Carrier ASR")
    text = reason(summary({"report_name": "Daily Report"}))
    assert text.startswith("no report named 'Daily Report'")
    assert "reports: 'Carrier ASR', 'Daily Summary'" in text
    assert "report_name must equal a report's Description" in text


@pytest.mark.django_db
def test_it_matches_the_report_name_case_insensitively(daily):
    make_call(f"{DAY} 10:00:00")
    assert ok(summary({"report_name": "daily SUMMARY"}))["summary"]["calls"] == 1


@pytest.mark.django_db
def test_it_hides_and_refuses_another_users_private_report(daily):
    owner = get_user_model().objects.create_user("alice", password=PASSWORD)
    ReportDefinition.objects.create(description="Alice private", shared=False, owner=owner)
    text = reason(summary({"report_name": "Alice private"}))
    assert (
        "no report named 'Alice private'" in text and "'Alice private'" not in text.split("(", 1)[1]
    )
    UserProfile.objects.create(user=owner, can_cdr=True)
    assert ok(summary({"report_name": "Alice private"}, user="alice"))["success"]


@pytest.mark.django_db
def test_it_refuses_reportsummary_without_can_cdr(db):
    make_api_user(can_cdr=False)
    ReportDefinition.objects.create(description="Daily Summary")
    assert "needs the can_cdr permission" in reason(summary())


@pytest.mark.django_db
def test_it_computes_the_figures_under_the_callers_restrictions(daily):
    seed_calls()
    UserProfile.objects.filter(user__username="apiuser").update(enable_sensors="2")
    body = ok(summary())
    assert body["summary"] == sql_report(where="id_sensor = 2")["summary"]
    assert [s["id_sensor"] for s in body["sensors"]] == [2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"report_name": ""}, "params.report_name: required"),
        ({"datetime_from": None}, "params.datetime_from: required"),
        ({"datetime_from": "yesterday"}, "params.datetime_from: cannot read 'yesterday'"),
        ({"datetime_to": "2026-11-01"}, "datetime_to is before datetime_from"),
        ({"datetime_from": "2020-01-01"}, "the period is longer than 366 days"),
        ({"json": "maybe"}, "params.json: expected 1/0 or true/false"),
    ],
)
def test_it_refuses_bad_parameters_with_a_reason(daily, params, expected):
    assert expected in reason(summary(params))


@pytest.mark.django_db
def test_it_accepts_the_specs_request_with_dates_and_times(daily):
    make_call(f"{DAY} 10:00:00")
    make_call(f"{DAY} 12:00:00")
    body = ok(summary({"datetime_from": f"{DAY} 09:00:00", "datetime_to": f"{DAY}T11:00:00Z"}))
    assert body["summary"]["calls"] == 1


@pytest.mark.mysql
def test_it_summarizes_the_real_sniffers_calls(sniffer_dump):
    sniffer_dump("db_notar.sql")
    make_api_user()
    ReportDefinition.objects.create(description="Daily Summary")
    body = ok(summary())
    expected = sql_report()
    assert body["summary"]["calls"] == 13
    for key in ("summary", "sip_responses", "top_callers", "top_called", "sensors", "hours"):
        assert body[key] == expected[key], key
    assert body["summary"]["mos_avg"] is not None and body["summary"]["loss_max"] > 0


@pytest.mark.django_db
@given(
    name=st.sampled_from(["report_name", "datetime_from", "datetime_to", "json"]),
    value=JSON_VALUE,
)
def test_it_answers_every_value_of_every_parameter_without_an_internal_error(name, value):
    if not ReportDefinition.objects.exists():
        make_api_user()
        ReportDefinition.objects.create(description="Daily Summary")
    params = {**PARAMS, name: value}
    note(repr(params))
    response = Client().get(
        URL,
        {
            "task": "reportSummary",
            "user": "apiuser",
            "password": PASSWORD,
            "params": json.dumps(params),
        },
    )
    assert response.status_code == 200
    if response["Content-Type"] == "image/png":
        return
    body = json.loads(response.content)
    assert body["success"] or "internal error" not in body["errors"]["reason"], body
