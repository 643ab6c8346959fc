"""Pages read in one statement with their look-ups (cdr.query.rows.fetch_joined, issue 19).

The page is joined with cdr_sip_response, cdr_ua, sensors and cdr_next in the same query:
same rows and values as the batched look-ups (``enrich``), in one round trip, and never a
stale text (nothing is cached: a text the sniffer adds or an admin renames shows at once).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from cdr.models import CdrSipResponse, Sensor
from cdr.query import engine
from cdr.query.engine import CdrFilter, fetch_rows, iter_rows
from cdr.query.rows import enrich
from cdr.query.scope import CdrScope
from cdr.query.storedtext import stored_form
from tests.conftest import DEFAULT_SCHEMA
from tests.factories import (
    add_fixed_header_column,
    aware,
    custom_header_definition,
    make_call,
    sensor,
)

SCOPE = CdrScope.unrestricted()
DAY = CdrFilter(date_from=aware("2026-11-27 00:00:00"), date_to=aware("2026-11-27 23:59:59"))


def _stored(text: str) -> str:
    """``text`` as the sniffer stores it (UTF-8 bytes in latin1 columns on MariaDB)."""
    return stored_form(text) if connection.vendor == "mysql" else text


def _calls() -> list[int]:
    sensor(1, _stored("Praha-jádro"))
    sensor(2, _stored("東京 edge 📞"))
    ids = []
    for n, (caller, name, response, ua, sensor_id) in enumerate(
        [
            ("+420601111222", "Jiří Dvořák", "200 OK", "Yealink ř/1.0", 1),
            ("+81312345678", "山田太郎", "486 Busy Here", "Linphone 日本", 2),
            ("1001", "Support 🎧", "487 Request Terminated", None, None),
            ("1002", "Plain", "603 Decline", "FixturePhone/1.0", 3),  # sensor 3 has no row
        ]
    ):
        ids.append(
            make_call(
                f"2026-11-27 1{n}:00:00",
                caller=caller,
                callername=_stored(name),
                response=_stored(response),
                ua=ua and _stored(ua),
                id_sensor=sensor_id,
                call_id=_stored(f"čšř-{n}@例え.jp"),
            ).ID
        )
    return ids


@pytest.mark.django_db
def test_a_page_is_one_query_with_the_same_rows_as_the_batched_look_ups():
    ids = _calls()
    fetch_rows(DAY, SCOPE, limit=1)  # the schema introspection of the first use
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(DAY, SCOPE, order=("-calldate",), limit=10)
    assert len(queries.captured_queries) == 2  # the page's calldate bound, then the page
    expected = enrich(
        list(engine._page(DAY, SCOPE, ("-calldate",), 0, 10).values(*engine.row_columns())), []
    )  # the batched look-ups
    assert rows == expected
    assert [r["ID"] for r in rows] == ids[::-1]
    by_id = {r["ID"]: r for r in rows}
    assert by_id[ids[0]]["callername"] == "Jiří Dvořák"
    assert by_id[ids[1]]["sensorname"] == "東京 edge 📞"
    assert by_id[ids[1]]["a_ua"] == "Linphone 日本"
    assert by_id[ids[1]]["lastSIPresponse"] == "486 Busy Here"
    assert by_id[ids[2]]["sensorname"] is None and by_id[ids[2]]["a_ua"] is None
    assert by_id[ids[3]]["sensorname"] is None  # a sensor id without a sensors row
    assert by_id[ids[0]]["fbasename"] == "čšř-0@例え.jp"


@pytest.mark.django_db
def test_a_sip_response_text_the_sniffer_adds_is_shown_at_once():
    _calls()
    fetch_rows(DAY, SCOPE, limit=10)  # every text known so far has been read
    new = make_call("2026-11-27 20:00:00", response=_stored("488 Not Acceptable Here ☎"))
    rows = fetch_rows(DAY, SCOPE, limit=10)
    assert rows[-1]["ID"] == new.ID
    assert rows[-1]["lastSIPresponse"] == "488 Not Acceptable Here ☎"
    assert CdrSipResponse.objects.count() == 5


@pytest.mark.django_db
def test_a_renamed_sensor_is_shown_with_its_new_name_at_once():
    ids = _calls()
    assert fetch_rows(DAY, SCOPE, limit=10)[0]["sensorname"] == "Praha-jádro"
    Sensor.objects.filter(id_sensor=1).update(name="Brno-okraj")
    rows = {r["ID"]: r for r in fetch_rows(DAY, SCOPE, limit=10)}
    assert rows[ids[0]]["sensorname"] == "Brno-okraj"


@pytest.mark.django_db
def test_a_selective_filter_skips_the_calldate_bound_query():
    ids = _calls()
    f = CdrFilter(date_from=DAY.date_from, date_to=DAY.date_to, caller=["+81312345678"])
    fetch_rows(DAY, SCOPE, limit=1)  # the schema introspection of the first use
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(f, SCOPE, order=("-calldate",), limit=10)
    assert [r["ID"] for r in rows] == [ids[1]]
    assert len(queries.captured_queries) == 1
    prefix = CdrFilter(date_from=DAY.date_from, date_to=DAY.date_to, caller=["+81%"])
    with CaptureQueriesContext(connection) as queries:
        assert [r["ID"] for r in fetch_rows(prefix, SCOPE, order=("-calldate",), limit=10)] == [
            ids[1]
        ]
    assert len(queries.captured_queries) == 2  # a pattern may match many: bounded page


@pytest.mark.django_db
def test_a_streamed_listing_has_the_rows_of_the_page_and_frees_the_connection():
    for n in range(25):
        make_call(aware(dt.datetime(2026, 11, 27, 8)) + dt.timedelta(minutes=n), caller=f"77{n}")
    paged = fetch_rows(DAY, SCOPE, order=("-calldate",), limit=1000)
    assert [r["ID"] for r in iter_rows(DAY, SCOPE, order=("-calldate",), chunk=7)] == [
        r["ID"] for r in paged
    ]
    assert list(iter_rows(DAY, SCOPE, order=("-calldate",), chunk=7)) == paged
    stream = iter_rows(DAY, SCOPE, order=("-calldate",), chunk=5)
    assert next(stream)["ID"] == paged[0]["ID"]
    stream.close()  # a client that went away: the rest of the result is discarded
    assert engine.count(DAY, SCOPE) == 25  # the connection answers the next query


@pytest.mark.django_db
def test_a_stream_started_in_a_fresh_process_reads_every_row():
    """Nothing may query while a server-side cursor holds the connection: the latin1 column
    look-up of a cold process happens before the streamed statement runs."""
    from cdr import schema

    for n in range(5):
        make_call(f"2026-11-27 09:0{n}:00", callername=_stored(f"Zákazník {n} 日本"))
    schema.clear_cache()  # as in a new worker: no column information cached
    rows = list(iter_rows(DAY, SCOPE, order=("calldate",), chunk=2))
    assert [r["callername"] for r in rows] == [f"Zákazník {n} 日本" for n in range(5)]
    assert engine.count(DAY, SCOPE) == 5


@pytest.mark.django_db
def test_the_page_is_found_on_its_keys_and_its_columns_read_by_primary_key():
    """Deferred join: the derived table sorts and limits only (ID, calldate), so MariaDB can
    answer it from an index; ``cdr``'s columns are read for the page's rows alone."""
    ids = _calls()
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(DAY, SCOPE, order=("-calldate",), offset=1, limit=2)
    assert [r["ID"] for r in rows] == ids[::-1][1:3]
    sql = queries.captured_queries[-1]["sql"]
    qn = connection.ops.quote_name
    inner = sql[sql.index("FROM (") + len("FROM (") : sql.index(") p ")]
    selected = inner[len("SELECT ") : inner.index(f" FROM {qn('cdr')}")]
    columns = [item.split(" AS ")[0] for item in selected.split(", ")]
    assert columns == [f"{qn('cdr')}.{qn('ID')}", f"{qn('cdr')}.{qn('calldate')}"]
    outer = sql[sql.index(") p JOIN ") : sql.index(" LEFT JOIN ")]
    assert f"{qn('cdr')}.{qn('ID')} = p.{qn('ID')}" in outer
    assert f"{qn('cdr')}.{qn('calldate')} = p.{qn('calldate')}" in outer


@pytest.mark.django_db
def test_a_page_sorted_by_another_column_keeps_its_order():
    for n, duration in enumerate((30, 5, 120, 60)):
        make_call(f"2026-11-27 0{n}:00:00", caller=f"55{n}", duration=duration)
    rows = fetch_rows(DAY, SCOPE, order=("-duration",), limit=3)
    assert [r["duration"] for r in rows] == [120, 60, 30]


@pytest.mark.django_db
def test_the_row_columns_and_page_plan_are_made_once_per_connection():
    from cdr import schema
    from cdr.query import rows as rowsmod

    _calls()
    fetch_rows(DAY, SCOPE, limit=1)
    wrapper = connections["default"]  # ``connection`` is a proxy to it
    before = dict(rowsmod._PLANS[wrapper])
    assert [k for k in before if k[0] == "page"]  # the page's joins and row maker
    fetch_rows(DAY, SCOPE, limit=2)
    after = rowsmod._PLANS[wrapper]
    assert after.keys() == before.keys()
    assert all(after[key] is plan for key, plan in before.items())  # reused, not rebuilt
    schema.clear_cache()  # after DDL: introspection may say other things now
    fetch_rows(DAY, SCOPE, limit=2)
    pages = [k for k in rowsmod._PLANS[wrapper] if k[0] == "page"]
    assert len(pages) == 1 + len([k for k in before if k[0] == "page"])  # a new generation


def _django_inner(qs, keys):
    """The page's keys as Django's full SELECT compile writes them (the reference)."""
    return qs.values_list(*keys)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("f", "scope", "order", "offset", "limit", "count"),
    [
        (DAY, SCOPE, ("calldate",), 0, 10, 10),
        (DAY, SCOPE, ("-calldate",), 2, 3, 3),
        (DAY, SCOPE, ("-duration",), 0, None, 10),
        (DAY, SCOPE, ("calldate",), 4, None, 6),  # an offset without a limit
        (DAY, SCOPE, ("calldate",), 0, 0, 0),  # nothing can match: no statement
        (CdrFilter(), SCOPE, ("ID",), 0, 5, 5),  # no condition at all
        (CdrFilter(caller=["+420%", "1001"], numbers_or=True, called=["1001"]), SCOPE, (), 0, 9, 8),
        (CdrFilter(caller_domain=["%example%"], sipcallerip=["10.0.0.0/8"]), SCOPE, (), 0, 9, 9),
        (CdrFilter(call_ids=["čšř-1@例え.jp", "čšř-2%"]), SCOPE, ("-calldate",), 0, 9, 2),
        (CdrFilter(cdr_ids=[9001, 9003, 9005], sensors=[1, None]), SCOPE, ("calldate",), 0, 9, 1),
        (DAY, CdrScope(sensors=(2,), numbers=("+81%",)), ("calldate",), 0, 9, 1),
        (DAY, CdrScope(networks=("10.0.0.0/24",), domains=("%example.com",)), ("ID",), 0, 9, 9),
        (DAY, CdrScope.nothing(), ("calldate",), 0, 9, 0),
    ],
)
def test_the_page_statement_finds_the_rows_djangos_full_compile_finds(
    f, scope, order, offset, limit, count
):
    """The page's inner statement is written around the compiled WHERE (cdr.query.rows
    ``_inner_sql``): same rows, same order as the ORM's own SELECT, for every kind of filter,
    restriction, sort and slice."""
    from cdr.query import rows as rowsmod

    _calls()
    for n in range(6):
        make_call(
            f"2026-11-27 0{n}:30:00",
            caller=f"+4206011{n}",
            duration=n * 7 % 5,
            id_sensor=None if n == 3 else 1 + n % 2,
            ID=9000 + n,
        )
    qs = engine._ordered(engine.cdr_queryset(f, scope), order)
    qs = qs[offset : offset + limit] if limit is not None else qs[offset:]
    keys = ["ID", "calldate"]
    expected = [tuple(row) for row in _django_inner(qs, keys)]
    try:
        sql, params = rowsmod._inner_sql(qs, keys, connection)
    except rowsmod.EmptyResultSet:
        assert expected == [] and count == 0
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [row[0] for row in cursor.fetchall()]
    assert found == [row[0] for row in expected] and len(found) == count
    if limit != 0:
        assert fetch_rows(f, scope, order=order, offset=offset, limit=limit) == enrich(
            list(engine._page(f, scope, order, offset, limit).values(*engine.row_columns())), []
        )


# --- the unbuffered read (rows.streaming_cursor) --------------------------------------------


@pytest.mark.django_db
def test_a_page_read_unbuffered_is_logged_and_has_the_buffered_rows():
    """The page statement goes through Django's cursor wrappers (query log, execute
    wrappers) on the driver's unbuffered cursor on MySQL, and reads what a buffered cursor
    reads."""
    for n in range(12):
        make_call(aware(dt.datetime(2026, 11, 27, 8)) + dt.timedelta(minutes=n), caller=f"55{n}")
    kinds = []

    def driver_cursor(execute, sql, params, many, context):
        backend = context["cursor"].cursor  # MySQL: Django's MySQL wrapper of the driver's
        kinds.append(type(getattr(backend, "cursor", backend)).__name__)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(driver_cursor):
        page = fetch_rows(DAY, SCOPE, order=("calldate",), limit=100)
    assert any("cdr_sip_response" in q["sql"] for q in queries.captured_queries)
    if connection.vendor == "mysql":
        assert kinds[-1] == "SSCursor"
    with connection.cursor() as cursor:  # the same rows through a plain buffered cursor
        cursor.execute(queries.captured_queries[-1]["sql"])
        assert [row[0] for row in cursor.fetchall()] == [r["ID"] for r in page]
    assert [r["caller"] for r in page] == [f"55{n}" for n in range(12)]


@pytest.mark.mysql  # the unbuffered cursor is MySQL's; elsewhere it is the usual cursor
@pytest.mark.django_db(transaction=True)
def test_a_failing_unbuffered_read_raises_djangos_error_and_frees_the_connection():
    """An error the server sends after the first rows (here: a sub-select that starts to
    return two rows at the third row) reaches the caller as Django's database error, marks
    the connection as having had an error (vmgui.dbhealth pings it before reuse), and the
    connection answers the next statement."""
    from django.db import DatabaseError

    from cdr.query.rows import streaming_cursor

    ids = [make_call(f"2026-11-27 09:0{n}:00").ID for n in range(3)]
    sql = (
        "SELECT c.ID, (SELECT 1 UNION ALL SELECT 2 FROM cdr x WHERE x.ID = c.ID AND c.ID > %s)"
        " FROM cdr c ORDER BY c.ID"
    )
    connection.errors_occurred = False
    try:
        with pytest.raises(DatabaseError, match="more than 1 row|more than one row"):
            with streaming_cursor(connection) as cursor:
                cursor.execute(sql, [ids[1]])
                cursor.fetchall()
        assert connection.errors_occurred
    finally:
        connection.errors_occurred = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cdr")
        assert cursor.fetchone()[0] == 3


@pytest.mark.django_db(transaction=True)
def test_fixed_and_dynamic_custom_headers_come_with_the_page_statement(sniffer_schema):
    """Every requested header, fixed (cdr_next) or dynamic (cdr_next_N), is read by the page
    statement itself, each table joined once, in request order: the same values as the
    batched look-ups, and a streamed page needs no statement of its own."""
    sniffer_schema(DEFAULT_SCHEMA)  # ALTER TABLE commits on MySQL
    add_fixed_header_column("X-Custom-Header")
    custom_header_definition("X-Account-Code", 1, 1)
    custom_header_definition("X-Tenant", 2, 3)
    custom_header_definition("X-Zone", 2, 4)
    ids = [
        make_call(
            "2026-11-27 10:00:00",
            fixed_headers={"X-Custom-Header": _stored("Příjem")},
            dynamic_headers={(1, 1): _stored("ÚČET-日本"), (2, 3): "tenant-9", (2, 4): "z1"},
        ).ID,
        make_call("2026-11-27 11:00:00", dynamic_headers={(2, 4): "z2"}).ID,
        make_call("2026-11-27 12:00:00").ID,
    ]
    names = ["X-Zone", "X-Custom-Header", "X-Account-Code", "X-Tenant"]
    fetch_rows(DAY, SCOPE, limit=1, custom_headers=names)  # the first use's introspection
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(DAY, SCOPE, order=("calldate",), limit=10, custom_headers=names)
    children = [q["sql"] for q in queries.captured_queries if "cdr_next_" in q["sql"]]
    assert len(children) == 1 and "cdr_sip_response" in children[0]  # the page statement
    assert children[0].count("cdr_next_2") == 1  # ...joined once for both of its headers
    headers = engine._headers_or_error(names, SCOPE)
    columns = engine.row_columns()
    expected = enrich(
        list(engine._page(DAY, SCOPE, ("calldate",), 0, 10).values(*columns)), headers
    )
    assert rows == expected
    assert [r["ID"] for r in rows] == ids
    assert list(rows[0]["custom_headers"].items()) == [
        ("X-Zone", "z1"),
        ("X-Custom-Header", "Příjem"),
        ("X-Account-Code", "ÚČET-日本"),
        ("X-Tenant", "tenant-9"),
    ]
    assert rows[1]["custom_headers"] == dict.fromkeys(names) | {"X-Zone": "z2"}
    assert rows[2]["custom_headers"] == dict.fromkeys(names)
    streamed = list(iter_rows(DAY, SCOPE, order=("calldate",), chunk=1, custom_headers=names))
    assert streamed == rows


# --- the page's partitioned joins kept to the filter's calldate window -----------------------


def _explained_partitions(sql: str) -> dict[str, set[str]]:
    """{table alias: the partitions MariaDB's plan reads} of every partitioned table of ``sql``
    (a captured statement: its parameters are inlined already)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN PARTITIONS " + sql.replace("%", "%%"))
        names = [c[0] for c in cursor.description]
        plan = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {row["table"]: set(row["partitions"].split(",")) for row in plan if row["partitions"]}


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_a_page_reads_only_the_partitions_of_its_window(sniffer_schema):
    """The page's joins with ``cdr`` and its partitioned child tables repeat the filter's
    calldate bounds: MariaDB prunes every one of them to the window's partitions, as it does
    the page's own keys. Before, ``cdr`` and ``cdr_next`` were joined on ``calldate =
    p.calldate`` alone and every statement opened all of their partitions (a year of daily
    partitions: a one-row answer took ~2x as long, docs/benchmarks.md "Tenth round")."""
    sniffer_schema(DEFAULT_SCHEMA)  # 15 daily partitions
    add_fixed_header_column("X-Custom-Header")
    custom_header_definition("X-Tenant", 1, 1)
    for day in (26, 27, 28):
        make_call(f"2026-11-{day} 10:00:00", dynamic_headers={(1, 1): f"t{day}"})
    names = ["X-Custom-Header", "X-Tenant"]
    window = CdrFilter(date_from=aware("2026-11-27 00:00:00"), date_to=aware("2026-11-28 09:00"))
    reads = {
        "page": lambda f: fetch_rows(f, SCOPE, limit=10, custom_headers=names),
        "stream": lambda f: list(iter_rows(f, SCOPE, chunk=5, custom_headers=names)),
        "keyset page": lambda f: engine.fetch_after(f, SCOPE, limit=10, custom_headers=names),
    }
    for name, read in reads.items():
        with CaptureQueriesContext(connection) as queries:
            rows = read(window)
        assert [r["custom_headers"]["X-Tenant"] for r in rows] == ["t27"], name
        page = next(
            q["sql"] for q in queries.captured_queries if "LEFT JOIN `cdr_next_1`" in q["sql"]
        )
        found = _explained_partitions(page)
        assert {"cdr", "n", "d1"} <= found.keys(), name  # the joins, by their aliases
        assert all(parts <= {"p261127", "p261128"} for parts in found.values()), (name, found)
    # Without a calldate in the filter there is nothing to prune by: every partition is read
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(CdrFilter(caller=["1001"]), SCOPE, limit=10, custom_headers=names)
    assert len(rows) == 3
    page = next(q["sql"] for q in queries.captured_queries if "LEFT JOIN `cdr_next_1`" in q["sql"])
    assert len(_explained_partitions(page)["n"]) == DEFAULT_SCHEMA.partition_days


_10, _11, _12, _13 = (aware(f"2026-11-27 {h}:00:00") for h in (10, 11, 12, 13))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("window", "bounds"),
    [
        ({"date_from": _11}, (_11, None)),
        ({"date_to": _11}, (None, _11)),  # the edge itself is in the window
        ({"date_from": _10, "date_to": _12}, (_10, _12)),
        ({"callend_to": _11 + dt.timedelta(seconds=30)}, (None, _11 + dt.timedelta(seconds=30))),
        ({"date_to": _13, "callend_to": _11}, (None, _11)),  # the lower of the two
        ({"date_to": _11, "callend_to": _13}, (None, _11)),
    ],
)
def test_a_page_bounded_by_its_window_has_the_rows_of_its_filter(window, bounds):
    """The bounds the page's joins repeat (``calldate_window``) never lose a row the filter
    matches: the lower of ``date_to`` and ``callend_to`` is the upper bound, the window's
    edges are inside it, and every way of reading a page (a page, a stream, a keyset page)
    has the rows of the same filter read without the window."""
    _calls()  # 10:00, 11:00, 12:00 and 13:00, each 30 s long
    f = CdrFilter(**window)
    assert engine.calldate_window(f) == bounds
    columns = engine.row_columns()
    qs = engine._page(f, SCOPE, ("calldate",), 0, 10)
    unbounded = enrich(list(qs.values(*columns)), [])
    assert unbounded  # the window matches some calls
    assert fetch_rows(f, SCOPE, order=("calldate",), limit=10) == unbounded
    assert list(iter_rows(f, SCOPE, order=("calldate",), chunk=1)) == unbounded
    assert engine.fetch_after(f, SCOPE, descending=False, limit=10) == unbounded


