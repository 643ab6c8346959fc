"""Every query shape of the engine reads an index range or pruned partitions, never the whole
``cdr`` table, when a time range is given (issue 19).

A partitioned table (30 daily partitions) is filled by the carrier generator (bench.carrier_data:
realistic numbers, sensors, SIP codes, quality values, custom headers) with enough rows that
the optimizer's choice is real; then each shape runs through the engine, the statements it
sends are captured and MariaDB's EXPLAIN PARTITIONS of each is checked: no access to ``cdr``
(or a child table: cdr_next, cdr_next_N) that is a full scan (``ALL`` / ``index``) over every
partition, and no partitioned table (the page's joins included) opened beyond the shape's
range.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import carrier_data
from cdr import schema
from cdr.query import engine
from cdr.query.engine import CdrFilter
from cdr.query.scope import CdrScope

pytestmark = pytest.mark.mysql

ROWS = 60_000  # 2,000 calls a day over 30 days
SCOPE = CdrScope.unrestricted()
CHILD_TABLES = ("cdr", "cdr_next", "cdr_next_1")
WEEK_PARTITIONS = 7  # the widest range of the shapes below: days 10-16


def _day(day: int, hours: int = 24) -> dict:
    start = timezone.make_aware(dt.datetime.combine(carrier_data.START, dt.time()))
    start += dt.timedelta(days=day)
    return {"date_from": start, "date_to": start + dt.timedelta(hours=hours, seconds=-1)}


@pytest.fixture
def carrier_table(sniffer_schema):
    """The generated table; the fixture restores the default test schema afterwards."""
    carrier_data.generate(ROWS, threads=1, history_days=0)  # 30 days in 31 partitions
    schema.clear_cache()
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller, called FROM cdr WHERE ID = %s", [ROWS // 2])
        caller, called = cursor.fetchone()
        cursor.execute("SELECT fbasename FROM cdr_next WHERE cdr_ID = %s", [ROWS // 2])
        call_id = cursor.fetchone()[0]
    yield {"caller": caller, "called": called, "call_id": call_id}
    schema.clear_cache()


def _shapes(known: dict) -> dict:
    """name → a function running one engine shape with a time range."""
    day, week = _day(14), {**_day(10), "date_to": _day(16)["date_to"]}
    return {
        "time window (1 hour)": lambda: engine.fetch_rows(
            CdrFilter(**_day(14, 1)), SCOPE, order=("calldate",), limit=100
        ),
        "time window newest first": lambda: engine.fetch_rows(
            CdrFilter(**day), SCOPE, order=("-calldate",), limit=100
        ),
        "exact number": lambda: engine.fetch_rows(
            CdrFilter(**week, caller=[known["caller"]]), SCOPE, limit=100
        ),
        "number prefix": lambda: engine.fetch_rows(
            CdrFilter(**day, caller=["420601%"]), SCOPE, limit=100
        ),
        "number suffix": lambda: engine.fetch_rows(
            CdrFilter(**week, called=["%" + known["called"][-5:]]), SCOPE, limit=100
        ),
        "msisdn OR": lambda: engine.fetch_rows(
            CdrFilter(**week, caller=[known["caller"]], called=[known["caller"]], numbers_or=True),
            SCOPE,
            limit=100,
        ),
        "Call-ID": lambda: engine.fetch_rows(
            CdrFilter(**week, call_ids=[known["call_id"]]), SCOPE, limit=100
        ),
        "fixed custom header": lambda: engine.fetch_rows(
            CdrFilter(**day, custom_headers={"X-Customer-ID": "CUST-0001%"}),
            SCOPE,
            limit=100,
            custom_headers=["X-Customer-ID", "X-Tenant"],
        ),
        "dynamic custom header": lambda: engine.fetch_rows(
            CdrFilter(**day, custom_headers={"X-Tenant": "acme"}), SCOPE, limit=100
        ),
        "caller IP network": lambda: engine.fetch_rows(
            CdrFilter(**day, sipcallerip=["10.11.0.0/16"]), SCOPE, limit=100
        ),
        "quality (MOS, loss)": lambda: engine.fetch_rows(
            CdrFilter(
                **day,
                column_conditions={
                    "a_mos_f1_mult10__lte|b_mos_f1_mult10__lte": 30,
                    "packet_loss_perc_mult1000__gte": 2000,
                },
            ),
            SCOPE,
            limit=100,
        ),
        "sensor + SIP code": lambda: engine.fetch_rows(
            CdrFilter(**day, sensors=[2], sip_responses=[486]), SCOPE, limit=100
        ),
        "count": lambda: engine.count(CdrFilter(**week), SCOPE),
        "deep page (offset 1500)": lambda: engine.fetch_rows(
            CdrFilter(**day), SCOPE, order=("-calldate",), offset=1500, limit=100
        ),
        "keyset page": lambda: engine.fetch_after(
            CdrFilter(**week), SCOPE, after=(day["date_to"], ROWS), limit=100
        ),
        "CDR_stats (per SIP response)": lambda: engine.aggregate(
            CdrFilter(**day), SCOPE, ["lastSIPresponse"]
        ),
        "call_stats (metrics)": lambda: engine.call_stats(CdrFilter(**_day(14, 1)), SCOPE),
    }


def _plan(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN PARTITIONS " + sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _wide_reads(sql: str, params, most: int) -> list[str]:
    """EXPLAIN rows of a partitioned table (any alias: a join too) that read more than
    ``most`` partitions."""
    return [
        f"{row['table']}: {len(row['partitions'].split(','))} partitions ({row['type']})"
        for row in _plan(sql, params)
        if row["partitions"] and len(row["partitions"].split(",")) > most
    ]


def _full_scans(sql: str, params, partitions: dict[str, int]) -> list[str]:
    """EXPLAIN rows that read a whole table (every partition) without an index range."""
    plan = _plan(sql, params)
    bad = []
    for row in plan:
        table = row["table"]
        if table not in partitions or row["type"] not in ("ALL", "index"):
            continue
        read = len((row["partitions"] or "").split(",")) if row["partitions"] else 0
        if read >= partitions[table]:
            bad.append(f"{table}: {row['type']} over all {read} partitions (key {row['key']})")
    return bad


def test_no_shape_scans_a_whole_table_when_a_time_range_is_given(carrier_table):
    _check_distributions()
    partitions = {table: carrier_data.partitions(table) for table in CHILD_TABLES}
    assert partitions["cdr"] >= 30  # daily partitions: a full scan is distinguishable
    offenders = {}
    wide = {}
    explained = 0
    for name, run in _shapes(carrier_table).items():
        with CaptureQueriesContext(connection) as queries:
            result = run()
        assert result is not None
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "`cdr" not in sql:
                continue
            explained += 1
            # The captured SQL has its parameters inlined already (the driver's own quoting).
            bad = _full_scans(sql.replace("%", "%%"), (), partitions)
            if bad:
                offenders[name] = (bad, sql[:300])
            # Every shape's range is at most a week: no table, the page's joins included,
            # may open more partitions than that (cdr.query.rows ``_bounded``).
            over = _wide_reads(sql.replace("%", "%%"), (), WEEK_PARTITIONS)
            if over:
                wide[name] = (over, sql[:300])
    assert explained >= len(_shapes(carrier_table))
    assert offenders == {}
    assert wide == {}
    # The detector itself: the same count without its time range reads every partition.
    with CaptureQueriesContext(connection) as queries:
        engine.count(CdrFilter(), SCOPE)
    assert _full_scans(queries.captured_queries[-1]["sql"], (), partitions)


def _check_distributions() -> None:
    """The generated table is the carrier mix the plans are checked on (not uniform noise)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(DISTINCT caller), COUNT(DISTINCT id_sensor) FROM cdr"
        )
        rows, callers, sensors = cursor.fetchone()
        cursor.execute(
            "SELECT lastSIPresponseNum FROM cdr GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"
        )
        top = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM cdr WHERE connect_duration IS NULL "
            "AND a_mos_f1_mult10 IS NOT NULL"
        )
        unanswered_with_rtp = cursor.fetchone()[0]
    assert rows == ROWS and sensors == 6 and top == 200
    assert ROWS // 4 < callers < ROWS  # heavy callers repeat, most numbers are rare
    assert unanswered_with_rtp == 0
