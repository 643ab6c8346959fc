"""The host-wide cap on concurrent api.php requests (settings.API_MAX_CONCURRENT).

Three levels: the slot functions in one process, the slot functions across several processes
(multiprocessing, including a killed holder), and a real multi-process HTTP server (gunicorn
with several sync workers) where a slow request holds a slot while others arrive.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from api.legacy.concurrency import TooManyApiRequests, acquire_slot, api_slot, release_slot
from tests.api.legacy.test_api_php_support import (
    FAST_HASHERS,
    call_api,
    cdr_ids,
    make_api_user,
    reason,
)
from tests.factories import make_call

START = {"startTime": "2026-11-27"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


# --- one process ------------------------------------------------------------------------------


def test_limit_zero_means_no_cap(tmp_path):
    fds = [acquire_slot(0, tmp_path) for _ in range(50)]
    assert fds == [None] * 50
    assert list(tmp_path.iterdir()) == []


def test_slots_are_counted_per_open_file_even_in_one_process(tmp_path):
    first, second = acquire_slot(2, tmp_path), acquire_slot(2, tmp_path)
    with pytest.raises(TooManyApiRequests, match=r"too many concurrent API requests \(limit 2\)"):
        acquire_slot(2, tmp_path)
    release_slot(first)
    third = acquire_slot(2, tmp_path)
    release_slot(second)
    release_slot(third)


def test_the_context_manager_releases_on_error(tmp_path):
    with pytest.raises(RuntimeError), api_slot(1, tmp_path):
        raise RuntimeError("boom")
    with api_slot(1, tmp_path):
        pass


@pytest.mark.django_db
def test_api_php_reads_the_cap_per_request(tmp_path):
    make_api_user()
    make_call("2026-11-27 10:00:00")
    held = acquire_slot(1, tmp_path)
    try:
        with override_settings(API_MAX_CONCURRENT=1, API_LOCK_DIR=tmp_path):
            assert reason(call_api(START)) == "too many concurrent API requests (limit 1)"
        with override_settings(API_MAX_CONCURRENT=2, API_LOCK_DIR=tmp_path):
            assert len(cdr_ids(call_api(START))) == 1
        with override_settings(API_MAX_CONCURRENT=0, API_LOCK_DIR=tmp_path):
            assert len(cdr_ids(call_api(START))) == 1
    finally:
        release_slot(held)
    with override_settings(API_MAX_CONCURRENT=1, API_LOCK_DIR=tmp_path):
        assert len(cdr_ids(call_api(START))) == 1


@pytest.mark.django_db
def test_the_cap_does_not_count_requests_refused_before_the_task(tmp_path):
    held = acquire_slot(1, tmp_path)
    try:
        with override_settings(API_MAX_CONCURRENT=1, API_LOCK_DIR=tmp_path):
            assert "unknown task" in reason(call_api(START, task="nope"))
    finally:
        release_slot(held)


# --- several processes --------------------------------------------------------------------------


def _hold_slot(limit: int, lock_dir: str, acquired, release, results) -> None:
    try:
        fd = acquire_slot(limit, Path(lock_dir))
    except TooManyApiRequests:
        results.put("refused")
        return
    results.put("acquired")
    acquired.set()
    release.wait(30)
    release_slot(fd)


def test_the_cap_holds_across_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    holders = []
    for _ in range(2):
        acquired, release = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=_hold_slot, args=(2, str(tmp_path), acquired, release, results))
        proc.start()
        assert acquired.wait(10)
        holders.append((proc, release))
    # A third process is refused at once, and so is this one.
    late = ctx.Process(
        target=_hold_slot, args=(2, str(tmp_path), ctx.Event(), ctx.Event(), results)
    )
    started = time.monotonic()
    late.start()
    late.join(10)
    assert time.monotonic() - started < 5
    assert [results.get(timeout=5) for _ in range(3)] == ["acquired", "acquired", "refused"]
    with pytest.raises(TooManyApiRequests):
        acquire_slot(2, tmp_path)
    # One holder finishes: its slot is free for this process.
    proc, release = holders[0]
    release.set()
    proc.join(10)
    fd = acquire_slot(2, tmp_path)
    release_slot(fd)
    holders[1][1].set()
    holders[1][0].join(10)


def test_a_killed_holder_does_not_leak_its_slot(tmp_path):
    ctx = multiprocessing.get_context("fork")
    acquired, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_slot, args=(1, str(tmp_path), acquired, release, ctx.Queue()))
    proc.start()
    assert acquired.wait(10)
    with pytest.raises(TooManyApiRequests):
        acquire_slot(1, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    release_slot(acquire_slot(1, tmp_path))


# --- a real multi-process HTTP server -------------------------------------------------------------

# WSGI wrapper for the server under test: getVoipCalls sleeps for params.testSleep seconds
# inside its slot (announcing itself with a marker file), and every answer says which worker
# process produced it.
SLOW_WSGI = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    from vmgui.wsgi import application as django_application
    from api.legacy import api_php

    _real = api_php.TASKS["getVoipCalls"]

    def _slow(params, principal):
        delay = float((params or {}).get("testSleep", 0))
        if delay:
            Path(os.environ["TEST_MARKER_DIR"], f"holding-{os.getpid()}").touch()
            time.sleep(delay)
        return _real(params, principal)

    api_php.TASKS["getVoipCalls"] = _slow

    def application(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)
        return django_application(environ, start)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with several sync worker processes on its own SQLite database."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int,
        limit: int,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        manage: tuple[tuple[str, ...], ...] = (("create_sniffer_schema",),),
        wsgi: str = SLOW_WSGI,
    ) -> None:
        """``env`` adds or overrides variables (e.g. another database), ``args`` gunicorn
        options, ``manage`` the manage.py commands run first, ``wsgi`` the wrapper's source."""
        self.root = root
        self.port = _free_port()
        self.markers = root / "markers"
        self.markers.mkdir()
        (root / "slow_wsgi.py").write_text(wsgi)
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), str(settings.BASE_DIR)]),
            "DJANGO_SETTINGS_MODULE": "vmgui.settings",
            "VMGUI_DATA_DIR": str(root),
            "VMGUI_DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
            "VMGUI_API_MAX_CONCURRENT": str(limit),
            "VMGUI_API_LOCK_DIR": str(root / "locks"),
            "VMGUI_API_DISABLE_AUTH": "1",
            "VMGUI_TIME_ZONE": "UTC",
            "TEST_MARKER_DIR": str(self.markers),
            **(env or {}),
        }
        for command in manage:
            subprocess.run(
                [sys.executable, str(settings.BASE_DIR / "manage.py"), *command],
                env=self.env,
                check=True,
                capture_output=True,
                cwd=root,
            )
        self.log = (root / "gunicorn.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "slow_wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--timeout",
                "60",
                *args,
            ],
            env=self.env,
            cwd=root,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.root / "gunicorn.log").read_text())
            try:
                self.request({})
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in 30 s")

    def request(self, params: dict) -> tuple[dict, int, float]:
        """POST a getVoipCalls JSON body; (answer, worker pid, seconds taken)."""
        body = json.dumps({"task": "getVoipCalls", "params": {**START, **params}}).encode()
        started = time.monotonic()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/php/api.php", data=body)
        with urllib.request.urlopen(req, timeout=30) as response:
            answer = json.loads(response.read())
            pid = int(response.headers["X-Worker-Pid"])
        return answer, pid, time.monotonic() - started

    def holders(self) -> set[int]:
        return {int(p.name.split("-")[1]) for p in self.markers.iterdir()}

    def wait_holders(self, count: int) -> set[int]:
        deadline = time.monotonic() + 20
        while len(self.holders()) < count:
            assert time.monotonic() < deadline, "slow requests did not start"
            time.sleep(0.05)
        return self.holders()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def _in_background(server: Server, params: dict) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(server.request(params)))
    thread.start()
    return thread, result


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path, workers=4, limit=2)
    yield srv
    srv.stop()


