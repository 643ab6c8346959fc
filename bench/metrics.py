"""/metrics scrape cost on a large cdr table: the one grouped query vs the whole scrape.

Usage: ``python -m bench.metrics``. Needs MariaDB: VMGUI_BENCH_MYSQL_URL (default: the private
test instance, database vmgui_bench_metrics), VMGUI_BENCH_ROWS (default 1000000; the
measurement in docs/benchmarks.md used 10000000), VMGUI_BENCH_RUNS (default 20). The table is
generated once (bench.data: rows spread evenly over 30 days, ~1,160 per 5 minutes at 10M) and
reused while its row count matches.

Baseline: the engine's grouped query (``cdr.query.engine.call_stats``, the exact SQL and
parameters Django sends for the window) run with a raw MySQLdb cursor and fetched. Measured:
``take_snapshot`` (the query through the ORM, SIP-response/sensor look-ups, per-sensor sums)
and the whole ``GET /metrics`` in-process (Django test client: token check, snapshot, counters,
text encoding), uncached (``VMGUI_METRICS_CACHE_SECONDS=0``) and cached (5 s, the default).
The window ends at a fixed moment inside the generated data (2026-10-15 12:00 UTC); the
manager ports are not asked (their cost is the sensors' network, not the table's size).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time

from bench.common import median_ms, setup_django, timed

END = dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC)
WINDOWS = [("5 min (default)", 300), ("15 min", 900), ("1 hour", 3600)]
DEFAULT_URL = "mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_metrics"
TOKEN = "bench-token"


def main() -> None:
    url = os.environ.get("VMGUI_BENCH_MYSQL_URL") or DEFAULT_URL
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "20"))
    setup_django(url)

    import MySQLdb
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import data
    from cdr.query.engine import CdrFilter, call_stats, call_stats_queryset
    from cdr.query.scope import CdrScope
    from monitoring import collect

    if data.row_count() != rows:
        print(f"generating {rows} CDRs ...", flush=True)
        started = time.monotonic()
        data.generate(rows)
        print(f"generated in {time.monotonic() - started:.0f} s", flush=True)
    collect.clock = lambda: END
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW_IPS = []
    settings.METRICS_ACTIVE_CALLS = False
    settings.DATA_DIR = tempfile.mkdtemp(prefix="vmgui-bench-metrics-")
    settings.ALLOWED_HOSTS = ["testserver"]
    db = connection.settings_dict
    raw = MySQLdb.connect(
        host=db["HOST"], port=int(db["PORT"]), user=db["USER"], passwd=db["PASSWORD"], db=db["NAME"]
    )
    client = Client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    def scrape() -> None:
        response = client.get("/metrics", headers=bearer)
        assert response.status_code == 200 and b"vmgui_calls{" in response.content

    print(f"{data.row_count()} CDRs; window ending {END.isoformat()}; median ms of {runs} runs")
    print(
        "| window | calls in window | groups | direct SQL | snapshot | /metrics uncached "
        "| ratio | /metrics cached | plan |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, seconds in WINDOWS:
        settings.METRICS_WINDOW_SECONDS = seconds
        f = CdrFilter(date_from=END - dt.timedelta(seconds=seconds), date_to=END)
        with CaptureQueriesContext(connection) as queries:
            stats = call_stats(f, CdrScope.unrestricted())
        grouped = [q for q in queries.captured_queries if "GROUP BY" in q["sql"]]
        assert len(grouped) == 1, grouped  # one grouped statement per snapshot
        compiled = call_stats_queryset(f, CdrScope.unrestricted()).query.sql_with_params()
        cursor = raw.cursor()

        def direct(cursor=cursor, compiled=compiled) -> None:
            cursor.execute(*compiled)
            cursor.fetchall()

        cursor.execute("EXPLAIN " + compiled[0], compiled[1])
        names = [c[0] for c in cursor.description]
        plan = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        cdr_plan = next(p for p in plan if p["table"] == "cdr")
        direct_ms = median_ms(timed(direct, runs))
        snapshot_ms = median_ms(timed(collect.take_snapshot, runs))
        settings.METRICS_CACHE_SECONDS = 0
        uncached_ms = median_ms(timed(scrape, runs))
        settings.METRICS_CACHE_SECONDS = 5
        cached_ms = median_ms(timed(scrape, runs))
        calls = sum(r["cnt_all"] for r in stats)
        print(
            f"| {label} | {calls:,} | {len(stats)} | {direct_ms:.2f} | {snapshot_ms:.2f} "
            f"| {uncached_ms:.2f} | {uncached_ms / direct_ms:.1f}× | {cached_ms:.2f} "
            f"| {cdr_plan['type']} on `{cdr_plan['key']}`, {cdr_plan['rows']} rows |",
            flush=True,
        )
    raw.close()


if __name__ == "__main__":
    main()
