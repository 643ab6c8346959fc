"""The cache of one host without Redis (vmgui/settings.py: diskcache's SQLite files in
``VMGUI_CACHE_DIR``), as the workers of that host use it at the same time.

Two worker processes spend one REST request budget: together they are allowed exactly the
budget, never more (each budget counter is created by ``add`` and counted by ``incr``, which
must be atomic across processes). Django's file cache, used before, answered ``incr`` with a
read and a write that two workers could interleave (a lost count is a request the budget
never saw), and listed its whole directory on every write.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import diskcache.core as diskcache_core
import pytest
from django.conf import settings

# One worker: waits for the start file, then asks the REST throttle ATTEMPTS times for the
# budget of token 7 at a fixed instant (the middle of a window: the count cannot be split
# between two windows by the clock), and prints how many requests it was allowed.
WORKER = textwrap.dedent(
    """
    import os, sys, time
    import django

    django.setup()
    from api.rest.models import ApiToken
    from api.rest.throttling import PerTokenRateThrottle

    class Request:
        auth = ApiToken(pk=7)
        user = None
        META = {}

    start = sys.argv[1]
    while not os.path.exists(start):
        time.sleep(0.001)
    allowed = 0
    for _ in range(int(sys.argv[2])):
        throttle = PerTokenRateThrottle()
        throttle.timer = lambda: 3600 * 490_000 + 1800.0
        allowed += throttle.allow_request(Request(), None)
    print(allowed)
    """
)


def _workers(tmp_path: Path, count: int, attempts: int, rate: str) -> list[int]:
    env = {
        **os.environ,
        "PYTHONPATH": str(settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "vmgui.settings",
        "VMGUI_DATA_DIR": str(tmp_path),
        "VMGUI_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VMGUI_CACHE_DIR": str(tmp_path / "cache"),  # the host's cache, shared by the workers
        "VMGUI_REDIS_URL": "",
        "VMGUI_REST_RATE": rate,
    }
    start = tmp_path / "start"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start), str(attempts)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    time.sleep(1.5)  # both have imported Django and wait for the start
    start.touch()
    allowed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        allowed.append(int(out.strip()))
    return allowed


def test_two_workers_of_one_host_spend_one_rest_budget_and_never_more(tmp_path):
    allowed = _workers(tmp_path, count=2, attempts=150, rate="200/hour")
    assert sum(allowed) == 200, allowed  # 300 asked, exactly the budget allowed
    assert all(n > 0 for n in allowed), allowed  # both counted, at the same time


def test_a_budget_counted_by_other_workers_is_the_budget_of_the_next_one(tmp_path):
    assert _workers(tmp_path, count=1, attempts=30, rate="40/hour") == [30]
    assert _workers(tmp_path, count=1, attempts=30, rate="40/hour") == [10]


@pytest.mark.django_db
def test_a_worker_keeps_its_cache_connections_between_requests(monkeypatch):
    """Django closes every cache after each request; reopening diskcache's SQLite files
    cost ~2 ms a request (vmgui.hostcache keeps them)."""
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    cache.get_many([f"warm-{n}" for n in range(64)])  # every shard opened once
    opened = []
    real = diskcache_core.sqlite3.connect
    monkeypatch.setattr(
        diskcache_core.sqlite3, "connect", lambda *a, **k: opened.append(a) or real(*a, **k)
    )
    for _ in range(3):
        assert client.get("/php/api.php").status_code == 200  # request_finished closes caches
        cache.get_many([f"warm-{n}" for n in range(64)])
    assert opened == []
