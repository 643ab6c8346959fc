"""Active calls and reachability per sensor in /metrics, from real manager ports on loopback
(the TCP sensor simulator), and the Grafana dashboard's metric names."""

from __future__ import annotations

import json
import re

import pytest

from cdr.models import Sensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.legacy.test_api_php_support import FAST_HASHERS, call_api, make_api_user
from tests.cdr.sensors.test_manager_support import closed_port
from tests.factories import make_call
from tests.monitoring.test_health_metrics import corrupt_gzip
from tests.monitoring.test_metrics_support import scrape


def pool(calls: int, seed: int) -> CallPool:
    return CallPool(low=calls, high=calls, seed=seed, id_sensors=(-1,))


def add_sensor(id_sensor: int, name: str, port: int) -> None:
    Sensor.objects.create(id_sensor=id_sensor, name=name, host="127.0.0.1", port=port)


@pytest.fixture
def sensors_on(metrics_on):
    metrics_on.METRICS_ACTIVE_CALLS = True
    metrics_on.MANAGER_AES = "off"
    return metrics_on


@pytest.mark.django_db
def test_active_calls_and_reachability_per_sensor(sensors_on):
    with ManagerSimulator(pool=pool(3, 1)) as prague, ManagerSimulator(pool=pool(2, 2)) as brno:
        add_sensor(1, "prague-edge", prague.port)
        add_sensor(2, "brno-core", brno.port)
        add_sensor(3, "dead", closed_port())
        samples = scrape()
    keys = ("sensor", "sensor_name")
    assert samples.by("vmgui_active_calls", *keys) == {
        ("1", "prague-edge"): 3,
        ("2", "brno-core"): 2,
    }
    assert samples.by("vmgui_sensor_up", *keys) == {
        ("1", "prague-edge"): 1,
        ("2", "brno-core"): 1,
        ("3", "dead"): 0,
    }
    assert samples.value("vmgui_metrics_source_up", source="sensors") == 1


@pytest.mark.django_db
def test_active_calls_can_be_switched_off(metrics_on):
    samples = scrape()
    assert samples.find("vmgui_sensor_up") == [] and samples.find("vmgui_active_calls") == []
    assert samples.find("vmgui_metrics_source_up", source="sensors") == []


# --- the Grafana dashboard ------------------------------------------------------------------

DASHBOARD = "docs/grafana-dashboard.json"
_NAME = re.compile(r"\bvmgui_[a-z0-9_]+")


def dashboard_metric_names(settings) -> set[str]:
    with open(settings.BASE_DIR / DASHBOARD, encoding="utf-8") as fh:
        dashboard = json.load(fh)
    exprs: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query") and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    assert exprs, "the dashboard has no queries"
    return {name for expr in exprs for name in _NAME.findall(expr)}


@pytest.mark.django_db
def test_every_metric_the_dashboard_queries_exists(sensors_on, settings, tmp_path):
    from api.legacy.concurrency import acquire_slot, release_slot
    from cdr.media.spool import MediaError, SpoolFile

    settings.PASSWORD_HASHERS = FAST_HASHERS
    make_api_user()
    make_call("2026-11-27 10:06:00", id_sensor=1, mos_min_mult10=41, packet_loss_perc_mult1000=200)
    call_api({"startTime": "2026-11-27"})  # a counted api.php request
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(corrupt_gzip())
    with pytest.raises(MediaError):
        b"".join(SpoolFile("SIP", "bad.pcap", bad).chunks())
    slot = acquire_slot(1, tmp_path / "locks")
    with ManagerSimulator(pool=pool(1, 3)) as sim:
        add_sensor(1, "prague-edge", sim.port)
        samples = scrape()
    release_slot(slot)
    names = dashboard_metric_names(settings)
    missing = sorted(names - samples.names())
    assert not missing, f"the dashboard queries metrics /metrics does not have: {missing}"
