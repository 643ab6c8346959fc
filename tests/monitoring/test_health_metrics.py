"""vmgui's own health in /metrics: api.php and sql.php requests by task and outcome, their
latency, api.php concurrency slots, spool read errors and database errors."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
from django.db import DatabaseError, connection, transaction

from api.legacy.concurrency import acquire_slot, release_slot
from cdr import telemetry
from cdr.media.spool import MediaError, MediaMissing, SpoolFile
from tests.api.legacy.test_api_php_support import FAST_HASHERS, call_api, make_api_user
from tests.api.legacy.test_sql_php_support import send, session_client
from tests.factories import make_call
from tests.monitoring.test_metrics_support import scrape


def requests(endpoint: str, task: str, status: str) -> float:
    value = telemetry.REGISTRY.get_sample_value(
        "vmgui_legacy_requests_total", {"endpoint": endpoint, "task": task, "status": status}
    )
    return value or 0.0


def timed(endpoint: str, task: str) -> float:
    value = telemetry.REGISTRY.get_sample_value(
        "vmgui_legacy_request_duration_seconds_count", {"endpoint": endpoint, "task": task}
    )
    return value or 0.0


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.mark.django_db
def test_api_php_requests_are_counted_by_task_and_outcome(metrics_on):
    make_api_user()
    make_call("2026-11-27 10:00:00")
    cases = [
        ({"task": "getVoipCalls"}, ("getVoipCalls", "ok")),
        ({"task": "GETVOIPCALLS"}, ("getVoipCalls", "ok")),  # the canonical name, not input
        ({"task": "getVoipCalls", "password": "wrong"}, ("getVoipCalls", "auth")),
        ({"task": "no-such-task"}, ("unknown", "params")),
        ({"task": "listCdrIds", "params": {"offset": "x"}}, ("listCdrIds", "params")),
    ]
    before = {labels: requests("api.php", *labels) for _, labels in cases}
    timed_before = timed("api.php", "getVoipCalls")
    for kwargs, _ in cases:
        params = kwargs.pop("params", {"startTime": "2026-11-27"})
        call_api(params, **kwargs)
    after = {labels: requests("api.php", *labels) for _, labels in cases}
    assert {k: after[k] - before[k] for k in after} == {
        ("getVoipCalls", "ok"): 2,
        ("getVoipCalls", "auth"): 1,
        ("unknown", "params"): 1,
        ("listCdrIds", "params"): 1,
    }
    assert timed("api.php", "getVoipCalls") - timed_before == 3
    # ... and /metrics shows the same numbers.
    samples = scrape()
    assert samples.value(
        "vmgui_legacy_requests_total", endpoint="api.php", task="getVoipCalls", status="ok"
    ) == requests("api.php", "getVoipCalls", "ok")
    assert samples.value(
        "vmgui_legacy_request_duration_seconds_count", endpoint="api.php", task="getVoipCalls"
    ) == timed("api.php", "getVoipCalls")


@pytest.mark.django_db
def test_sql_php_requests_are_counted_by_task_and_outcome(metrics_on):
    make_call("2026-11-27 10:00:00")
    labels = [
        ("bypass_login", "ok"),
        ("CDR_stats", "ok"),
        ("LISTING", "ok"),
        ("LISTING", "params"),
        ("TOTAL", "no_session"),
        ("unknown", "params"),
    ]
    before = {k: requests("sql.php", *k) for k in labels}
    client = session_client()  # one bypass_login
    stats = {"task": "LISTING", "module": "CDR_stats", "fdatefrom": "2026-11-27", "group_by": "4"}
    send(stats, client=client, transport="multipart")
    send({"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}, client=client)
    send({"task": "LISTING", "module": "CDR"}, client=client)  # no date
    send({"task": "TOTAL", "fdatefrom": "2026-11-27"})  # no session
    send({"task": "DROP", "module": "CDR"}, client=client)
    after = {k: requests("sql.php", *k) for k in labels}
    assert {k: after[k] - before[k] for k in labels} == dict.fromkeys(labels, 1)


@pytest.mark.django_db
def test_other_paths_are_not_counted(metrics_on):
    total = sum(s.value for s in scrape().find("vmgui_legacy_requests_total"))
    scrape()
    assert sum(s.value for s in scrape().find("vmgui_legacy_requests_total")) == total


@pytest.mark.django_db
def test_concurrency_slots_in_use(metrics_on, tmp_path):
    metrics_on.API_MAX_CONCURRENT = 3
    base = scrape().value("vmgui_api_slots_in_use")
    first, second = acquire_slot(3, tmp_path), acquire_slot(3, tmp_path)
    try:
        samples = scrape()
        assert samples.value("vmgui_api_slots_in_use") == base + 2
        assert samples.value("vmgui_api_slots_limit") == 3
    finally:
        release_slot(first)
        release_slot(second)
    assert scrape().value("vmgui_api_slots_in_use") == base


def spool_errors(kind: str, reason: str) -> float:
    value = telemetry.REGISTRY.get_sample_value(
        "vmgui_spool_read_errors_total", {"kind": kind, "reason": reason}
    )
    return value or 0.0


def corrupt_gzip() -> bytes:
    """A gzip-compressed pcap whose deflate data is damaged (invalid block type)."""
    data = bytearray(gzip.compress(b"\xd4\xc3\xb2\xa1" + b"x" * 5000))
    data[10:18] = b"\xff" * 8
    return bytes(data)


def test_spool_read_errors_are_counted(tmp_path):
    corrupt = tmp_path / "call.pcap"
    corrupt.write_bytes(corrupt_gzip())
    before = spool_errors("SIP", "corrupt")
    with pytest.raises(MediaError):
        b"".join(SpoolFile("SIP", "call.pcap", corrupt).chunks())
    assert spool_errors("SIP", "corrupt") == before + 1

    tar_path = tmp_path / "rtp_2026-11-27-10-00.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("other.pcap")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"abcd"))
    before = spool_errors("RTP", "missing")
    with pytest.raises(MediaMissing):
        b"".join(SpoolFile("RTP", "call.pcap", tar_path, tars=(tar_path,)).chunks())
    assert spool_errors("RTP", "missing") == before + 1

    gone = tmp_path / "deleted.pcap"
    before = spool_errors("GRAPH", "io")
    with pytest.raises(OSError):
        b"".join(SpoolFile("GRAPH", "deleted.pcap", gone).chunks())
    assert spool_errors("GRAPH", "io") == before + 1
    # A file that reads fine counts nothing.
    fine = tmp_path / "fine.pcap"
    fine.write_bytes(b"\xd4\xc3\xb2\xa1")
    counted = {reason: spool_errors("SIP", reason) for reason in ("corrupt", "missing", "io")}
    assert b"".join(SpoolFile("SIP", "fine.pcap", fine).chunks()) == b"\xd4\xc3\xb2\xa1"
    assert {reason: spool_errors("SIP", reason) for reason in counted} == counted


@pytest.mark.django_db
def test_database_errors_are_counted(metrics_on):
    def errors() -> float:
        samples = scrape()
        return sum(s.value for s in samples.find("vmgui_db_errors_total"))

    before = errors()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM no_such_table")
    assert errors() == before + 1
