"""Per-row cost of a big getVoipCalls answer, stage by stage, in-process (issue 19).

Usage::

    VMGUI_BENCH_MYSQL_URL=mysql://vmgui:vmgui@127.0.0.1:33306/vmgui_bench_carrier \\
    .venv/bin/python -m bench.rowcost
    # the same stages of another checkout (its own code, this script):
    PYTHONPATH=/path/to/old/checkout .venv/bin/python bench/rowcost.py

On the ``bench.carrier_data`` table (generate it with ``python -m bench.carrier``): the page
of the 10,000 calls from ``VMGUI_BENCH_ROW`` (default the 500,000th) on, API_MAX_ROWS' size. Stages, each the best of
``VMGUI_BENCH_RUNS`` (default 15) runs, in µs per row:

* *SQL*: the page's joined statement run directly on a plain MySQLdb connection and fetched
  (tuples, the driver's default conversions, as bench.carrier's floor): the floor of a row;
* *engine*: ``fetch_page`` (``fetch_rows`` in older trees) minus *SQL* (ORM conversions,
  display text, look-up keys);
* *shape*: engine rows → api.php's row dicts;
* *JSON*: the answer's bytes;
* *api.php answer*: ``get_voip_calls`` and its JSON as the face runs them (a tree that
  streams its pages overlaps the stages above with the SQL).

Then the same stages for the REST list (a keyset page of 1,000 rows, its rows as the REST
API shows them, the tree's DRF renderer).

Works on trees from before issue 19's row work too (per-row ``voip_call_row``, the standard
library's JSON), so a before/after pair is two runs of this script.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: another checkout on PYTHONPATH comes first
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from bench.common import bench_url, raw_connection, setup_django


def _best(fn, runs: int) -> tuple[float, object]:
    fn()
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _sql_floor(read, runs: int) -> float:
    """Best time of the page statement ``read()`` sends (the joined one, else all it sends),
    run directly on a plain MySQLdb connection (the driver's own conversions) and fetched."""
    from django.db import connection

    statements: list[tuple] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        read()
    page = [(sql, params) for sql, params in statements if "cdr_sip_response" in sql]

    raw = raw_connection()

    def sql_only():
        cursor = raw.cursor()
        for sql, params in page or statements:
            cursor.execute(sql, params)
            cursor.fetchall()

    try:
        return _best(sql_only, runs)[0]
    finally:
        raw.close()


def main() -> None:
    os.environ.setdefault("VMGUI_LOG_LEVEL", "WARNING")
    runs = int(os.environ.get("VMGUI_BENCH_RUNS", "15"))
    setup_django(bench_url())
    from django.db import connection
    from django.utils import timezone

    from api.legacy import api_php, tasks_cdr
    from cdr.query import engine
    from cdr.query.engine import CdrFilter
    from cdr.query.scope import CdrScope

    def dumps(value) -> bytes:
        return api_php.JsonResponse(value).content  # what the tree answers with

    if hasattr(tasks_cdr, "voip_call_rows"):
        shape = tasks_cdr.voip_call_rows
    else:

        def shape(rows, headers):
            return [tasks_cdr.voip_call_row(row, headers) for row in rows]

    zone = timezone.get_current_timezone()
    first = int(os.environ.get("VMGUI_BENCH_ROW", "500000"))
    with connection.cursor() as cursor:  # calls are numbered in calldate order by the generator
        cursor.execute("SELECT MIN(calldate), MAX(calldate) FROM cdr WHERE ID BETWEEN %s AND %s",
                       [first, first + 9_999])  # fmt: skip
        start, end = cursor.fetchone()
    f = CdrFilter(
        date_from=timezone.make_aware(start, zone), date_to=timezone.make_aware(end, zone)
    )
    scope = CdrScope.unrestricted()
    # what getVoipCalls reads: a columnar page where the tree has one, else row dicts
    fetch = getattr(engine, "fetch_page", engine.fetch_rows)

    def read():
        return fetch(f, scope, limit=10_001)

    sql_t = _sql_floor(read, runs)
    rows_t, rows = _best(read, runs)
    n = len(rows)
    shape_t, shaped = _best(lambda: shape(rows, []), runs)
    json_t, body = _best(lambda: dumps({"success": True, "cdr": shaped}), runs)
    per = 1e6 / n
    engine_row = (rows_t - sql_t) * per
    load = os.getloadavg()[0]
    print(f"{n:,} rows, {len(body) / n:,.0f} bytes of JSON a row, load {load:.1f}")
    print(f"SQL {sql_t * per:.1f} | engine {engine_row:.1f} | shape {shape_t * per:.1f} | "
          f"JSON {json_t * per:.1f} | beyond the SQL {engine_row + (shape_t + json_t) * per:.1f}"
          " µs per row")  # fmt: skip
    _answer(start, end, sql_t, n, runs)
    _rest(f, scope, runs)


def _answer(start, end, sql_t: float, n: int, runs: int) -> None:
    """The whole getVoipCalls answer as the face builds it (``get_voip_calls`` and its JSON):
    the stages above one after the other, or overlapped where the tree streams its pages."""
    from django.contrib.auth import get_user_model

    from accounts.services import ApiPrincipal
    from api.legacy import api_php, tasks_cdr
    from cdr.query.scope import CdrScope

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        print("api.php answer: no superuser in the bench database (run bench.carrier once)")
        return
    principal = ApiPrincipal(user, CdrScope.unrestricted())
    params = {"startTime": f"{start:%Y-%m-%d %H:%M:%S}", "startTimeTo": f"{end:%Y-%m-%d %H:%M:%S}"}

    def answer():
        return api_php.success(tasks_cdr.get_voip_calls(params, principal)).content

    answer_t, body = _best(answer, runs)
    per = 1e6 / n
    print(f"api.php answer in-process ({body.count(b'cdrId'):,} rows): {answer_t * 1000:.1f} ms, "
          f"{answer_t / sql_t:.2f}x the SQL, beyond the SQL {(answer_t - sql_t) * per:.1f} µs per row")  # fmt: skip


def _rest(f, scope, runs: int) -> None:
    """The REST list's rows the same way: a keyset page of 1,000 (its largest default-ish
    page), engine, rows, JSON (the tree's renderer)."""
    from rest_framework.settings import api_settings

    from api.rest import rows as rest_rows
    from cdr.query import engine

    page_after = getattr(engine, "page_after", engine.fetch_after)
    to_json = getattr(rest_rows, "cdr_json_rows", None) or (
        lambda rows: [rest_rows.cdr_json(r) for r in rows]
    )
    renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()

    def read():
        return page_after(f, scope, descending=False, limit=1000)

    sql_t = _sql_floor(read, runs)
    rows_t, rows = _best(read, runs)
    json_rows_t, out = _best(lambda: to_json(rows), runs)
    render_t, _ = _best(lambda: renderer.render({"results": out}), runs)
    per = 1e6 / len(rows)
    engine_row = (rows_t - sql_t) * per
    print(f"REST list, {len(rows):,} rows: SQL {sql_t * per:.1f} | engine {engine_row:.1f} | "
          f"rows {json_rows_t * per:.1f} | JSON {render_t * per:.1f} | beyond the SQL "
          f"{engine_row + (json_rows_t + render_t) * per:.1f} µs per row")  # fmt: skip


if __name__ == "__main__":
    main()