@pytest.mark.django_db
def test_a_calls_child_rows_are_read_from_its_partitions_only():
    """The media and SIP-history look-ups of a call's child rows (``rows_of_calls``: cdr_next,
    cdr_rtp, cdr_tar_part, cdr_dtmf) are bounded by the calls' calldates: the same rows, and
    on MariaDB only those days' partitions are read instead of every one."""
    from cdr.models import CdrNext
    from cdr.query.rows import rows_of_calls

    calls = {day: make_call(f"2026-11-{day} 10:00:00", call_id=f"c{day}@x") for day in (26, 27, 28)}
    pairs = {day: (call.ID, call.calldate) for day, call in calls.items()}
    found = rows_of_calls(CdrNext, [pairs[27]]).values_list("cdr_id", "fbasename")
    assert list(found) == [(calls[27].ID, "c27@x")]
    both = rows_of_calls(CdrNext, [pairs[28], pairs[26]]).order_by("cdr_id")
    assert [n.fbasename for n in both] == ["c26@x", "c28@x"]
    assert list(rows_of_calls(CdrNext, [])) == []
    if connection.vendor != "mysql":
        return
    sql, params = rows_of_calls(CdrNext, [pairs[27]]).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN PARTITIONS " + sql, params)
        names = [c[0] for c in cursor.description]
        (plan,) = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert plan["partitions"] == "p261127"
