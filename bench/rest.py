"""REST API v1 CDR list on N CDRs: cursor pages vs OFFSET pages, and a day's CSV export.

Usage: ``python -m bench.rest`` (``make bench``). Needs MariaDB: VMGUI_BENCH_MYSQL_URL (default
the private test instance, database vmgui_bench), VMGUI_BENCH_ROWS (default 1000000),
VMGUI_BENCH_RUNS (default 20). The table is generated once (bench.data) and reused.

Measured through gunicorn (2 workers) with an API token, JSON decoded by the client:

* page 1 and a page deep in the past through the keyset cursor (``next``), against the same
  deep page fetched with the legacy OFFSET paging of the engine (``fetch_rows(offset=…)``), run
  in-process as the baseline: the cursor page must cost what page 1 costs;
* a 1-day filter with a caller prefix, and ``count=true`` (the COUNT that is only run on ask);
* ``format=csv`` of one whole day streamed by the client, with the peak RSS growth of the
  worker that served it (read from /proc: VmHWM - VmRSS before) as the memory check.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request

from bench.common import Server, bench_table, bench_url, median_ms, setup_django, timed


def _get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def _worker_pids(master: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == master:
                        out.append(int(entry))
            except OSError:
                continue
    return out


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def main() -> None:
    url = bench_url()
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "20"))
    setup_django(url)

    from django.db import reset_queries

    from api.rest import tokens
    from cdr.query.engine import CdrFilter, fetch_rows
    from cdr.query.scope import CdrScope

    user = bench_table(rows)
    token = tokens.create(user, "bench", read_only=True).secret
    scope = CdrScope.unrestricted()
    deep_offset = rows // 2  # a page half way back in time

    deep = fetch_rows(CdrFilter(), scope, order=("-calldate",), offset=deep_offset, limit=100)
    cursor_row = fetch_rows(
        CdrFilter(), scope, order=("-calldate",), offset=deep_offset - 1, limit=1
    )[0]
    from api.rest.listing import encode_cursor

    cursor = encode_cursor(cursor_row, True)

    def offset_page():
        reset_queries()
        return fetch_rows(CdrFilter(), scope, order=("-calldate",), offset=deep_offset, limit=100)

    print(f"REST CDR list on {rows} CDRs, {runs} runs each, median ms")
    env = {
        "VMGUI_DATABASE_URL": url,
        "VMGUI_LOG_LEVEL": "WARNING",
        "VMGUI_REST_RATE": "1000000/min",
    }
    with Server(env) as server:
        base = f"http://127.0.0.1:{server.port}/api/v1/cdrs/"
        cases = [
            ("page 1 (100 rows, newest)", {"limit": 100}),
            (f"cursor page at row {deep_offset}", {"limit": 100, "cursor": cursor}),
            ("1 day, caller prefix 420601%", {"date_from": "2026-10-15", "date_to": "2026-10-15", "caller": "420601%"}),
            ("1 day, count=true", {"date_from": "2026-10-15", "date_to": "2026-10-15", "count": "true", "limit": 1}),
        ]  # fmt: skip
        results = {}
        for name, params in cases:
            full = f"{base}?{urllib.parse.urlencode(params)}"
            body = json.loads(_get(full, token))
            if "cursor" in params:
                got = [r["ID"] for r in body["results"]]
                assert got == [r["ID"] for r in deep], "cursor page differs from the OFFSET page"
            ms = median_ms(timed(lambda full=full: _get(full, token), runs))
            results[name] = ms
            extra = f" count={body['count']}" if "count" in body else ""
            print(f"  {name:36} {len(body['results']):>5} rows {ms:>9.2f} ms{extra}", flush=True)
        offset_ms = median_ms(timed(offset_page, max(3, runs // 4)))
        print(
            f"  {'same deep page by OFFSET (in-process)':36} {len(deep):>5} rows {offset_ms:>9.2f} ms"
        )
        print(f"  cursor page / page 1: {results[cases[1][0]] / results[cases[0][0]]:.2f}x;"
              f" OFFSET page / cursor page: {offset_ms / results[cases[1][0]]:.1f}x")  # fmt: skip

    # CSV exports, each on a fresh server so that a worker's peak RSS is this export's alone:
    # the growth must not depend on the export's size (flat memory).
    for days in (1, 7):
        with Server(env) as server:
            csv_export(server, token, days)


def csv_export(server, token: str, days: int) -> None:
    base = f"http://127.0.0.1:{server.port}/api/v1/cdrs/"
    _get(f"{base}?limit=1", token)  # warm both workers' imports
    _get(f"{base}?limit=1", token)
    workers = _worker_pids(server.proc.pid)
    before = {pid: _status_kb(pid, "VmRSS") for pid in workers}
    last = f"2026-10-{14 + days:02d}"
    query = {"date_from": "2026-10-15", "date_to": last, "format": "csv"}
    request = urllib.request.Request(
        f"{base}?{urllib.parse.urlencode(query)}", headers={"Authorization": f"Bearer {token}"}
    )
    start = time.perf_counter()
    size = lines = 0
    with urllib.request.urlopen(request, timeout=1800) as response:
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - start
    growth = max(_status_kb(pid, "VmHWM") - before[pid] for pid in workers)
    print(
        f"  CSV of {days} day(s): {lines - 1} rows, {size / 1e6:.1f} MB in {elapsed:.2f} s "
        f"({(lines - 1) / elapsed:,.0f} rows/s); worker peak RSS growth {growth / 1024:.1f} MB",
        flush=True,
    )


if __name__ == "__main__":
    main()