def test_the_cap_holds_across_gunicorn_worker_processes(server):
    sleep = {"testSleep": 4}
    # One slow request holds a slot; a second request (another worker) is within the limit.
    first, first_result = _in_background(server, sleep)
    (holder_a,) = server.wait_holders(1)
    answer, pid, _ = server.request({})
    assert answer == {"success": True, "cdr": []}
    assert pid != holder_a
    # A second slow request takes the last slot; the next request is refused at once.
    second, second_result = _in_background(server, sleep)
    holders = server.wait_holders(2)
    assert len(holders) == 2
    answer, pid, seconds = server.request({})
    assert answer == {
        "success": False,
        "errors": {"reason": "too many concurrent API requests (limit 2)"},
    }
    assert seconds < 1.5 and pid not in holders
    # The slow requests finish normally and free their slots.
    first.join(30)
    second.join(30)
    assert [r[0]["success"] for r in (*first_result, *second_result)] == [True, True]
    assert {r[1] for r in (*first_result, *second_result)} == holders
    assert server.request({})[0]["success"] is True


@pytest.mark.django_db
def test_a_download_holds_its_slot_until_the_last_byte(tmp_path, settings):
    """A streamed getPCAP counts against the cap until the client has read it all."""
    import datetime as dt

    from tests.cdr.media.test_media_support import api_get, media_user, tone_spec, write_calls

    settings.SPOOL_DIR = tmp_path / "spool"
    settings.API_MAX_CONCURRENT = 1
    settings.API_LOCK_DIR = tmp_path / "locks"
    call = write_calls(settings.SPOOL_DIR, [tone_spec("slot@x", dt.datetime(2026, 11, 27, 9))])[0]
    media_user()
    download = api_get({"cdrId": call.cdr_id}, "getPCAP")
    assert download["Content-Type"] == "application/vnd.tcpdump.pcap"
    refused = json.loads(api_get({"startTime": "2026-11-27"}, "getVoipCalls").content)
    assert refused["errors"]["reason"] == "too many concurrent API requests (limit 1)"
    assert b"".join(download.streaming_content)[:4] == b"\xd4\xc3\xb2\xa1"  # pcap magic
    answered = json.loads(api_get({"startTime": "2026-11-27"}, "getVoipCalls").content)
    assert answered["success"] is True
