"""sql.php ``total``: what a LISTING page costs next to the COUNT(*) of the same filter.

Run: ``python -m bench.sqlphp_total`` (MariaDB only; also part of ``python -m bench``). The
database is named by ``VMGUI_BENCH_MYSQL_URL`` (default
``mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench``); it is created when missing and filled by
``bench.data.generate`` with ``VMGUI_BENCH_ROWS`` (default 1,000,000) synthetic CDRs over 30
days, unless it already holds exactly that many (then it is reused as it is).
``VMGUI_BENCH_TOTAL_BUDGET_MS`` tries another time budget for the count (sql.php's
``SQL_TOTAL_BUDGET_MS``, default 1000).

For each typical GUI filter (last day, week, 30 days; also with a caller prefix and a called
suffix) it prints the median of ``VMGUI_BENCH_RUNS`` (default 5) runs, in ms, of:

- ``page``: the first LISTING page through the engine (100 rows newest first, enriched);
- ``id-sort``: the same page sorted ``calldate DESC, ID DESC`` in one query (the engine's
  plan before this benchmark; see docs/benchmarks.md);
- ``count``: ``COUNT(*)`` of the filter (the exact ``total``);
- ``exact``: the whole sql.php LISTING request with ``deferTotal=0`` (page + count + JSON);
- ``auto``: the same request as clients send it (the count under its time budget), with
  ``D`` when the total was deferred.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import time

from bench.common import bench_url, median_ms, setup_django, timed

PAGE = 100
ORDER = ("-calldate",)  # the GUI's CDR list: newest first


def _filters(end: dt.datetime):
    """(label, CdrFilter, sql.php fields) of the typical listings ending at ``end``."""
    from cdr.query.engine import CdrFilter

    result = []
    for extra_label, extra, fields in (
        ("", {}, {}),
        (" + caller 420601%", {"caller": ["420601%"]}, {"fcaller": "420601%"}),
        (" + called %123", {"called": ["%123"]}, {"fcalled": "%123"}),
    ):
        for label, days in (("1 day", 1), ("1 week", 7), ("30 days", 30)):
            start = end - dt.timedelta(days=days)
            f = CdrFilter(date_from=start, date_to=end, **extra)
            request = {
                "task": "LISTING",
                "module": "CDR",
                "fdatefrom": start.strftime("%Y-%m-%dT%H:%M:%S"),
                "fdateto": end.strftime("%Y-%m-%dT%H:%M:%S"),
                "limit": PAGE,
                **fields,
            }
            result.append((label + extra_label, f, request))
    return result


def _listing(client, fields: dict) -> dict:
    response = client.get("/php/model/sql.php", fields)
    body = json.loads(response.content)
    if not body.get("success"):
        raise SystemExit(f"sql.php failed: {body}")
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("VMGUI_BENCH_ROWS", 1e6)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("VMGUI_BENCH_RUNS", 5)))
    args = parser.parse_args(argv if argv is not None else [])

    setup_django(bench_url())
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from api.legacy import sql_listing
    from bench.data import DAYS, START, generate, row_count
    from cdr import schema
    from cdr.query import engine as query
    from cdr.query.scope import CdrScope

    if row_count() != args.rows:
        start = time.perf_counter()
        generate(args.rows)
        print(f"generated {args.rows} rows in {time.perf_counter() - start:.1f} s")
    schema.clear_cache()
    settings.API_DISABLE_AUTH = True  # anonymous requests: no login in the measured path
    logging.getLogger("api.legacy.sql_php").setLevel(logging.WARNING)  # one INFO line per request
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    scope = CdrScope.unrestricted()
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    if "VMGUI_BENCH_TOTAL_BUDGET_MS" in os.environ:  # try another budget for the count
        settings.SQL_TOTAL_BUDGET_MS = int(os.environ["VMGUI_BENCH_TOTAL_BUDGET_MS"])
    budget = getattr(settings, "SQL_TOTAL_BUDGET_MS", sql_listing.TOTAL_BUDGET_MS)
    print(
        f"MariaDB {version}, {row_count()} rows in cdr; median of {args.runs} runs, ms; "
        f"total budget {budget} ms"
    )
    header = (
        f"{'filter':30} {'matches':>8} {'page':>7} {'id-sort':>8} {'count':>7} "
        f"{'exact':>7} {'auto':>9}"
    )
    print(header)
    print("-" * len(header))
    end = timezone.make_aware(dt.datetime.combine(START, dt.time()) + dt.timedelta(days=DAYS))
    for label, f, fields in _filters(end):
        page = median_ms(
            timed(lambda f=f: query.fetch_rows(f, scope, order=ORDER, limit=PAGE), args.runs)
        )
        id_sort = median_ms(
            timed(
                lambda f=f: query.fetch_rows(f, scope, order=("-calldate", "-ID"), limit=PAGE),
                args.runs,
                warmup=1,
            )
        )
        count = median_ms(timed(lambda f=f: query.count(f, scope), args.runs))
        exact = median_ms(
            timed(lambda x=fields: _listing(client, {**x, "deferTotal": 0}), args.runs)
        )
        auto = median_ms(timed(lambda x=fields: _listing(client, x), args.runs))
        deferred = _listing(client, fields)["deferTotal"]
        total = query.count(f, scope)
        print(
            f"{label:30} {total:>8} {page:>7.1f} {id_sort:>8.1f} {count:>7.1f} "
            f"{exact:>7.1f} {auto:>7.1f} {'D' if deferred else ' '}"
        )


if __name__ == "__main__":
    main()
