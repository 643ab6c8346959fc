"""The chart above the list: calls per hour and the SIP-response mix from ONE grouped query;
its numbers are the rows' numbers, drawn as accessible inline SVG with a table alternative."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gui.cdrs import chart as charts
from tests.factories import make_call
from tests.gui.cdrs.listsupport import ALL_DAY, ids_of
from tests.gui.support import signed_in

RESPONSES = ["200 OK", "486 Busy Here", "503 Service Unavailable", "180 Ringing", "404 Not Found"]


@pytest.fixture
def calls(db) -> list[tuple[int, str, str, int]]:
    """(id, hour, response, sensor) of 40 calls over three hours and two sensors."""
    out = []
    for n in range(40):
        when = dt.datetime(2026, 11, 26, 9 + n % 3, (n * 7) % 60, n % 60)
        response = RESPONSES[(n * n + n // 3) % len(RESPONSES)]
        cdr = make_call(when.isoformat(" "), response=response, id_sensor=1 + n % 2,
                        connect_duration=20 if response == "200 OK" else None)  # fmt: skip
        out.append((cdr.ID, f"{when:%H}", response, 1 + n % 2))
    return out


def table(response) -> dict[str, dict[str, int]]:
    """The chart's table alternative: hour → {column: number}."""
    body = response.content.decode().split('id="chart-table"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', body)[1:]
    out = {}
    for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body):
        numbers = [int(v) for v in re.findall(r'<td class="num">(\d+)</td>', cells)]
        out[label[-5:-3]] = dict(zip(head, numbers, strict=True))
    return out


def test_the_chart_counts_exactly_the_calls_of_the_list(calls):
    client = signed_in("charter", ("can_cdr",))
    response = client.get("/cdrs/", {**ALL_DAY, "page_size": 200})
    assert sorted(ids_of(response)) == sorted(c[0] for c in calls)
    data = table(response)
    per_hour = Counter(h for _, h, _, _ in calls)
    for hour in ("09", "10", "11"):
        classes = Counter(charts.sip_class(int(r[:3])) for _, h, r, _ in calls if h == hour)
        assert data[hour]["Calls"] == per_hour[hour]
        assert data[hour]["Answered"] == sum(1 for _, h, r, _ in calls if h == hour and r[0] == "2")
        for name in charts.CLASSES:
            assert data[hour][name] == classes[name], (hour, name)
    assert all(v["Calls"] == 0 for k, v in data.items() if k not in ("09", "10", "11"))
    assert len(data) == 24  # every hour of the searched day, empty ones too
    body = response.content.decode()
    assert f'<span id="cdr-total">{len(calls)}</span> calls' in body
    # the mix with its numbers as text, and the SVG's accessible name and description
    total_4xx = sum(1 for _, _, r, _ in calls if r[0] == "4")
    assert f"4xx client failure: <strong>{total_4xx}</strong>" in body
    assert '<svg viewBox="0 0 800 190" role="img" aria-labelledby="chart-title chart-desc"' in body
    assert '<title id="chart-title">Calls per hour by SIP response class</title>' in body
    assert "no final response" in body  # 180 Ringing as the last response


def test_the_chart_and_the_count_are_one_grouped_query(calls):
    client = signed_in("counter", ("can_cdr",))
    with CaptureQueriesContext(connection) as captured:
        client.get("/cdrs/", ALL_DAY)
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"].upper()]
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(grouped) == 1 and counts == grouped


def test_a_restricted_user_charts_only_their_calls(calls):
    client = signed_in("sensor-one", ("can_cdr",), enable_sensors="1")
    response = client.get("/cdrs/", {**ALL_DAY, "page_size": 200})
    mine = [c for c in calls if c[3] == 1]
    assert sorted(ids_of(response)) == sorted(c[0] for c in mine)
    data = table(response)
    assert sum(v["Calls"] for v in data.values()) == len(mine)
    assert f'<span id="cdr-total">{len(mine)}</span> calls' in response.content.decode()


def test_a_week_is_charted_per_hour_and_a_month_per_day(db):
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    rows = [{"hour": start + dt.timedelta(days=3), "lastSIPresponseNum": 200, "cnt_all": 4,
             "cnt_ok": 4}]  # fmt: skip
    week = charts.build_chart(rows, start, start + dt.timedelta(days=7) - dt.timedelta(hours=1))
    assert week.unit == "hour" and len(week.buckets) == 168 and week.total == 4
    month = charts.build_chart(rows, start, start + dt.timedelta(days=30))
    assert month.unit == "day" and len(month.buckets) == 31
    assert [b.total for b in month.buckets].count(4) == 1
    years = charts.build_chart(rows, start - dt.timedelta(days=1000), start)
    assert years.unit == "month" and years.total == 4


def test_without_calls_there_is_no_chart_but_an_empty_list(db):
    client = signed_in("empty", ("can_cdr",))
    body = client.get("/cdrs/", ALL_DAY).content.decode()
    assert 'id="cdr-chart"' not in body and "No calls match this search." in body
    assert '<span id="cdr-total">0</span> calls' in body


def test_a_search_too_wide_to_count_in_time_shows_rows_without_a_total(calls, monkeypatch):
    from cdr.query import engine

    monkeypatch.setattr(engine, "hourly_counts", lambda *a, **k: None)  # over the budget
    client = signed_in("wide", ("can_cdr",))
    response = client.get("/cdrs/", ALL_DAY)
    body = response.content.decode()
    assert response.status_code == 200 and len(ids_of(response)) == 40
    assert "too many calls to count and chart" in body and 'id="cdr-chart"' not in body
