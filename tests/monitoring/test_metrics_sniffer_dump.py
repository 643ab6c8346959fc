"""/metrics over the REAL sniffer's database (db_notar.sql: 13 calls, fixtures calls.md).

The window ends at 04:09:00 UTC and lasts 5 minutes: it holds the 11 calls from 04:04:10 on
(IDs 2 and 4, at 04:03:38 and 04:03:52, are before it). The sniffer wrote no id_sensor, so
every call is on sensor "-1".
"""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring import collect
from tests.monitoring.test_metrics_support import scrape

END = dt.datetime(2026, 11, 27, 4, 9, tzinfo=dt.UTC)
# The six answered calls in the window: connect_duration, mos_min_mult10, loss (% x1000).
ANSWERED = {
    12: (5.307, 45, 0),
    1: (20.308, 45, 0),
    10: (8.304, 45, 0),
    11: (12.308, 37, 4333),  # the lossy call: 26 of 600 packets lost
    5: (6.304, 45, 0),
    6: (7.308, 45, 0),
}


@pytest.fixture
def real_calls(sniffer_dump, metrics_on, monkeypatch):
    sniffer_dump("db_notar.sql")
    monkeypatch.setattr(collect, "clock", lambda: END)


@pytest.mark.mysql
def test_real_calls_by_last_sip_response(real_calls):
    samples = scrape()
    assert samples.by("vmgui_calls", "sensor", "sensor_name", "sip_code", "sip_response") == {
        ("-1", "", "200", "200 OK"): 6,
        ("-1", "", "486", "486 Busy Here"): 1,
        ("-1", "", "487", "487 Request Terminated"): 1,
        ("-1", "", "503", "503 Service Unavailable"): 1,
        ("-1", "", "404", "404 Not Found"): 1,
        ("-1", "", "480", "480 Temporarily Unavailable"): 1,
    }


@pytest.mark.mysql
def test_real_asr_acd_mos_and_loss(real_calls):
    samples = scrape()
    connects = [c for c, _, _ in ANSWERED.values()]
    mos = [m for _, m, _ in ANSWERED.values()]
    loss = [p for _, _, p in ANSWERED.values()]
    assert samples.value("vmgui_calls_answered", sensor="-1") == 6
    assert samples.value("vmgui_asr_ratio", sensor="-1") == pytest.approx(6 / 11)
    assert samples.value("vmgui_acd_seconds", sensor="-1") == pytest.approx(sum(connects) / 6)
    assert samples.value("vmgui_mos_avg", sensor="-1") == pytest.approx(sum(mos) / 6 / 10)
    assert samples.value("vmgui_mos_min", sensor="-1") == pytest.approx(3.7)
    assert samples.value("vmgui_packet_loss_avg_ratio", sensor="-1") == pytest.approx(
        sum(loss) / 6 / 100_000
    )
    assert samples.value("vmgui_packet_loss_max_ratio", sensor="-1") == pytest.approx(0.04333)
