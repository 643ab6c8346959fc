"""/reports/ and /reports/<id>/: the reports a user may see, one report run over days of the
user's zone (presets too) as tiles, SVG charts and tables whose figures are the service's and
independent SQL's for the user's scope, and the PNG."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.permissions import effective
from accounts.preferences import save_preferences
from cdr.reports.service import Period, run
from gui.reports.period import preset_days
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.gui.reports.support import report, table_rows, text_of
from tests.gui.support import gui_user, signed_in

pytestmark = pytest.mark.django_db
ONE_DAY = {"from": DAY, "to": DAY}


def _user(name: str):
    return get_user_model().objects.get(username=name)


def _period(first: str, last: str, zone: str) -> Period:
    tz = zoneinfo.ZoneInfo(zone)
    start = dt.datetime.combine(dt.date.fromisoformat(first), dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(
        dt.date.fromisoformat(last) + dt.timedelta(days=1), dt.time.min, tzinfo=tz
    ) - dt.timedelta(microseconds=1)
    return Period(start, end)


def _wall(moment: dt.datetime) -> str:
    """An aware moment as the sniffer's wall clock (what sql_report compares calldate with)."""
    local = moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return local.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_the_list_shows_shared_reports_and_ones_own_but_not_other_users_private_ones():
    client = signed_in("eva", ("can_cdr",))
    other = gui_user("petr", ("can_cdr",))
    report("Denní přehled 📞", shared=True)
    report("Evin soukromý", owner=_user("eva"), shared=False)
    hidden = report("Petrův tajný 日本", owner=other, shared=False)
    body = client.get("/reports/").content.decode()
    assert "Denní přehled 📞" in body and "Evin soukromý" in body
    assert "Petrův tajný" not in body
    # a private report of another user does not exist for this one
    response = client.get(f"/reports/{hidden.pk}/", ONE_DAY)
    assert response.status_code == 404 and "Petrův tajný" not in response.content.decode()


def test_a_user_without_can_cdr_sees_the_list_but_cannot_run_a_report():
    client = signed_in("viewer", ("can_activecalls",))
    shared = report("Carrier ASR")
    body = client.get("/reports/").content.decode()
    assert "Carrier ASR" in body
    assert f'href="/reports/{shared.pk}/"' not in body  # no link to a page that refuses
    assert "can_cdr" in body
    response = client.get(f"/reports/{shared.pk}/", ONE_DAY)
    assert response.status_code == 403 and b"can_cdr" in response.content
    assert client.get(f"/reports/{shared.pk}/chart.png", ONE_DAY).status_code == 403


def test_a_run_shows_the_services_figures_and_those_of_direct_sql():
    seed_calls()
    client = signed_in("ops", ("can_cdr",))
    stored = report("Všechno", top_n=5)
    response = client.get(f"/reports/{stored.pk}/", ONE_DAY)
    assert response.status_code == 200
    body = response.content.decode()
    period = _period(DAY, DAY, settings.TIME_ZONE)
    expected = run(stored, period, effective(_user("ops")).scope)
    assert response.context["data"] == expected
    sql = sql_report(top=5)
    assert text_of(body, "summary-calls") == str(sql["summary"]["calls"]) == "60"
    assert text_of(body, "summary-answered") == str(sql["summary"]["answered"])
    assert text_of(body, "summary-asr") == f"{sql['summary']['asr']:.2f}"
    assert text_of(body, "summary-mos_avg") == f"{sql['summary']['mos_avg']:.2f}"
    callers = table_rows(body, "table-top_callers")
    assert [row[0] for row in callers] == [r["number"] for r in sql["top_callers"]]
    assert [row[1] for row in callers] == [str(r["calls"]) for r in sql["top_callers"]]
    responses = table_rows(body, "table-sip_responses")
    assert [(row[0], row[1]) for row in responses] == [
        (r["text"], str(r["calls"])) for r in sql["sip_responses"]
    ]
    hours = table_rows(body, "table-hours")
    assert len(hours) == 24
    assert [row[1] for row in hours] == [str(h["calls"]) for h in sql["hours"]]
    sensors = table_rows(body, "table-sensors")
    assert [row[1] for row in sensors] == [str(s["calls"]) for s in sql["sensors"]]


def test_a_restricted_user_sees_only_the_figures_of_their_calls():
    seed_calls()
    client = signed_in("brno", ("can_cdr",), enable_sensors="2")
    stored = report("Per sensor", filters={"sip_response": "2xx,4xx"})
    body = client.get(f"/reports/{stored.pk}/", ONE_DAY).content.decode()
    sql = sql_report(
        where="id_sensor = 2 AND lastSIPresponseNum >= 200 AND lastSIPresponseNum < 500"
    )
    everything = sql_report(where="lastSIPresponseNum >= 200 AND lastSIPresponseNum < 500")
    assert 0 < sql["summary"]["calls"] < everything["summary"]["calls"]
    assert text_of(body, "summary-calls") == str(sql["summary"]["calls"])
    assert [row[0] for row in table_rows(body, "table-sensors")] == ["brno-core"]
    assert "prague-edge" not in body


