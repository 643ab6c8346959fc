"""/metrics: protection, the window's call metrics against factory rows, one cached query,
and failures that leave the rest of the answer intact."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cdr import telemetry
from monitoring import collect
from tests.factories import make_call, sensor
from tests.monitoring.test_metrics_support import TOKEN, URL, scrape

# --- protection -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_off_unless_configured(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_IPS = []
    response = Client().get(URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404 and response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"{TOKEN}"],
)
def test_a_wrong_token_gets_401_without_detail(metrics_on, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = Client().get(URL, headers=headers)
    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_the_right_token_gets_the_metrics(metrics_on):
    samples = scrape()
    assert samples.value("vmgui_metrics_window_seconds") == 300


@pytest.mark.django_db
def test_openmetrics_is_answered_when_asked_for(metrics_on):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    response = Client().get(URL, headers={"Authorization": f"Bearer {TOKEN}", "Accept": accept})
    assert response["Content-Type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    assert families["vmgui_metrics_window_seconds"].samples[0].value == 300


@pytest.mark.django_db
def test_an_ip_allow_list_alone_protects_it(metrics_on):
    metrics_on.METRICS_TOKEN = ""
    metrics_on.METRICS_ALLOW_IPS = ["10.1.0.0/16", "::1"]
    inside = Client(REMOTE_ADDR="10.1.2.3").get(URL)
    assert inside.status_code == 200 and b"vmgui_metrics_window_seconds" in inside.content
    assert Client(REMOTE_ADDR="::1").get(URL).status_code == 200
    outside = Client(REMOTE_ADDR="10.2.0.1").get(URL)
    assert outside.status_code == 403 and outside.content == b""
    spoofed = Client(REMOTE_ADDR="10.2.0.1").get(URL, headers={"X-Forwarded-For": "10.1.2.3"})
    assert spoofed.status_code == 403


@pytest.mark.django_db
def test_token_and_allow_list_together_need_both(metrics_on):
    metrics_on.METRICS_ALLOW_IPS = ["127.0.0.1"]
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert Client(REMOTE_ADDR="127.0.0.1").get(URL, headers=bearer).status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.2").get(URL, headers=bearer).status_code == 403
    assert Client(REMOTE_ADDR="127.0.0.1").get(URL).status_code == 401


@pytest.mark.django_db
def test_only_get_is_answered(metrics_on):
    response = Client().post(URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


# --- the window's calls ---------------------------------------------------------------------


@pytest.fixture
def calls(db):
    """Calls around the window 10:05:00 - 10:10:00 (UTC) on two sensors and none."""
    sensor(1, "edge-1")
    sensor(2, "edge-2")
    make_call("2026-11-27 10:06:00", id_sensor=1, mos_min_mult10=45, packet_loss_perc_mult1000=0)
    make_call(
        "2026-11-27 10:07:00",
        id_sensor=1,
        connect_duration=10,
        mos_min_mult10=30,
        packet_loss_perc_mult1000=5000,
    )
    make_call("2026-11-27 10:08:00", id_sensor=1, response="486 Busy Here", connect_duration=None)
    make_call(
        "2026-11-27 10:09:00",
        id_sensor=2,
        response="503 Service Unavailable",
        connect_duration=12,
        mos_min_mult10=40,
        packet_loss_perc_mult1000=1000,
    )
    make_call("2026-11-27 10:05:00", id_sensor=2, response="404 Not Found", connect_duration=None)
    make_call("2026-11-27 10:09:30", id_sensor=None, connect_duration=20)
    make_call("2026-11-27 10:04:59", id_sensor=1)  # before the window
    make_call("2026-11-27 10:10:01", id_sensor=1)  # after its end


@pytest.mark.django_db
def test_calls_by_sensor_and_last_sip_response(metrics_on, calls):
    samples = scrape()
    keys = ("sensor", "sensor_name", "sip_code", "sip_response")
    assert samples.by("vmgui_calls", *keys) == {
        ("1", "edge-1", "200", "200 OK"): 2,
        ("1", "edge-1", "486", "486 Busy Here"): 1,
        ("2", "edge-2", "503", "503 Service Unavailable"): 1,
        ("2", "edge-2", "404", "404 Not Found"): 1,
        ("-1", "", "200", "200 OK"): 1,
    }


@pytest.mark.django_db
def test_asr_acd_mos_and_loss_per_sensor(metrics_on, calls):
    samples = scrape()

    def per_sensor(name):
        return samples.by(name, "sensor")

    assert per_sensor("vmgui_calls_answered") == {("1",): 2, ("2",): 1, ("-1",): 1}
    assert per_sensor("vmgui_asr_ratio") == pytest.approx({("1",): 2 / 3, ("2",): 0.5, ("-1",): 1})
    assert per_sensor("vmgui_acd_seconds") == pytest.approx({("1",): 19, ("2",): 12, ("-1",): 20})
    assert per_sensor("vmgui_mos_avg") == pytest.approx({("1",): 3.75, ("2",): 4.0})
    assert per_sensor("vmgui_mos_min") == pytest.approx({("1",): 3.0, ("2",): 4.0})
    assert per_sensor("vmgui_packet_loss_avg_ratio") == pytest.approx({("1",): 0.025, ("2",): 0.01})
    assert per_sensor("vmgui_packet_loss_max_ratio") == pytest.approx({("1",): 0.05, ("2",): 0.01})
    assert samples.value("vmgui_metrics_source_up", source="database") == 1


@pytest.mark.django_db
def test_the_window_follows_the_setting(metrics_on, calls):
    metrics_on.METRICS_WINDOW_SECONDS = 60  # 10:09:00 - 10:10:00
    samples = scrape()
    assert samples.value("vmgui_metrics_window_seconds") == 60
    assert sum(s.value for s in samples.find("vmgui_calls")) == 2


@pytest.mark.django_db
def test_an_empty_window_has_no_call_series(metrics_on):
    samples = scrape()
    assert samples.find("vmgui_calls") == [] and samples.find("vmgui_asr_ratio") == []
    assert samples.value("vmgui_metrics_source_up", source="database") == 1


def _cdr_statements(queries) -> list[str]:
    qn = connection.ops.quote_name
    return [q["sql"] for q in queries if f"FROM {qn('cdr')}" in q["sql"]]


@pytest.mark.django_db
def test_a_scrape_is_one_grouped_query_bounded_by_calldate(metrics_on, calls):
    with CaptureQueriesContext(connection) as queries:
        scrape()
    (sql,) = _cdr_statements(queries.captured_queries)
    assert "GROUP BY" in sql
    qn = connection.ops.quote_name
    assert f"{qn('cdr')}.{qn('calldate')} >=" in sql and f"{qn('cdr')}.{qn('calldate')} <=" in sql


@pytest.mark.django_db
def test_the_snapshot_is_cached_and_shared_through_a_file(metrics_on, calls):
    metrics_on.METRICS_CACHE_SECONDS = 60
    first = scrape()
    with CaptureQueriesContext(connection) as queries:
        make_call("2026-11-27 10:09:45", id_sensor=2)
        second = scrape()
    assert _cdr_statements(queries.captured_queries) == []
    assert second.by("vmgui_calls", "sensor", "sip_code") == first.by(
        "vmgui_calls", "sensor", "sip_code"
    )
    # The cache is a file every worker process reads; once it is older than the setting a
    # scrape reads the database again (and sees the new call).
    path = collect.cache_dir() / "snapshot.json"
    cached = json.loads(path.read_text())
    cached["taken_at"] -= 61
    path.write_text(json.dumps(cached))
    third = scrape()
    assert third.value("vmgui_calls", sensor="2", sip_code="200") == 1


# --- failures --------------------------------------------------------------------------------


def _fail_on_cdr(execute, sql, params, many, context):
    if "cdr" in sql and "GROUP BY" in sql:
        raise OperationalError(2013, "Lost connection to server during query")
    return execute(sql, params, many, context)


@pytest.mark.django_db
def test_a_database_failure_answers_the_rest_and_counts_it(metrics_on, calls):
    metrics_on.METRICS_ACTIVE_CALLS = True  # the sensor (a closed manager port) is still asked
    before = telemetry.REGISTRY.get_sample_value(
        "vmgui_metrics_errors_total", {"source": "database"}
    )
    db_before = telemetry.REGISTRY.get_sample_value(
        "vmgui_db_errors_total", {"error": "OperationalError"}
    )
    with connection.execute_wrapper(_fail_on_cdr):
        samples = scrape()
    assert samples.value("vmgui_metrics_source_up", source="database") == 0
    assert samples.find("vmgui_calls") == [] and samples.find("vmgui_asr_ratio") == []
    assert samples.value("vmgui_metrics_errors_total", source="database") == (before or 0) + 1
    assert samples.value("vmgui_db_errors_total", error="OperationalError") == (db_before or 0) + 1
    # What could be read is still there: the sensors and the window.
    assert samples.value("vmgui_sensor_up", sensor="1") == 0
    assert samples.value("vmgui_metrics_window_seconds") == 300


@pytest.mark.django_db
def test_an_unwritable_cache_still_answers(metrics_on, calls, tmp_path):
    metrics_on.METRICS_CACHE_SECONDS = 60
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    metrics_on.DATA_DIR = blocker
    samples = scrape()
    assert samples.value("vmgui_metrics_source_up", source="database") == 0
    assert samples.value("vmgui_metrics_errors_total", source="internal") >= 1


@pytest.mark.django_db
def test_no_per_user_scope_applies(metrics_on, calls):
    """An operator endpoint: the token reads every sensor's calls, logged in or not."""
    from tests.api.legacy.test_sql_php_support import session_client

    client = session_client()  # a session changes nothing
    assert scrape(client).value("vmgui_calls", sensor="2", sip_code="503") == 1
