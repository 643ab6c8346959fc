"""vmgui's own health counters, incremented where things happen, exported by ``/metrics``.

The lowest layer on purpose: every service (the spool reader, the database connection, the
api.php concurrency cap) and every face may import it, and it imports nothing of vmgui. The
``monitoring`` face reads these metrics and the scrape-time call statistics and renders them in
the Prometheus text format (docs/monitoring.md).

The metrics are ``prometheus_client`` objects in their own registry (``REGISTRY``), not the
library's global one. Under several gunicorn workers ``vmgui-serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers import the library: every process then writes
its values into files there and ``/metrics`` sums them (the library's multiprocess mode,
``vmgui/gunicorn_conf.py``).

Faces label a request for the request counter with ``label_request`` (a plain attribute on the
request, read by ``monitoring.middleware``), so no face imports another.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LEGACY_REQUESTS = Counter(
    "vmgui_legacy_requests",
    "Requests to the legacy endpoints (api.php, sql.php) by task and outcome.",
    ["endpoint", "task", "status"],
    registry=REGISTRY,
)
LEGACY_LATENCY = Histogram(
    "vmgui_legacy_request_duration_seconds",
    "Time to answer a legacy endpoint request (until the response starts; a streamed body "
    "may take longer).",
    ["endpoint", "task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
API_SLOTS_IN_USE = Gauge(
    "vmgui_api_slots_in_use",
    "api.php concurrency slots (VMGUI_API_MAX_CONCURRENT) held right now, all workers.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
SPOOL_READ_ERRORS = Counter(
    "vmgui_spool_read_errors",
    "Spool files that could not be read: missing from their tar, corrupt, or an I/O error.",
    ["kind", "reason"],
    registry=REGISTRY,
)
DB_ERRORS = Counter(
    "vmgui_db_errors",
    "Database statements that failed, by error class.",
    ["error"],
    registry=REGISTRY,
)
METRICS_ERRORS = Counter(
    "vmgui_metrics_errors",
    "Failures while collecting /metrics (database: call statistics; sensors: manager ports).",
    ["source"],
    registry=REGISTRY,
)

# Error classes of django.db counted by name; anything else is "other" (bounded labels).
_DB_ERROR_NAMES = frozenset(
    {
        "DatabaseError",
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
        "InterfaceError",
    }
)
# Series that exist from the start (at 0), so that dashboards and alerts see "no errors" rather
# than "no data": the spool's file kinds (cdr.media.spool.KIND_*) and the failure reasons.
SPOOL_KINDS = ("SIP", "RTP", "GRAPH", "AUDIO", "AUDIOGRAPH")
SPOOL_REASONS = ("missing", "corrupt", "io")
METRICS_SOURCES = ("database", "sensors", "internal")
for _kind in SPOOL_KINDS:
    for _reason in SPOOL_REASONS:
        SPOOL_READ_ERRORS.labels(_kind, _reason)
for _name in (*sorted(_DB_ERROR_NAMES), "other"):
    DB_ERRORS.labels(_name)
for _source in METRICS_SOURCES:
    METRICS_ERRORS.labels(_source)

_LABELS_ATTR = "_vmgui_telemetry_labels"
UNKNOWN = "unknown"


def count_db_errors(execute, sql, params, many, context):
    """A Django ``execute_wrapper``: counts every failed statement, then re-raises."""
    try:
        return execute(sql, params, many, context)
    except DatabaseError as exc:
        name = type(exc).__name__
        DB_ERRORS.labels(name if name in _DB_ERROR_NAMES else "other").inc()
        raise


def install_db_error_counter(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """Hook ``count_db_errors`` into a connection (a ``connection_created`` receiver)."""
    if connection is not None and count_db_errors not in connection.execute_wrappers:
        connection.execute_wrappers.append(count_db_errors)


def count_spool_error(kind: str, reason: str) -> None:
    """One spool file that could not be read (``reason``: missing, corrupt, io)."""
    SPOOL_READ_ERRORS.labels(str(kind)[:16] or UNKNOWN, reason).inc()


def label_request(request: Any, *, task: str | None = None, status: str | None = None) -> None:
    """Tell the request counter what a legacy request was (a task name from the face's own
    allow-list, never raw input) and how it ended (``ok`` or the error type)."""
    labels = getattr(request, _LABELS_ATTR, None)
    if labels is None:
        labels = {}
        try:
            setattr(request, _LABELS_ATTR, labels)
        except AttributeError:  # not a request object; nothing to label
            return
    if task is not None:
        labels["task"] = task
    if status is not None:
        labels["status"] = status


def request_labels(request: Any) -> dict[str, str]:
    """What ``label_request`` recorded for this request (empty when nothing)."""
    return dict(getattr(request, _LABELS_ATTR, None) or {})
