"""Carrier scale (issue 19): per-request cost against the floor, throughput, memory, on N CDRs.

Usage::

    VMGUI_BENCH_MYSQL_URL=mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_carrier \\
    VMGUI_BENCH_ROWS=10000000 .venv/bin/python -m bench.carrier [--before DIR] [--only latency]

The table is made by ``bench.carrier_data`` (the sniffer's layout, realistic distributions) and
reused while it holds exactly ``VMGUI_BENCH_ROWS`` rows. ``--before DIR`` also serves an older
checkout (e.g. a copy of the tree before a change) with the same data and measures it in the
same run, interleaved, so both face the same machine load.

Sections (``--only`` picks some):

* ``latency``: every shape of the query engine through api.php getVoipCalls and sql.php
  LISTING on gunicorn (2 workers). *floor* = the HTTP floor (``/api.php`` error answer, no
  database) + the SQL that returns the complete answer, executed directly: the data statements
  the request sends (captured in-process: the page joined with its texts, names and Call-IDs,
  the calldate bound of a two-step page, the listing's count) run on a raw MySQLdb connection
  and fetched (the driver's default, buffered cursor, as a script runs it). Auth and session
  statements are not part of the floor. Each of ``VMGUI_BENCH_RUNS`` rounds (default 20)
  times the HTTP floor, the SQL and every server back to back (medians), so all of them meet
  the same machine load. The last column compares the last tree with a lower floor: the same
  statements fetched on the driver's unbuffered cursor (``SSCursor``), which converts rows
  while the server still sends them, as vmgui reads its pages.
* ``alone``: the one-row answers with nothing else running (one server, one worker, the
  trees one after the other, sequential requests): the cost of a request next to its floor
  without the interleaved run's CPU contention (two servers and the client on the cores).
* ``tail``: the slowest requests of a long sequential run (``--tail-requests`` one-row
  answers, a tenth as many 10,000-row pages; api.php), each tree on its own one-worker
  gunicorn, the trees' requests alternating: p50, p99, p99.9, the slowest, and how many took
  over twice the median. What a median hides: the worker's pauses (a full garbage
  collection of the loaded app, ``vmgui.wsgi``).
* ``strategies``: count (exact, under the 1 s budget) and deep paging (OFFSET vs keyset).
* ``throughput``: requests/s under a bounded concurrent load on loopback (``--clients``,
  default 4, keep-alive, for ``--seconds`` each) of api.php (1-row answer), the REST list (the
  same 1-row filter) and a trivial Django view on the same gunicorn; api.php's SQL alone on
  as many raw connections; and the *ceiling*, the issue's floor under load: a gunicorn of
  ``bench.floorapp`` whose requests run api.php's SQL, then the trivial view (no face can
  serve that SQL faster than it).
* ``memory``: peak RSS growth of the worker serving sql.php ``limit=-1`` and a REST CSV
  export of ``--export-days`` days (default 3: ~1M rows at 10M CDRs).
* ``pcap``: peak RSS growth of the worker serving api.php getPCAP of a ``--pcap-mb`` MB call
  (default 500) written into a temporary spool in the sniffer's layout.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.common import (
    BENCH_PASSWORD,
    BENCH_USER,
    ROOT,
    bench_url,
    free_port,
    median_ms,
    raw_connection,
    setup_django,
    timed,
)
from bench.rest import _status_kb, _worker_pids

DEFAULT_URL = "mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_carrier"


class Gunicorn:
    """gunicorn serving the tree at ``root`` (this one, or an older checkout) on loopback."""

    def __init__(
        self, root: Path, env: dict[str, str], workers: int = 2, app: str = "vmgui.wsgi:application"
    ) -> None:
        self.root, self.port, self.workers, self.app = root, free_port(), workers, app
        self.env = {**os.environ, **env, "PYTHONPATH": str(root)}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), self.app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--log-level", "warning", "--timeout", "600"],
            cwd=self.root, env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/api.php")
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start in {self.root}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)

    def get(self, path: str, headers: dict | None = None) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("GET", path, headers=headers or {})
            return conn.getresponse().read()
        finally:
            conn.close()


def _api_path(params: dict) -> str:
    query = {"task": "getVoipCalls", "user": BENCH_USER, "password": BENCH_PASSWORD,
             "params": json.dumps(params)}  # fmt: skip
    return "/php/api.php?" + urllib.parse.urlencode(query)


def _sql_path(fields: dict) -> str:
    return "/php/model/sql.php?" + urllib.parse.urlencode({"task": "LISTING", "module": "CDR",
                                                           **fields})  # fmt: skip


def shapes(known: dict) -> list[tuple[str, dict, dict]]:
    """(name, api.php params, sql.php fields) of every engine shape, on the generated days."""
    d = known["calldate"].strftime("%Y-%m-%d")  # the day of the known call (the middle row)
    day = {"startTime": f"{d} 00:00:00", "startTimeTo": f"{d} 23:59:59"}
    sday = {"fdatefrom": f"{d}T00:00:00", "fdateto": f"{d}T23:59:59"}
    month = {"startTime": "2026-10-01", "startTimeTo": "2026-10-30"}
    smonth = {"fdatefrom": "2026-10-01T00:00:00", "fdateto": "2026-10-30T23:59:59"}
    hour = {"startTime": f"{d} 10:00:00", "startTimeTo": f"{d} 10:59:59"}
    shour = {"fdatefrom": f"{d}T10:00:00", "fdateto": f"{d}T10:59:59"}
    caller, called, call_id = known["caller"], known["called"], known["call_id"]
    return [
        ("1 hour, all calls", hour, {**shour, "limit": 100}),
        ("1 day, exact caller", {**day, "caller": caller}, {**sday, "fcaller": caller}),
        ("30 days, exact caller", {**month, "caller": caller}, {**smonth, "fcaller": caller}),
        ("1 day, caller prefix", {**day, "caller": "4206010012%"},
         {**sday, "fcaller": "4206010012%"}),
        ("30 days, called suffix", {**month, "called": "%" + called[-6:]},
         {**smonth, "fcalled": "%" + called[-6:]}),
        ("30 days, msisdn OR", {**month, "msisdn": caller},
         {**smonth, "fcaller": caller, "fcalled": caller, "fcallerd_type": 0}),
        ("30 days, Call-ID", {**month, "callId": call_id}, {**smonth, "fcallid": call_id}),
        ("1 hour, custom header", {**hour, "customHeaders": "X-Customer-ID,X-Tenant"},
         {**shour, "fcustom_header__X-Customer-ID": "CUST-%", "limit": 100}),
        ("1 hour, caller IP", None, {**shour, "fsipcallerip": "10.11.0.0/16", "limit": 100}),
        ("1 day, bad MOS", None, {**sday, "fmosf1": 3, "limit": 100}),
        ("1 day, page 100 rows", None, {**sday, "limit": 100}),
        ("1 day, deep page (start 20000)", None, {**sday, "limit": 100, "start": 20000}),
        # the group panel's "last SIP response" as deployed Prometheus exporters ask for it
        ("1 hour, CDR_stats by SIP code", None,
         {**shour, "module": "CDR_stats", "group_by": 4, "needPercentile": 1, "limit": -1}),
        ("1 day, CDR_stats by SIP code", None,
         {**sday, "module": "CDR_stats", "group_by": 4, "needPercentile": 1, "limit": -1}),
    ]  # fmt: skip


class Floor:
    """The data statements of a request, run directly on a raw connection (the floor)."""

    SKIP = ("django_session", "auth_user", "accounts_", "api_rest", "bench_meta")

    def __init__(self, raw) -> None:
        self.raw = raw

    def capture(self, client, path: str) -> list[str]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # The steady state: a first request reads the schema (information_schema, once per
        # process), which is not part of any answer's SQL.
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        body = json.loads(response.content)
        assert body.get("success"), body
        return [
            q["sql"]
            for q in queries.captured_queries
            # SET STATEMENT … FOR SELECT: sql.php's count carrying its own time limit
            if q["sql"].lstrip().upper().startswith(("SELECT", "SET STATEMENT"))
            and not any(t in q["sql"] for t in self.SKIP)
            and "@@SESSION" not in q["sql"]
        ]

    def run(self, statements: list[str], cursor_class=None) -> None:
        """Each statement executed, its rows fetched (the driver's default cursor)."""
        cursor = self.raw.cursor(cursor_class) if cursor_class else self.raw.cursor()
        try:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
        finally:
            cursor.close()

    def run_streamed(self, statements: list[str]) -> None:
        """``run`` on the driver's unbuffered cursor (rows converted as they arrive)."""
        from MySQLdb.cursors import SSCursor

        self.run(statements, SSCursor)


def _floor_client():
    """(Floor on a raw MySQLdb connection, an in-process client logged in to sql.php)."""
    from django.conf import settings
    from django.test import Client

    raw = raw_connection()
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    client = Client()
    login = client.get("/php/model/sql.php", {"module": "bypass_login", "user": BENCH_USER,
                                               "pass": BENCH_PASSWORD})  # fmt: skip
    assert json.loads(login.content)["success"]
    return Floor(raw), client


# The one-row answers measured alone (section "alone").
ONE_ROW_SHAPES = ("1 day, exact caller", "30 days, exact caller", "30 days, Call-ID")


def alone(roots: dict[str, Path], env: dict, known: dict, runs: int) -> None:
    """The one-row answers with nothing else running: one gunicorn with ONE worker per tree,
    the trees one after the other. Each of the ``runs`` rounds times the HTTP floor, the
    answer's SQL run directly and the request back to back, so all three meet the same
    machine (medians). *+ms* = request − (HTTP floor + SQL)."""
    floor, client = _floor_client()
    print(f"{'tree':7} {'face':8} {'shape':24} {'HTTP':>6} {'SQL':>6} {'floor':>6} "
          f"{'request':>8} {'+ms':>6} {'ratio':>6}")  # fmt: skip
    for name, root in roots.items():
        with Gunicorn(root, {**env, "VMGUI_DATA_DIR": str(root / "var")}, workers=1) as server:
            cookie = _sql_session(server)
            for label, api, sql in shapes(known):
                if label not in ONE_ROW_SHAPES:
                    continue
                for face, params, path_of, headers in (
                    ("api.php", api, _api_path, {}),
                    ("sql.php", sql, _sql_path, cookie),
                ):
                    path = path_of(params)
                    statements = floor.capture(client, path)
                    ms = _round_robin(
                        {
                            "http": lambda: server.get("/api.php"),
                            "sql": lambda st=statements: floor.run(st),
                            "request": lambda p=path, h=headers: server.get(p, h),
                        },
                        runs,
                    )
                    base = ms["http"] + ms["sql"]
                    print(f"{name:7} {face:8} {label:24} {ms['http']:>6.2f} {ms['sql']:>6.2f} "
                          f"{base:>6.2f} {ms['request']:>8.2f} {ms['request'] - base:>6.2f} "
                          f"{ms['request'] / base:>5.2f}x", flush=True)  # fmt: skip


TAIL_SHAPES = (("1 day, exact caller", 1), ("1 hour, all calls", 10))


@contextlib.contextmanager
def _serving(roots: dict[str, Path], env: dict, workers: int) -> Iterator[dict[str, Gunicorn]]:
    """A gunicorn per tree, all running together (each with its own data directory)."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(Gunicorn(root, {**env, "VMGUI_DATA_DIR": str(root / "var")},
                                                  workers=workers))
               for name, root in roots.items()}  # fmt: skip


def _percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of the sorted ``ordered``, by rank."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def tail(roots: dict[str, Path], env: dict, known: dict, requests: int) -> None:
    """p50/p99/p99.9/max of ``requests`` sequential one-row answers (and ``requests / 10``
    10,000-row pages) per tree, the trees' requests alternating (one worker each)."""
    with _serving(roots, env, workers=1) as servers:
        print(f"{'tree':7} {'shape':20} {'requests':>8} {'p50':>7} {'p99':>7} {'p99.9':>7} "
              f"{'max':>7} {'>2x p50':>8}   (ms)")  # fmt: skip
        for label, divisor in TAIL_SHAPES:
            path = next(_api_path(api) for name, api, _ in shapes(known) if name == label)
            count = max(requests // divisor, 20)
            samples: dict[str, list[float]] = {name: [] for name in servers}
            for round_ in range(count + 20):
                for name, server in servers.items():
                    start = time.perf_counter()
                    server.get(path)
                    if round_ >= 20:  # after the warm-up
                        samples[name].append((time.perf_counter() - start) * 1e3)
            for name, values in samples.items():
                values.sort()
                p50 = _percentile(values, 0.5)
                slow = sum(1 for v in values if v > 2 * p50)
                print(f"{name:7} {label:20} {len(values):>8} {p50:>7.2f} "
                      f"{_percentile(values, 0.99):>7.2f} {_percentile(values, 0.999):>7.2f} "
                      f"{values[-1]:>7.2f} {slow:>8}", flush=True)  # fmt: skip


def _round_robin(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median ms of each call, the calls timed one after the other in each of ``runs`` rounds
    (after two untimed rounds)."""
    samples: dict[str, list[float]] = {key: [] for key in calls}
    for round_ in range(runs + 2):
        for key, call in calls.items():
            start = time.perf_counter()
            call()
            if round_ >= 2:
                samples[key].append(time.perf_counter() - start)
    return {key: median_ms(values) for key, values in samples.items()}


def latency(servers: dict[str, Gunicorn], known: dict, runs: int, only: str = "") -> None:
    floor, client = _floor_client()
    cookies = {}
    for name, server in servers.items():
        body = json.loads(server.get("/php/model/sql.php?" + urllib.parse.urlencode(
            {"module": "bypass_login", "user": BENCH_USER, "pass": BENCH_PASSWORD})))  # fmt: skip
        cookies[name] = {"Cookie": f"{body['cookie_name']}={body['SID']}"}
    http_floor = {name: median_ms(timed(lambda s=s: s.get("/api.php"), runs))
                  for name, s in servers.items()}  # fmt: skip
    names = list(servers)
    print("HTTP floor (/api.php, no DB) at the start: " + ", ".join(f"{n} {v:.2f} ms"
          for n, v in http_floor.items()) + f"; each row's floor is {names[0]}'s, timed in "
          "the row's rounds")  # fmt: skip
    head = f"{'face':8} {'shape':32} {'rows':>6} {'SQL':>8} {'floor':>8} "
    head += " ".join(f"{n:>9} {'ratio':>6} {'+ms':>7}" for n in names)
    print(head + f" {'SQLss':>8} {'ratio ss':>8}")
    for label, api, sql in shapes(known):
        if only not in label:
            continue
        for face, params, path_of in (("api.php", api, _api_path), ("sql.php", sql, _sql_path)):
            if params is None:
                continue
            path = path_of(params)
            statements = floor.capture(client, path)
            # sql.php runs in a session (cookie); api.php sends user/password, never a cookie
            sent = cookies if face == "sql.php" else {name: {} for name in servers}
            row = json.loads(servers[names[0]].get(path, sent[names[0]]))
            count = len(row.get("cdr", row.get("results", [])))
            # Interleaved: each run times the floor (HTTP and SQL) and every server back to
            # back, so that a change of machine load affects all of them alike.
            calls = {"HTTP": lambda s=servers[names[0]]: s.get("/api.php"),
                     "SQL": lambda st=statements: floor.run(st),
                     "SQLss": lambda st=statements: floor.run_streamed(st)}  # fmt: skip
            for name, server in servers.items():
                calls[name] = lambda s=server, h=sent[name], p=path: s.get(p, h)
            ms = _round_robin(calls, runs)
            base = ms["HTTP"] + ms["SQL"]
            out = f"{face:8} {label:32} {count:>6} {ms['SQL']:>8.2f} {base:>8.2f} "
            for name in servers:
                out += f"{ms[name]:>9.2f} {ms[name] / base:>5.2f}x {ms[name] - base:>7.2f}"
            streamed = ms["HTTP"] + ms["SQLss"]
            out += f" {ms['SQLss']:>8.2f} {ms[names[-1]] / streamed:>7.2f}x"
            print(out, flush=True)


def strategies(known: dict, runs: int) -> None:
    """Count and deep-paging strategies of the engine, in-process."""
    import datetime as dt

    from django.utils import timezone

    from bench.carrier_data import START
    from cdr.query import engine
    from cdr.query.engine import CdrFilter
    from cdr.query.scope import CdrScope

    scope = CdrScope.unrestricted()
    start = timezone.make_aware(dt.datetime.combine(START, dt.time()))
    print(f"{'strategy':52} {'result':>10} {'ms':>9}")
    for days in (1, 7, 30):
        f = CdrFilter(date_from=start + dt.timedelta(days=14 - days // 2),
                      date_to=start + dt.timedelta(days=14 - days // 2 + days, seconds=-1))  # fmt: skip
        n = engine.count(f, scope)
        ms = median_ms(timed(lambda f=f: engine.count(f, scope), max(3, runs // 4), warmup=1))
        print(f"{f'count, {days} day(s)':52} {n:>10} {ms:>9.1f}")
        answers: list[int | None] = []
        ms = median_ms(timed(lambda f=f, a=answers: a.append(engine.count_within(f, scope, 1000)),
                             max(3, runs // 4), warmup=1))  # fmt: skip
        deferred = sum(a is None for a in answers[1:])  # not the warm-up's
        within = f"{deferred}/{len(answers) - 1} deferred" if deferred else str(answers[-1])
        print(f"{f'count under 1 s budget, {days} day(s)':52} {within:>10} {ms:>9.1f}")
    f = CdrFilter(date_from=start, date_to=start + dt.timedelta(days=30))
    deep = min(1_000_000, engine.count(f, scope) - 100)  # 1M, or near the end of a smaller table
    for offset in sorted({0, min(10_000, deep), min(100_000, deep), deep}):
        ms = median_ms(timed(lambda o=offset: engine.fetch_rows(
            f, scope, order=("-calldate",), offset=o, limit=100), 3, warmup=1))  # fmt: skip
        print(f"{f'OFFSET page at row {offset:,} (sql.php start=)':52} {100:>10} {ms:>9.1f}")
    page = engine.fetch_rows(f, scope, order=("-calldate",), offset=deep - 1, limit=1)[0]
    after = (page["calldate"], page["ID"])
    ms = median_ms(timed(lambda: engine.fetch_after(f, scope, after=after, limit=100), runs))
    print(f"{f'keyset page at row {deep:,} (REST/GUI cursor)':52} {100:>10} {ms:>9.1f}")


def _rate(clients: int, seconds: float, open_, once, close) -> float:
    """Completions/s of ``clients`` threads, each opening its connection (``open_()``) and
    calling ``once(conn)`` in a loop for ``seconds``, then ``close(conn)``."""
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def loop(n: int) -> None:
        conn = open_()
        while time.monotonic() < stop:
            once(conn)
            counts[n] += 1
        close(conn)

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def _load(server: Gunicorn, path: str, headers: dict, clients: int, seconds: float) -> float:
    """Requests/s of ``clients`` keep-alive loops on ``path`` for ``seconds``."""

    def once(conn: http.client.HTTPConnection) -> None:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")

    return _rate(
        clients,
        seconds,
        lambda: http.client.HTTPConnection("127.0.0.1", server.port, timeout=60),
        once,
        lambda conn: conn.close(),
    )


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _database_pid() -> list[int]:
    """The MariaDB server's pid when it runs on this machine (its pid file), else none."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT @@pid_file")
        path = cursor.fetchone()[0]
    try:
        return [int(Path(path).read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def _load_cpu(
    server: Gunicorn, path: str, headers: dict, clients: int, seconds: float
) -> tuple[float, float, float]:
    """(requests/s, worker CPU ms a request, database CPU ms a request) of ``_load``."""
    workers = _worker_pids(server.proc.pid)
    database = _database_pid()
    cpu_w, cpu_d, started = _cpu_seconds(workers), _cpu_seconds(database), time.monotonic()
    rate = _load(server, path, headers, clients, seconds)
    requests = rate * (time.monotonic() - started)
    worker_ms = 1000 * (_cpu_seconds(workers) - cpu_w) / requests
    database_ms = 1000 * (_cpu_seconds(database) - cpu_d) / requests
    return rate, worker_ms, database_ms


def _sql_load(statements: list[str], clients: int, seconds: float) -> float:
    """Answers/s of ``clients`` raw MySQLdb connections each running ``statements`` in a loop
    for ``seconds``: how fast the database alone gives a request's data (the ceiling of any
    face that sends that SQL)."""
    return _rate(
        clients,
        seconds,
        lambda: Floor(raw_connection()),
        lambda floor: floor.run(statements),
        lambda f: f.raw.close(),
    )


def throughput(
    servers: dict[str, Gunicorn],
    known: dict,
    clients: int,
    seconds: float,
    env: dict,
    workers: int = 2,
) -> None:
    """Requests/s of the trivial view, api.php's one-row answer and the REST list on each
    tree's gunicorn; api.php's SQL alone on raw connections; and the **ceiling**: a gunicorn
    of ``bench.floorapp`` whose every request runs api.php's SQL and then the trivial view (the
    issue's floor under load, none of vmgui's own work): no face can serve that SQL faster."""
    from django.contrib.auth import get_user_model

    from api.rest import tokens

    user = get_user_model().objects.get(username=BENCH_USER)
    token = tokens.create(user, "bench-carrier", read_only=True).secret
    api = _api_path({"startTime": "2026-10-01", "startTimeTo": "2026-10-30",
                     "caller": known["caller"]})  # fmt: skip
    rest = "/api/v1/cdrs/?" + urllib.parse.urlencode(
        {"date_from": "2026-10-01", "date_to": "2026-10-30", "caller": known["caller"]}
    )
    cases = [("trivial view (/api.php error)", "/api.php", {}),
             ("api.php getVoipCalls, 1 row", api, {}),
             ("REST list, 1 row", rest, {"Authorization": f"Bearer {token}"})]  # fmt: skip
    print(f"{clients} concurrent keep-alive clients, {seconds:.0f} s each, {workers} gunicorn "
          "workers, requests/s")  # fmt: skip
    floor, client = _floor_client()
    statements = floor.capture(client, api)
    sql_rate = _sql_load(statements, clients, seconds)
    print(f"  {'':7} {'api.php 1 row: its SQL alone':34} {sql_rate:>8.1f} /s (raw connections)",
          flush=True)  # fmt: skip
    ceiling_env = {**env, "VMGUI_DATA_DIR": str(ROOT / "var"),
                   "VMGUI_BENCH_FLOOR_SQL": json.dumps(statements)}  # fmt: skip
    cpu = "worker CPU / database CPU, ms a request"
    with Gunicorn(ROOT, ceiling_env, workers, app="bench.floorapp:application") as server:
        trivial, *t_cpu = _load_cpu(server, "/api.php", {}, clients, seconds)
        ceiling, *c_cpu = _load_cpu(server, "/bench/floor", {}, clients, seconds)
    print(f"  {'ceiling':7} {'trivial view (same server)':34} {trivial:>8.1f} req/s  "
          f"{'':7} [{t_cpu[0]:.2f} / {t_cpu[1]:.2f}: {cpu}]")  # fmt: skip
    print(f"  {'ceiling':7} {'trivial view + api.php SQL':34} {ceiling:>8.1f} req/s  "
          f"{100 * ceiling / trivial:>5.1f} % [{c_cpu[0]:.2f} / {c_cpu[1]:.2f}] "
          "(the most any face can reach)", flush=True)  # fmt: skip
    for name, server in servers.items():
        trivial = None
        for label, path, headers in cases:
            rate, worker_ms, database_ms = _load_cpu(server, path, headers, clients, seconds)
            trivial = trivial or rate
            of = ""
            if path == api:
                of = f"  ({100 * rate / sql_rate:.1f} % of its SQL alone, "
                of += f"{100 * rate / ceiling:.1f} % of the ceiling)"
            print(f"  {name:7} {label:34} {rate:>8.1f} req/s  {100 * rate / trivial:>5.1f} % "
                  f"[{worker_ms:.2f} / {database_ms:.2f}]{of}", flush=True)  # fmt: skip


def memory(roots: dict[str, Path], env: dict, days: int) -> None:
    from django.contrib.auth import get_user_model

    from api.rest import tokens

    user = get_user_model().objects.get(username=BENCH_USER)
    token = tokens.create(user, "bench-carrier-csv", read_only=True).secret
    last = f"2026-10-{14 + days:02d}"
    exports = [
        ("sql.php limit=-1", lambda s: _sql_session(s),
         _sql_path({"fdatefrom": "2026-10-15T00:00:00", "fdateto": f"{last}T23:59:59",
                    "limit": -1})),
        ("REST CSV", lambda s: {"Authorization": f"Bearer {token}"},
         "/api/v1/cdrs/?" + urllib.parse.urlencode({"date_from": "2026-10-15", "date_to": last,
                                                    "format": "csv"})),
    ]  # fmt: skip
    for name, root in roots.items():
        for label, headers_of, path in exports:
            with Gunicorn(root, env) as server:
                _measure(server, name, label, path, headers_of(server), f"{days} day(s)")


def _spool_call(spool: str, when, call_id: str, size_mb: float) -> None:
    """A call's SIP pcap and its RTP as an LZO member of the minute's tar (sniffer default)."""
    import datetime as dt

    from bench.media import _lzo_tar, synthetic_pcap
    from cdr.demo.pcapgen import Packet, PacketArray
    from cdr.media.spool import sanitize_name, tar_member_name

    base = sanitize_name(call_id)
    minute = Path(spool, when.strftime("%Y-%m-%d"), when.strftime("%H"), when.strftime("%M"))
    (minute / "SIP").mkdir(parents=True, exist_ok=True)
    (minute / "RTP").mkdir(exist_ok=True)
    t0 = int(when.replace(tzinfo=dt.UTC).timestamp() * 1e6)  # the sniffer zone: UTC here
    (minute / "SIP" / f"{base}.pcap").write_bytes(
        PacketArray.from_packets(
            [Packet(t0 + i * 1_000_000, b"\0" * 600) for i in range(7)]
        ).pcap_bytes()
    )
    raw = Path(spool, f"raw-{base}.pcap")
    synthetic_pcap(raw, size_mb, t0)
    stamp = when.strftime("%Y-%m-%d-%H-%M")
    _lzo_tar(raw, minute / "RTP" / f"rtp_{stamp}.tar", tar_member_name(f"{base}.pcap"))
    raw.unlink()


def pcap_download(roots: dict[str, Path], env: dict, known: dict, size_mb: float) -> None:
    """A ``size_mb`` MB call downloaded by api.php getPCAP from a temporary spool in the
    sniffer's layout: peak RSS growth of the (single) worker over its RSS after a 1 MB
    download of another call (so the media code is imported and warm, as in a running
    server)."""
    import tempfile

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.ID, c.calldate, n.fbasename FROM cdr c JOIN cdr_next n ON n.cdr_ID = c.ID "
            "AND n.calldate = c.calldate WHERE c.calldate < %s ORDER BY c.calldate DESC LIMIT 1",
            [known["calldate"].replace(second=0, microsecond=0)],
        )
        warm_id, warm_when, warm_call_id = cursor.fetchone()  # a call of another minute

    def path(cdr_id: int) -> str:
        return "/php/api.php?" + urllib.parse.urlencode(
            {"task": "getPCAP", "user": BENCH_USER, "password": BENCH_PASSWORD,
             "params": json.dumps({"cdrId": cdr_id})}
        )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="vmgui-bench-spool-") as spool:
        _spool_call(spool, warm_when, warm_call_id, 1)
        _spool_call(spool, known["calldate"], known["call_id"], size_mb)
        for name, root in roots.items():
            with Gunicorn(root, {**env, "VMGUI_SPOOL_DIR": spool}, workers=1) as server:
                server.get(path(warm_id))
                _measure(server, name, "getPCAP (pcap download)", path(known["id"]), {},
                         f"{size_mb:.0f} MB")  # fmt: skip


def _measure(server: Gunicorn, name: str, label: str, path: str, headers: dict, what: str):
    server.get("/api.php")
    server.get("/api.php")
    workers = _worker_pids(server.proc.pid)
    before = {pid: _status_kb(pid, "VmRSS") for pid in workers}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=3600)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(1 << 16):
        size += len(chunk)
    took = time.perf_counter() - started
    growth = max(_status_kb(pid, "VmHWM") - before[pid] for pid in workers)
    print(f"  {name:7} {label:24} {what}: {size / 1e6:8.1f} MB in {took:6.1f} s;"
          f" worker peak RSS growth {growth / 1024:7.1f} MB", flush=True)  # fmt: skip


def _sql_session(server: Gunicorn) -> dict:
    body = json.loads(server.get("/php/model/sql.php?" + urllib.parse.urlencode(
        {"module": "bypass_login", "user": BENCH_USER, "pass": BENCH_PASSWORD})))  # fmt: skip
    return {"Cookie": f"{body['cookie_name']}={body['SID']}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="an older checkout to measure alongside")
    parser.add_argument("--only", default="latency,alone,tail,strategies,throughput,memory,pcap")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (latency, "
                        "throughput); 2 = one per core of the reference VM")  # fmt: skip
    parser.add_argument("--export-days", type=int, default=3)
    parser.add_argument("--tail-requests", type=int, default=5000)
    parser.add_argument("--pcap-mb", type=float, default=500)
    parser.add_argument("--shape", default="", help="only the shapes whose name contains this")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "20"))
    url = os.environ.get("VMGUI_BENCH_MYSQL_URL", DEFAULT_URL)
    os.environ["VMGUI_BENCH_MYSQL_URL"] = url
    os.environ.setdefault("VMGUI_LOG_LEVEL", "WARNING")  # no INFO line per measured request
    setup_django(bench_url())
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench import carrier_data

    if carrier_data.row_count() != carrier_data.rows_for(rows):
        print(f"generating {rows:,} CDRs ...", flush=True)
        threads = int(os.environ.get("VMGUI_BENCH_GEN_THREADS", "2"))
        took = carrier_data.generate(rows, threads=threads)
        print(f"generated in {took:.0f} s", flush=True)
    User = get_user_model()
    if not User.objects.filter(username=BENCH_USER).exists():
        User.objects.create_superuser(BENCH_USER, "b@x", BENCH_PASSWORD)
    per_day = carrier_data.rows_for(rows) // carrier_data.DAYS
    middle = per_day * 14 + per_day // 2  # a call around noon of 2026-10-15 (day 15 of 30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.caller, c.called, n.fbasename, c.calldate FROM cdr c JOIN cdr_next n "
                       "ON n.cdr_ID = c.ID AND n.calldate = c.calldate WHERE c.ID = %s",
                       [middle])  # fmt: skip
        caller, called, call_id, calldate = cursor.fetchone()
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    known = {"caller": caller, "called": called, "call_id": call_id, "id": middle,
             "calldate": calldate}  # fmt: skip
    load = os.getloadavg()
    print(f"{rows:,} CDRs in {carrier_data.DAYS} of {carrier_data.partitions()} daily partitions, MariaDB "
          f"{version}, load average {load[0]:.1f} {load[1]:.1f}", flush=True)  # fmt: skip
    env = {"VMGUI_DATABASE_URL": url, "VMGUI_API_MAX_ROWS": "10000", "VMGUI_LOG_LEVEL": "WARNING",
           "VMGUI_REST_RATE": "100000000/min", "VMGUI_API_MAX_CONCURRENT": "0"}  # fmt: skip
    roots = {"after": ROOT}
    if args.before:
        roots = {"before": args.before.resolve(), **roots}
    only = set(args.only.split(","))
    if only & {"latency", "throughput"}:
        with _serving(roots, env, args.workers) as servers:
            if "latency" in only:
                latency(servers, known, runs, args.shape)
            if "throughput" in only:
                throughput(servers, known, args.clients, args.seconds, env, args.workers)
    if "alone" in only:
        alone(roots, env, known, max(runs, 100))
    if "tail" in only:
        tail(roots, env, known, args.tail_requests)
    if "strategies" in only:
        strategies(known, runs)
    if "memory" in only:
        memory(roots, env, args.export_days)
    if "pcap" in only:
        pcap_download(roots, env, known, args.pcap_mb)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f}")


if __name__ == "__main__":
    main()
