"""What one scrape of /metrics reads, how long it is reused, and how it becomes metrics.

* **One query.** The call statistics of the sliding window (``METRICS_WINDOW_SECONDS``) are
  one grouped query (``cdr.query.engine.call_stats``) bounded by ``calldate`` on both sides,
  so it reads the calldate index range of the window only, whatever the table's size. Per
  sensor ASR, ACD, MOS and loss are derived from its sums in Python.
* **Active calls** come from each sensor's manager port (``cdr.sensors.registry``), asked in
  parallel with the manager timeouts; a sensor that does not answer is "down".
* **Shared cache.** The snapshot is kept ``METRICS_CACHE_SECONDS`` in a JSON file under
  ``DATA_DIR/metrics-cache`` guarded by an flock: while one worker process reads the
  database, scrapes arriving in other workers (or from other Prometheus servers) wait for it
  and reuse its result instead of running the query again.
* **Failures are data.** A database or manager failure leaves that part out, sets
  ``vmgui_metrics_source_up{source=..}`` to 0 and counts ``vmgui_metrics_errors_total``; the
  other metrics are still answered.

Not scoped: /metrics is an operator endpoint and counts every call of every sensor.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cdr import telemetry
from cdr.query.engine import CdrFilter, call_stats
from cdr.query.scope import CdrScope
from cdr.sensors.registry import list_active_calls

logger = logging.getLogger(__name__)

NO_SENSOR = "-1"  # the sensor label of calls without an id_sensor (sql.php's fsensor_id=-1)
SCOPE_LABEL = "metrics (operator endpoint, unscoped)"


def clock() -> dt.datetime:
    """The end of the window (now; tests and the benchmark pin it)."""
    return timezone.now()


def _read_calls(now: dt.datetime, window: int) -> tuple[list[dict] | None, float]:
    """The window's grouped call statistics (None when the database fails) and the seconds
    the query took."""
    started = time.perf_counter()
    f = CdrFilter(date_from=now - dt.timedelta(seconds=window), date_to=now)
    try:
        rows = call_stats(f, CdrScope.unrestricted(SCOPE_LABEL))
    except Exception:
        logger.exception("/metrics: reading the call statistics failed")
        telemetry.METRICS_ERRORS.labels("database").inc()
        return None, time.perf_counter() - started
    return rows, time.perf_counter() - started


def _read_sensors() -> list[dict] | None:
    """Each registered sensor: id, name, whether its manager answered, its active calls."""
    try:
        result = list_active_calls(CdrScope.unrestricted(SCOPE_LABEL))
    except Exception:
        logger.exception("/metrics: asking the sensors for active calls failed")
        telemetry.METRICS_ERRORS.labels("sensors").inc()
        return None
    active: dict[int, int] = {}
    for item in result.calls:
        active[item.sensor.id] = active.get(item.sensor.id, 0) + 1
    sensors = [
        {"id": s.id, "name": s.name, "up": True, "active": active.get(s.id, 0)}
        for s in result.answered
    ]
    sensors += [
        {"id": f.sensor.id, "name": f.sensor.name, "up": False, "active": None}
        for f in result.failed
    ]
    if result.failed:
        telemetry.METRICS_ERRORS.labels("sensors").inc()
    return sorted(sensors, key=lambda s: s["id"])


def take_snapshot(now: dt.datetime | None = None) -> dict[str, Any]:
    """Read everything a scrape reports (no cache)."""
    now = now or clock()
    window = settings.METRICS_WINDOW_SECONDS
    calls, seconds = _read_calls(now, window)
    sensors = _read_sensors() if settings.METRICS_ACTIVE_CALLS else None
    return {
        "key": _cache_key(),
        "taken_at": time.time(),
        "window": window,
        "calls": calls,
        "query_seconds": seconds,
        "sensors_enabled": bool(settings.METRICS_ACTIVE_CALLS),
        "sensors": sensors,
    }


def _cache_key() -> str:
    db = connection.settings_dict
    return "|".join(
        str(part)
        for part in (
            db.get("ENGINE"),
            db.get("HOST"),
            db.get("PORT"),
            db.get("NAME"),
            settings.METRICS_WINDOW_SECONDS,
            settings.METRICS_ACTIVE_CALLS,
        )
    )


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "metrics-cache"


def snapshot() -> dict[str, Any]:
    """The current snapshot: the cached one while younger than METRICS_CACHE_SECONDS (shared
    by every worker process of the host), else a fresh one that replaces it."""
    ttl = settings.METRICS_CACHE_SECONDS
    if ttl <= 0:
        return take_snapshot()
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "snapshot.json"
    with open(directory / "snapshot.lock", "a+b") as lock:
        # Held while a fresh snapshot is read: concurrent scrapes wait and reuse it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            cached = json.loads(path.read_text())
        except (OSError, ValueError):
            cached = None
        if (
            isinstance(cached, dict)
            and cached.get("key") == _cache_key()
            and 0 <= time.time() - float(cached.get("taken_at", 0)) < ttl
        ):
            return cached
        fresh = take_snapshot()
        tmp = directory / f"snapshot.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(fresh))
        os.replace(tmp, path)
        return fresh


# ---------------------------------------------------------------------------
# Snapshot → metric families
# ---------------------------------------------------------------------------

SENSOR = ["sensor", "sensor_name"]
SUMMED = ("cnt_all", "cnt_ok", "connect_sum", "mos_count", "mos_sum", "loss_count", "loss_sum")


def _sensor_labels(sensor_id: Any, name: Any) -> list[str]:
    return [NO_SENSOR if sensor_id is None else str(sensor_id), name or ""]


def _per_sensor(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """The window's rows summed per sensor (counts, sums; minimum MOS, maximum loss)."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        key = tuple(_sensor_labels(row["id_sensor"], row.get("sensorname")))
        acc = out.setdefault(key, {})
        for name in SUMMED:
            acc[name] = acc.get(name, 0) + (row.get(name) or 0)
        for name, pick in (("mos_min", min), ("loss_max", max)):
            value = row.get(name)
            if value is not None:
                acc[name] = value if name not in acc else pick(acc[name], value)
    return out


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def call_families(snap: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """The window's call metrics (nothing when the database part failed)."""
    rows = snap.get("calls")
    if rows is None:
        return
    calls = _gauge(
        "vmgui_calls",
        "Calls that started in the window, by sensor and last SIP response.",
        [*SENSOR, "sip_code", "sip_response"],
    )
    for row in rows:
        code = row.get("lastSIPresponseNum")
        calls.add_metric(
            [
                *_sensor_labels(row["id_sensor"], row.get("sensorname")),
                "0" if code is None else str(code),
                row.get("lastSIPresponse") or "",
            ],
            row["cnt_all"],
        )
    yield calls
    answered = _gauge("vmgui_calls_answered", "Answered calls in the window (200 OK).", SENSOR)
    asr = _gauge("vmgui_asr_ratio", "Answer-seizure ratio in the window (0-1).", SENSOR)
    acd = _gauge("vmgui_acd_seconds", "Average connected duration of answered calls.", SENSOR)
    mos_avg = _gauge("vmgui_mos_avg", "Average MOS (each call's worse side) in the window.", SENSOR)
    mos_min = _gauge("vmgui_mos_min", "Worst MOS of a call in the window.", SENSOR)
    loss_avg = _gauge(
        "vmgui_packet_loss_avg_ratio", "Average RTP packet loss of a call (0-1).", SENSOR
    )
    loss_max = _gauge(
        "vmgui_packet_loss_max_ratio", "Worst RTP packet loss of a call (0-1).", SENSOR
    )
    for labels, acc in sorted(_per_sensor(rows).items()):
        labels = list(labels)
        answered.add_metric(labels, acc["cnt_ok"])
        if acc["cnt_all"]:
            asr.add_metric(labels, acc["cnt_ok"] / acc["cnt_all"])
        if acc["cnt_ok"]:
            acd.add_metric(labels, acc["connect_sum"] / acc["cnt_ok"])
        if acc["mos_count"]:
            mos_avg.add_metric(labels, acc["mos_sum"] / acc["mos_count"] / 10)
            mos_min.add_metric(labels, acc["mos_min"] / 10)
        if acc["loss_count"]:
            loss_avg.add_metric(labels, acc["loss_sum"] / acc["loss_count"] / 100_000)
            loss_max.add_metric(labels, acc["loss_max"] / 100_000)
    yield from (answered, asr, acd, mos_avg, mos_min, loss_avg, loss_max)


def sensor_families(snap: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    sensors = snap.get("sensors")
    if sensors is None:
        return
    up = _gauge("vmgui_sensor_up", "1 when the sensor's manager port answered.", SENSOR)
    active = _gauge("vmgui_active_calls", "Calls in progress on the sensor (manager).", SENSOR)
    for sensor in sensors:
        labels = _sensor_labels(sensor["id"], sensor["name"])
        up.add_metric(labels, 1 if sensor["up"] else 0)
        if sensor["active"] is not None:
            active.add_metric(labels, sensor["active"])
    yield up
    yield active


class SnapshotCollector(Collector):
    """Scrape-time metrics from a snapshot (None: nothing could be read at all)."""

    def __init__(self, snap: dict[str, Any] | None) -> None:
        self.snap = snap

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snap or {}
        source_up = _gauge(
            "vmgui_metrics_source_up",
            "1 when the last snapshot read this source (database, sensors).",
            ["source"],
        )
        source_up.add_metric(["database"], 1 if snap.get("calls") is not None else 0)
        if snap.get("sensors_enabled"):
            source_up.add_metric(["sensors"], 1 if snap.get("sensors") is not None else 0)
        yield source_up
        window = _gauge("vmgui_metrics_window_seconds", "Length of the call-statistics window.")
        window.add_metric([], snap.get("window", settings.METRICS_WINDOW_SECONDS))
        yield window
        if snap:
            age = _gauge("vmgui_metrics_snapshot_age_seconds", "Age of the cached snapshot.")
            age.add_metric([], max(0.0, time.time() - float(snap["taken_at"])))
            yield age
            query = _gauge(
                "vmgui_metrics_query_seconds", "Time the snapshot's call-statistics query took."
            )
            query.add_metric([], float(snap.get("query_seconds") or 0))
            yield query
        limit = _gauge(
            "vmgui_api_slots_limit",
            "api.php concurrency slots (VMGUI_API_MAX_CONCURRENT; 0 = no cap).",
        )
        limit.add_metric([], settings.API_MAX_CONCURRENT)
        yield limit
        yield from call_families(snap)
        yield from sensor_families(snap)


class ProcessCollector(Collector):
    """vmgui's own counters of this process (single-process servers, tests)."""

    def collect(self):
        return telemetry.REGISTRY.collect()
