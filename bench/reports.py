"""reportSummary over a large cdr table: the report's own SQL vs the whole api.php answer.

Usage: ``python -m bench.reports``. Needs MariaDB: VMGUI_BENCH_MYSQL_URL (default: the private
test instance, database vmgui_bench_reports), VMGUI_BENCH_ROWS (default 1000000),
VMGUI_BENCH_RUNS (default 10). Cases: a 1-day and a 7-day report (all sections). The table is generated once (bench.data: rows spread evenly over
30 days, ~33,000 per day at 1M) and reused while its row count matches.

Baseline: the report's statements (the exact SQL and parameters Django sends for the summary
and every section, captured once) executed with a raw MySQLdb cursor and fetched. Measured:
``cdr.reports.service.summarize`` in-process, and the request as an integrator sends it (HTTP GET
to /php/api.php on gunicorn, 2 workers) answering JSON and the PNG. The ratio JSON / direct SQL
is vmgui's overhead on top of the database's own work.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.parse
import urllib.request

from bench.common import Server, bench_table, median_ms, setup_django, timed

DEFAULT_URL = "mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_reports"
CASES = [
    ("1 day", "2026-10-15", "2026-10-15"),
    ("7 days", "2026-10-10", "2026-10-16"),
]


def main() -> None:
    url = os.environ.get("VMGUI_BENCH_MYSQL_URL") or DEFAULT_URL
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "10"))
    setup_django(url)

    import MySQLdb
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench import data
    from cdr.query.scope import CdrScope
    from cdr.reports.models import ReportDefinition
    from cdr.reports.service import Period, summarize

    bench_table(rows)
    ReportDefinition.objects.get_or_create(description="Bench Daily")
    db = connection.settings_dict
    raw = MySQLdb.connect(
        host=db["HOST"], port=int(db["PORT"]), user=db["USER"], passwd=db["PASSWORD"], db=db["NAME"]
    )
    env = {
        "VMGUI_DATABASE_URL": url,
        "VMGUI_API_AUTH_CACHE_SECONDS": "300",
        "VMGUI_REPORT_MAX_DAYS": "366",
    }
    print(f"{data.row_count()} CDRs; median ms of {runs} runs")
    print(
        "| period | calls | statements | direct SQL | summarize() | api.php JSON | ratio | api.php PNG |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with Server(env) as server:
        for label, first, last in CASES:
            period = Period(
                timezone.make_aware(dt.datetime.fromisoformat(f"{first} 00:00:00")),
                timezone.make_aware(dt.datetime.fromisoformat(f"{last} 23:59:59.999999")),
            )
            scope = CdrScope.unrestricted()
            with CaptureQueriesContext(connection) as captured:
                figures = summarize({}, period, scope)
            statements = [q["sql"] for q in captured.captured_queries if "`cdr`" in q["sql"]]
            cursor = raw.cursor()

            def direct(cursor=cursor, statements=statements) -> None:
                for sql in statements:  # the captured SQL has its parameters inlined
                    cursor.execute(sql)
                    cursor.fetchall()

            def service(period=period, scope=scope) -> None:
                summarize({}, period, scope)

            def request(as_json: bool, first=first, last=last) -> None:
                params = {
                    "report_name": "Bench Daily",
                    "datetime_from": first,
                    "datetime_to": last,
                    "json": as_json,
                }
                query = urllib.parse.urlencode(
                    {
                        "task": "reportSummary",
                        "user": "bench",
                        "password": "bench-pass-1",
                        "params": json.dumps(params),
                    }
                )
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{server.port}/php/api.php?{query}", timeout=120
                ) as response:
                    body = response.read()
                if as_json:
                    assert json.loads(body)["success"] is True
                else:
                    assert body.startswith(b"\x89PNG")

            direct_ms = median_ms(timed(direct, runs))
            service_ms = median_ms(timed(service, runs))
            json_ms = median_ms(timed(lambda: request(True), runs))
            png_ms = median_ms(timed(lambda: request(False), runs))
            print(
                f"| {label} | {figures['summary']['calls']:,} | {len(statements)} "
                f"| {direct_ms:.1f} | {service_ms:.1f} | {json_ms:.1f} "
                f"| {json_ms / direct_ms:.2f}× | {png_ms:.1f} |",
                flush=True,
            )
    raw.close()


if __name__ == "__main__":
    main()
