"""A bounded load test on loopback: 200 concurrent clients against gunicorn with several worker
processes and VMGUI_API_MAX_CONCURRENT=3.

The cap holds exactly (never more than 3 requests inside their slot at once, and 3 reached),
every other request is refused cleanly (HTTP 200, the envelope naming the limit; no
connection error, no 5xx), and the workers' memory stays flat from one round to the next.
Three rounds of 200 requests (600 in all); each request has a 30 s timeout and the test a
deadline, so it always stops by itself. Server helpers: test_api_php_concurrency.Server.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api.legacy.test_api_php_concurrency import Server

CLIENTS = 200
ROUNDS = 4
LIMIT = 3
WORKERS = 8
HOLD = 0.15  # seconds a request stays inside its slot
REFUSED = {
    "success": False,
    "errors": {"reason": f"too many concurrent API requests (limit {LIMIT})"},
}

# getVoipCalls logs when it enters and leaves its slot (one O_APPEND line each), and holds
# the slot for a moment so that requests overlap.
LOAD_WSGI = """
import os, time

from vmgui.wsgi import application as django_application
from api.legacy import api_php

_real = api_php.TASKS["getVoipCalls"]
_log = os.path.join(os.environ["TEST_MARKER_DIR"], "slots.log")

def _held(params, principal):
    fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{time.monotonic_ns()} +1\\n".encode())
        time.sleep(float((params or {}).get("hold", 0)))
        return _real(params, principal)
    finally:
        os.write(fd, f"{time.monotonic_ns()} -1\\n".encode())
        os.close(fd)

api_php.TASKS["getVoipCalls"] = _held

def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)
    return django_application(environ, start)
"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _worker_pids(server: Server) -> list[int]:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return sorted(int(p) for p in children.split())


def _max_overlap(log: Path) -> int:
    events = sorted(
        (int(stamp), int(delta))
        for stamp, delta in (line.split() for line in log.read_text().splitlines())
    )
    # At equal time stamps count leaves first: a slot freed and retaken is not an overlap.
    events.sort(key=lambda e: (e[0], e[1]))
    inside = peak = 0
    for _, delta in events:
        inside += delta
        peak = max(peak, inside)
    assert inside == 0
    return peak


def _round(server: Server) -> list[tuple[int, dict]]:
    """CLIENTS requests started together; (HTTP status, answer) of each."""
    body = json.dumps(
        {"task": "getVoipCalls", "params": {"startTime": "2026-11-27", "hold": HOLD}}
    ).encode()
    url = f"http://127.0.0.1:{server.port}/php/api.php"
    results: list = [None] * CLIENTS
    go = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        go.wait(30)
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:
                results[i] = (r.status, json.loads(r.read()))
        except urllib.error.HTTPError as exc:
            results[i] = (exc.code, {"body": exc.read()[:200].decode(errors="replace")})
        except OSError as exc:
            results[i] = (0, {"error": repr(exc)})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "the round did not finish in 120 s"
    return results


@pytest.fixture
def server(tmp_path):
    srv = Server(
        tmp_path,
        workers=WORKERS,
        limit=LIMIT,
        wsgi=LOAD_WSGI,
        args=("--backlog", "512"),
    )
    yield srv
    srv.stop()


def test_under_200_concurrent_clients_the_cap_holds_exactly_and_memory_stays_flat(server):
    workers = _worker_pids(server)
    assert len(workers) == WORKERS
    rss: list[dict[int, int]] = []
    answered = refused = 0
    for _ in range(ROUNDS):
        for status, answer in _round(server):
            assert status == 200, answer  # no connection error, no 5xx
            if answer == {"success": True, "cdr": []}:
                answered += 1
            else:
                assert answer == REFUSED
                refused += 1
        rss.append({pid: _rss_kib(pid) for pid in workers})
    assert answered + refused == CLIENTS * ROUNDS
    assert answered >= LIMIT and refused > 0
    # Never more than LIMIT requests inside their slots at once, and the limit was reached.
    assert _max_overlap(server.markers / "slots.log") == LIMIT
    # The same worker processes served every round (none died or was recycled) ...
    assert _worker_pids(server) == workers
    # ... and their memory after two warm-up rounds stays flat (a leak per request would show
    # as ~200 × its size per round). Not from the first round: a worker that meets a code path
    # for the first time in round 2 (imports, caches) grows once, which is not a leak.
    for pid in workers:
        grown = rss[-1][pid] - rss[1][pid]
        assert grown < 4096, f"worker {pid} grew by {grown} KiB: {[r[pid] for r in rss]}"
