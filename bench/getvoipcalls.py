"""getVoipCalls through the whole HTTP stack vs the same SQL run directly, on N CDRs.

Usage: ``python -m bench.getvoipcalls`` (``make bench``). Needs MariaDB: VMGUI_BENCH_MYSQL_URL
(default: the private test instance, database vmgui_bench), VMGUI_BENCH_ROWS (default 1000000),
VMGUI_BENCH_RUNS (default 20). The table is generated once (bench.data) and reused while its
row count matches.

Baseline: the engine's main SELECT (the exact SQL and parameters Django sends for that filter,
page included) executed with a raw MySQLdb cursor and fetched. Measured: the same request as an
integrator sends it (HTTP GET to /php/api.php on gunicorn, 2 workers, JSON decoded by the
client). The ratio is vmgui's total overhead: HTTP, auth, parameter parsing, the enrichment
look-ups, JSON.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request

from bench.common import (
    Server,
    bench_table,
    bench_url,
    median_ms,
    raw_connection,
    setup_django,
    timed,
)

CASES = [
    (
        "1 hour, all calls",
        {"startTime": "2026-10-15 10:00:00", "startTimeTo": "2026-10-15 10:59:59"},
    ),
    (
        "30 days, exact caller",
        {"startTime": "2026-10-01", "startTimeTo": "2026-10-30", "caller": "CALLER"},
    ),
    (
        "1 day, caller prefix",
        {"startTime": "2026-10-15", "startTimeTo": "2026-10-15", "caller": "420601%"},
    ),
    (
        "30 days, caller suffix",
        {"startTime": "2026-10-01", "startTimeTo": "2026-10-30", "caller": "%123456"},
    ),
    (
        "30 days, Call-ID",
        {"startTime": "2026-10-01", "startTimeTo": "2026-10-30", "callId": "CALLID"},
    ),
    (
        "7 days, msisdn OR",
        {"startTime": "2026-10-10", "startTimeTo": "2026-10-16", "msisdn": "CALLER"},
    ),
]


def main() -> None:
    url = bench_url()
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "20"))
    setup_django(url)

    from django.db import connection

    from api.legacy.tasks_cdr import voip_calls_filter
    from cdr.query.engine import _ordered, cdr_queryset, row_columns
    from cdr.query.scope import CdrScope

    bench_table(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.caller, n.fbasename FROM cdr c JOIN cdr_next n ON n.cdr_ID = c.ID "
            "WHERE c.ID = %s",
            [rows // 2],
        )
        caller, call_id = cursor.fetchone()

    raw = raw_connection()
    print(f"getVoipCalls on {rows} CDRs, {runs} runs each, median ms")
    print(f"{'case':28} {'rows':>6} {'direct SQL':>11} {'api.php':>9} {'ratio':>7}")
    env = {"VMGUI_DATABASE_URL": url, "VMGUI_API_MAX_ROWS": "10000", "VMGUI_LOG_LEVEL": "WARNING"}
    with Server(env) as server:
        floor_url = f"http://127.0.0.1:{server.port}/api.php"

        def floor():
            with urllib.request.urlopen(floor_url, timeout=60) as response:
                return response.read()

        floor_ms = median_ms(timed(floor, runs))
        print(f"{'HTTP floor (/api.php error, no DB)':28} {'':>6} {'':>11} {floor_ms:>9.2f}")
        for name, params in CASES:
            params = {
                k: v.replace("CALLER", caller).replace("CALLID", call_id) for k, v in params.items()
            }
            f = voip_calls_filter(params)
            qs = _ordered(cdr_queryset(f, CdrScope.unrestricted()), ["calldate"]).values(
                *row_columns()
            )[:10001]
            sql, sql_params = qs.query.sql_with_params()

            def direct(sql=sql, sql_params=sql_params):
                cur = raw.cursor()
                cur.execute(sql, sql_params)
                return cur.fetchall()

            query = urllib.parse.urlencode(
                {
                    "task": "getVoipCalls",
                    "user": "bench",
                    "password": "bench-pass-1",
                    "params": json.dumps(params),
                }
            )
            http_url = f"http://127.0.0.1:{server.port}/php/api.php?{query}"

            def via_http(http_url=http_url):
                with urllib.request.urlopen(http_url, timeout=60) as response:
                    body = json.load(response)
                assert body["success"], body
                return body

            count = len(via_http()["cdr"])
            assert count == len(direct()), (name, count)
            sql_ms = median_ms(timed(direct, runs))
            http_ms = median_ms(timed(via_http, runs))
            print(
                f"{name:28} {count:>6} {sql_ms:>11.2f} {http_ms:>9.2f} {http_ms / sql_ms:>6.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