def test_the_days_are_the_users_own_and_times_are_shown_in_their_zone_and_format():
    seed_calls()
    client = signed_in("tokyo", ("can_cdr",))
    save_preferences(_user("tokyo"), time_zone="Asia/Tokyo", date_format="d.m.Y H:i:s")
    stored = report("東京の日報")
    body = client.get(f"/reports/{stored.pk}/", ONE_DAY).content.decode()
    period = _period(DAY, DAY, "Asia/Tokyo")
    sql = sql_report(_wall(period.start), _wall(period.end))
    utc_day = sql_report()
    assert sql["summary"]["calls"] != utc_day["summary"]["calls"]  # another slice of calls
    assert text_of(body, "summary-calls") == str(sql["summary"]["calls"])
    assert "27.11.2026 00:00:00 – 27.11.2026 23:59:59" in body
    assert "Asia/Tokyo" in body and "東京の日報" in body


@pytest.mark.parametrize("preset", ["yesterday", "last7", "month"])
def test_a_preset_runs_over_its_days_in_the_users_zone(preset):
    client = signed_in(f"pre-{preset}", ("can_cdr",))
    save_preferences(
        _user(f"pre-{preset}"), time_zone="America/New_York", date_format="Y-m-d H:i:s"
    )
    stored = report("Presets")
    response = client.get(f"/reports/{stored.pk}/", {"period": preset})
    assert response.status_code == 200
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("America/New_York")).date()
    first, last = preset_days(preset, today)
    chosen = response.context["chosen"]
    assert (chosen.first, chosen.last) == (first, last)
    assert chosen.period == _period(first.isoformat(), last.isoformat(), "America/New_York")
    body = response.content.decode()
    assert f'value="{first.isoformat()}"' in body and 'aria-current="true"' in body


def test_without_a_period_it_shows_yesterday():
    client = signed_in("lazy", ("can_cdr",))
    stored = report("Default")
    chosen = client.get(f"/reports/{stored.pk}/").context["chosen"]
    assert chosen.preset == "yesterday" and chosen.first == chosen.last


@pytest.mark.parametrize(
    "query, message",
    [
        ({"from": "27.11.2026", "to": DAY}, "from: expected a date"),
        ({"from": DAY, "to": "2026-11-20"}, "the last day is before the first day"),
        ({"from": "2020-01-01", "to": DAY}, "longer than"),
        ({"period": "forever"}, "unknown preset"),
        ({"from": "9999-12-31"}, "from: expected a date"),
    ],
)
def test_a_bad_period_is_a_clear_message_not_a_traceback(query, message):
    client = signed_in("typo", ("can_cdr",))
    stored = report("Typos")
    response = client.get(f"/reports/{stored.pk}/", query)
    assert response.status_code == 400
    assert message in text_of(response.content.decode(), "report-error")


def test_the_chart_is_inline_svg_with_a_text_alternative():
    seed_calls()
    client = signed_in("svg", ("can_cdr",))
    stored = report("Chart", metrics=["hours", "days"])
    body = client.get(f"/reports/{stored.pk}/", {"from": "2026-11-26", "to": DAY}).content
    body = body.decode()
    sql = sql_report()
    assert '<svg viewBox="0 0 720 240"' in body and 'role="img"' in body
    assert 'aria-labelledby="chart-hours-title chart-hours-desc"' in body
    busy = max(sql["hours"], key=lambda h: h["calls"])
    label = f"{busy['hour']:02d}:00–{busy['hour']:02d}:59"
    assert f"<title>{label}: {busy['calls']} calls, {busy['answered']} answered</title>" in body
    assert 'id="chart-days"' in body  # more than one day: the per-day chart too
    days = {row[0]: row[1] for row in table_rows(body, "table-days")}
    assert days[DAY] == str(sql["summary"]["calls"])
    assert days["2026-11-26"] == "1"  # the call just before midnight


def test_the_png_is_the_services_image_of_the_chosen_days():
    from PIL import Image

    seed_calls()
    client = signed_in("png", ("can_cdr",))
    stored = report("Daily Summary")
    body = client.get(f"/reports/{stored.pk}/", ONE_DAY).content.decode()
    assert f'href="/reports/{stored.pk}/chart.png?from={DAY}&amp;to={DAY}"' in body
    response = client.get(f"/reports/{stored.pk}/chart.png", ONE_DAY)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert 'filename="report-daily-summary-2026-11-27.png"' in response["Content-Disposition"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.width == 1200
    assert client.get(f"/reports/{stored.pk}/chart.png", {"from": "x"}).status_code == 400


def test_a_report_whose_filter_no_longer_runs_says_why():
    client = signed_in("stale", ("can_cdr",))
    stored = report("Stale header", filters={"header.X-Gone": "ACME%"})
    response = client.get(f"/reports/{stored.pk}/", ONE_DAY)
    assert response.status_code == 400
    assert "This report cannot run" in text_of(response.content.decode(), "report-error")


def test_an_anonymous_visitor_is_sent_to_the_login_page():
    response = signed_in("someone").__class__().get("/reports/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/reports/")
