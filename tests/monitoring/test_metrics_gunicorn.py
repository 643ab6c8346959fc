"""/metrics under a real gunicorn with several worker processes (vmgui-serve's configuration,
prometheus_client's multiprocess mode): every scrape, whichever worker answers it, counts the
requests of all workers, also those of a worker that was killed."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.api.legacy.test_api_php_concurrency import Server
from tests.monitoring.test_metrics_support import TOKEN, Samples


class MetricsServer(Server):
    """The concurrency tests' gunicorn (several sync workers, answers say which worker)
    started with vmgui-serve's config (vmgui/gunicorn_conf.py) and /metrics on."""

    def __init__(self, root: Path, workers: int) -> None:
        env = {
            "VMGUI_API_MAX_CONCURRENT": "8",
            "VMGUI_METRICS_TOKEN": TOKEN,
            "VMGUI_METRICS_ACTIVE_CALLS": "0",
        }
        # what vmgui-serve passes
        super().__init__(
            root, workers=workers, limit=8, env=env, args=("--config", "python:vmgui.gunicorn_conf")
        )

    def get(self, path: str, **headers: str) -> tuple[bytes, int]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read(), int(response.headers["X-Worker-Pid"])

    def calls(self) -> tuple[dict, int]:
        answer, pid, _ = self.request({})
        return answer, pid

    def scrape(self) -> tuple[Samples, int]:
        body, pid = self.get("/metrics", Authorization=f"Bearer {TOKEN}")
        return Samples(body.decode()), pid


@pytest.fixture
def server(tmp_path):
    srv = MetricsServer(tmp_path, workers=2)
    yield srv
    srv.stop()


def served_by_every_worker(server: Server, workers: int) -> tuple[int, set[int]]:
    """getVoipCalls from 6 threads until every worker answered some (at least 60 in all)."""
    pids: set[int] = set()
    done = 0
    lock = threading.Lock()

    def run(count: int) -> None:
        nonlocal done
        for _ in range(count):
            body, pid = server.calls()
            assert body == {"success": True, "cdr": []}
            with lock:
                pids.add(pid)
                done += 1

    for _ in range(10):
        threads = [threading.Thread(target=run, args=(10,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        if len(pids) >= workers:
            break
    assert len(pids) >= workers, f"only {pids} answered"
    return done, pids


def scrape_four_at_once(server: Server) -> list[tuple[Samples, int]]:
    """Four threads scrape five times each. One after another, the worker that just answered
    may take every next request too (the kernel chooses); four at a time reach every worker."""
    answers: list[tuple[Samples, int]] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(5):
            try:
                answer = server.scrape()
            except OSError:  # a worker being replaced
                time.sleep(0.2)
                continue
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def scrapes_from_every_worker(server: Server, pids: set[int]) -> list[Samples]:
    """Scrapes until each of ``pids`` answered one."""
    seen: dict[int, Samples] = {}
    for _ in range(20):
        for samples, pid in scrape_four_at_once(server):
            seen.setdefault(pid, samples)
        if set(seen) >= pids:
            return [seen[pid] for pid in pids]
    raise AssertionError(f"scrapes came only from {set(seen)}")


def api_calls(samples: Samples, status: str = "ok") -> float | None:
    return samples.value(
        "vmgui_legacy_requests_total", endpoint="api.php", task="getVoipCalls", status=status
    )


def test_every_worker_reports_the_requests_of_all_workers(server):
    base = api_calls(server.scrape()[0]) or 0  # the server's readiness probe
    done, pids = served_by_every_worker(server, 2)
    for samples in scrapes_from_every_worker(server, pids):
        assert api_calls(samples) == base + done
        assert (
            samples.value(
                "vmgui_legacy_request_duration_seconds_count",
                endpoint="api.php",
                task="getVoipCalls",
            )
            == base + done
        )
        assert samples.value("vmgui_api_slots_in_use") == 0
        assert samples.value("vmgui_api_slots_limit") == 8
        assert samples.value("vmgui_metrics_source_up", source="database") == 1
    files = {p.name for p in (server.root / "prometheus").iterdir()}
    assert {f"counter_{pid}.db" for pid in pids} <= files


def test_the_counts_of_a_killed_worker_are_kept(server):
    base = api_calls(server.scrape()[0]) or 0
    done, pids = served_by_every_worker(server, 2)
    done += base
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    # gunicorn replaces it; the new worker and the survivor both still report every request.
    deadline = time.monotonic() + 30
    fresh: set[int] = set()
    while not fresh:
        assert time.monotonic() < deadline, "no replacement worker"
        for samples, pid in scrape_four_at_once(server):
            assert api_calls(samples) == done
            if pid not in pids:
                fresh.add(pid)


def test_a_worker_file_not_yet_sized_does_not_hide_the_counts(server):
    # A starting worker creates its file empty and sizes it a moment later; a worker killed
    # in that moment leaves it empty for good.
    base = api_calls(server.scrape()[0]) or 0
    done, _ = served_by_every_worker(server, 2)
    (server.root / "prometheus" / "counter_999999.db").touch()
    samples, _ = server.scrape()
    assert api_calls(samples) == base + done
    assert samples.value("vmgui_api_slots_limit") == 8
