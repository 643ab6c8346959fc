"""The GUI's CDR list page on a 1M-row MariaDB table: server time of the page vs its own SQL.

Usage: ``python -m bench.gui_list``. Needs MariaDB: VMGUI_BENCH_MYSQL_URL (default the private
test instance, database vmgui_bench_gui), VMGUI_BENCH_ROWS (default 1000000), VMGUI_BENCH_RUNS
(default 20). The table is generated once (bench.data: 30 days from 2026-10-01, ~33,000 calls
a day) and reused while its row count matches.

The page with default filters shows the last 24 hours; the bench data ends on 2026-10-31, so
"now" is pinned there (``gui.cdrs.listing.now``) for the in-process cases: the default page
then holds a full day of calls, as on a busy production system. Measured per case:

* *direct SQL*: the statements the page sends to the sniffer tables (the grouped chart/count
  query, the page's keyset or sorted query, the enrichment look-ups), captured once and run
  with a raw MySQLdb cursor, fetched: the database's own work, the baseline;
* *page (in-process)*: the whole Django request (session, permissions, form, queries,
  template) through ``django.test.Client``: the server time of the page; *first* is the first
  request of the case (nothing cached), *median* the runs after it (a grouped query that took
  250 ms or more is reused for a minute: gui.cdrs.listing.hourly);
* *page (HTTP)*: the same URL with explicit dates (no pinned clock there) through gunicorn
  (2 workers), signed in with a session cookie, the body read by the client.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import urllib.parse
import urllib.request

from bench.common import (
    BENCH_PASSWORD,
    BENCH_USER,
    Server,
    bench_table,
    bench_url,
    median_ms,
    setup_django,
    timed,
)

DEFAULT_URL = "mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_gui"
NOW = dt.datetime(2026, 10, 31, 0, 0, 0)  # the end of the bench data (UTC, the sniffer's zone)
DAY = "2026-10-30"
SNIFFER_TABLES = ("`cdr`", "`cdr_next", "`cdr_sip_response`", "`cdr_ua`", "`sensors`")

CASES = [
    # (label, query string of /cdrs/ in-process with the pinned clock, the same for HTTP)
    ("default page (last 24 h, 50 newest)", "", f"date_from={DAY}T00:00:00"),
    ("last 24 h, 200 rows", "page_size=200", f"date_from={DAY}T00:00:00&page_size=200"),
    ("last 24 h, caller prefix 420601%", "caller=420601%25",
     f"date_from={DAY}T00:00:00&caller=420601%25"),
    ("last 24 h, 4xx/5xx only", "sip_response=4xx,5xx",
     f"date_from={DAY}T00:00:00&sip_response=4xx,5xx"),
    ("last 24 h, sorted by duration", "sort=-duration",
     f"date_from={DAY}T00:00:00&sort=-duration"),
    ("last 7 days", "window=7d", "date_from=2026-10-24T00:00:00"),
    ("all time (1M calls: no chart, rows only)", "window=all", "window=all"),
]  # fmt: skip


def _deep_cursor_case(client) -> tuple[str, str]:
    """The 20th page of the default list (19 × 'Older' from the first), by its cursor."""
    url = "/cdrs/"
    for _ in range(19):
        body = client.get(url).content.decode()
        href = re.search(r'id="page-next"[^>]*href="\?([^"]*)"', body).group(1)
        url = "/cdrs/?" + href.replace("&amp;", "&")
    return ("page 20 of the default list (keyset)", url.split("?", 1)[1])


def main() -> None:
    url = os.environ.get("VMGUI_BENCH_MYSQL_URL") or DEFAULT_URL
    os.environ["VMGUI_BENCH_MYSQL_URL"] = url
    rows = int(os.environ.get("VMGUI_BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "20"))
    setup_django(bench_url())

    import MySQLdb
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench import data
    from gui.cdrs import listing

    user = bench_table(rows)
    now = timezone.make_aware(NOW)
    listing.now = lambda: now  # the data's last day is "the last 24 hours"
    from django.core.cache.backends.locmem import LocMemCache

    listing.cache = LocMemCache("bench-gui-list", {})  # cleared per case: "first" is cold
    client = Client()
    client.force_login(user)
    db = connection.settings_dict
    raw = MySQLdb.connect(
        host=db["HOST"], port=int(db["PORT"]), user=db["USER"], passwd=db["PASSWORD"], db=db["NAME"]
    )
    cursor = raw.cursor()
    cases = [(label, q, h) for label, q, h in CASES]
    deep_label, deep_query = _deep_cursor_case(client)
    cases.insert(1, (deep_label, deep_query, None))

    print(f"{data.row_count():,} CDRs; median ms of {runs} runs")
    print("| case | rows shown | calls matching | statements | direct SQL | page first "
          "| page median | median / SQL | page (HTTP) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    env = {"VMGUI_DATABASE_URL": url, "VMGUI_LOG_LEVEL": "WARNING"}
    with Server(env) as server:
        cookie = _session_cookie(server.port)
        for label, query, http_query in cases:
            path = f"/cdrs/?{query}" if query else "/cdrs/"
            listing.cache.clear()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                first_ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content[:2000]
            body = response.content.decode()
            shown = body.count("<tr data-id=")
            total = re.search(r'<span id="cdr-total">([\d,]+)</span>', body)
            statements = [
                q["sql"] for q in captured.captured_queries
                if any(t in q["sql"] for t in SNIFFER_TABLES)
            ]  # fmt: skip

            def direct(statements=statements) -> None:
                for sql in statements:  # the captured SQL has its parameters inlined
                    cursor.execute(sql)
                    cursor.fetchall()

            direct_ms = median_ms(timed(direct, runs))
            page_ms = median_ms(timed(lambda path=path: client.get(path), runs))
            http_ms = None
            if http_query is not None:
                full = f"http://127.0.0.1:{server.port}/cdrs/?{http_query}"
                assert _get(full, cookie).count(b"<tr data-id=") == shown
                http_ms = median_ms(timed(lambda full=full: _get(full, cookie), runs))
            print(
                f"| {label} | {shown} | {total.group(1) if total else 'not counted'} "
                f"| {len(statements)} | {direct_ms:.1f} | {first_ms:.1f} | {page_ms:.1f} "
                f"| {page_ms / direct_ms:.2f}× | {'' if http_ms is None else f'{http_ms:.1f}'} |",
                flush=True,
            )
    raw.close()


def _session_cookie(port: int) -> str:
    """A signed-in session through sql.php's bypass_login (the same session as the GUI's)."""
    import json

    query = urllib.parse.urlencode(
        {"module": "bypass_login", "user": BENCH_USER, "pass": BENCH_PASSWORD}
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/php/model/sql.php?{query}") as answer:
        body = json.loads(answer.read())
    return f"{body['cookie_name']}={body['SID']}"


def _get(url: str, cookie: str) -> bytes:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    assert time.perf_counter() - start < 120
    return body


if __name__ == "__main__":
    main()
