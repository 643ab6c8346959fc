"""Shared benchmark plumbing: a MariaDB database for benches, timing, a gunicorn server."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

DEFAULT_URL = "mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench"
ROOT = Path(__file__).resolve().parent.parent


def bench_url() -> str:
    return os.environ.get("VMGUI_BENCH_MYSQL_URL", DEFAULT_URL)


def raw_connection():
    """A plain MySQLdb connection to Django's database with the driver's default conversions
    (no Django, no vmgui.dbconv): how a script would run the SQL directly, the floor."""
    import MySQLdb
    from django.db import connection

    db = connection.settings_dict
    return MySQLdb.connect(host=db["HOST"], port=int(db["PORT"] or 3306), user=db["USER"],
                           passwd=db["PASSWORD"], db=db["NAME"], charset="utf8mb4")  # fmt: skip


def setup_django(url: str) -> None:
    """Point Django at the bench database (created if missing) and migrate vmgui's tables."""
    import MySQLdb

    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    conn = MySQLdb.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username, passwd=parts.password
    )
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    conn.close()
    os.environ["VMGUI_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def timed(fn: Callable[[], object], runs: int, warmup: int = 2) -> list[float]:
    """Wall-clock seconds of ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving vmgui on a loopback port, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "vmgui.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


BENCH_USER, BENCH_PASSWORD = "bench", "bench-pass-1"


def bench_table(rows: int):
    """The bench database holds ``rows`` generated CDRs (generated once, reused while the count
    matches) and a superuser ``bench``; returns that user. Call after ``setup_django``."""
    from django.contrib.auth import get_user_model

    from bench import data

    if data.row_count() != rows:
        print(f"generating {rows} CDRs ...", flush=True)
        data.generate(rows)
    User = get_user_model()
    user = User.objects.filter(username=BENCH_USER).first()
    return user or User.objects.create_superuser(BENCH_USER, "b@x", BENCH_PASSWORD)
