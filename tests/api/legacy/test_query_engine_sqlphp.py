"""What sql.php added to the CDR query engine: OR'ed column conditions, custom headers by
position, the sort allow-list and its index-friendly order, aggregates, counts under a time
budget, and offset/limit for streamed rows."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdr.query import engine as query
from cdr.query.engine import (
    CdrFilter,
    QueryError,
    aggregate,
    cdr_queryset,
    count_within,
    fetch_rows,
    iter_rows,
    order_keys,
)
from cdr.query.scope import CdrScope
from tests.factories import custom_header_definition, make_call, sensor

ALL = CdrScope.unrestricted()


def ids(f: CdrFilter, scope: CdrScope = ALL) -> set[int]:
    return set(cdr_queryset(f, scope).values_list("ID", flat=True))


# --- column_conditions ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_column_condition_with_bars_matches_any_of_its_lookups():
    a = make_call(a_mos_f1_mult10=30, b_mos_f1_mult10=45).ID
    b = make_call(a_mos_f1_mult10=45, b_mos_f1_mult10=32).ID
    make_call(a_mos_f1_mult10=45, b_mos_f1_mult10=45)
    make_call()  # NULL: never matches
    key = "a_mos_f1_mult10__lte|b_mos_f1_mult10__lte"
    assert ids(CdrFilter(column_conditions={key: 35})) == {a, b}
    assert ids(CdrFilter(column_conditions={key: 31})) == {a}


@pytest.mark.django_db
def test_column_conditions_are_anded_with_each_other():
    both = make_call(a_mos_f1_mult10=30, a_sl1=4).ID
    make_call(a_mos_f1_mult10=30)
    conditions = {"a_mos_f1_mult10__lte|b_mos_f1_mult10__lte": 35, "a_sl1__gte|b_sl1__gte": 1}
    assert ids(CdrFilter(column_conditions=conditions)) == {both}


@pytest.mark.django_db
def test_a_missing_column_in_any_alternative_is_a_query_error():
    with pytest.raises(QueryError, match="no column 'b_nope'"):
        ids(CdrFilter(column_conditions={"a_sl1__gte|b_nope__gte": 1}))


# --- custom headers by position ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_dynamic_header_is_found_by_position_for_filters_and_rows():
    custom_header_definition("X-Account-Code", 1, 1)
    a = make_call(dynamic_headers={(1, 1): "ACC-1"}).ID
    make_call(dynamic_headers={(1, 1): "ACC-2"})
    f = CdrFilter(custom_headers={"custom_header_1_1": "ACC-1"})
    assert ids(f) == {a}
    (row,) = fetch_rows(f, ALL, custom_headers=["custom_header_1_1"])
    assert row["custom_headers"] == {"custom_header_1_1": "ACC-1"}


@pytest.mark.django_db
def test_a_position_without_a_table_is_an_unknown_header():
    with pytest.raises(QueryError, match="unknown custom header 'custom_header_12_1'"):
        ids(CdrFilter(custom_headers={"custom_header_12_1": "x"}))


@pytest.mark.django_db
def test_a_restricted_scope_sees_a_position_only_under_an_allowed_name():
    custom_header_definition("X-Account-Code", 1, 1, name="Account")
    a = make_call(dynamic_headers={(1, 1): "ACC-1"}).ID
    f = CdrFilter(custom_headers={"custom_header_1_1": "ACC-1"})
    assert ids(f, CdrScope(custom_headers=("x-account-code",))) == {a}
    assert ids(f, CdrScope(custom_headers=("Account",))) == {a}
    with pytest.raises(QueryError, match="unknown custom header"):
        ids(f, CdrScope(custom_headers=("X-Other",)))


# --- ordering -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_order_keys_maps_public_names_to_columns():
    assert order_keys([("calldate", True)]) == ["-calldate"]
    assert order_keys([("mos_min", False), ("ID", True)]) == ["mos_min_mult10", "-ID"]
    assert order_keys([("CALLER", False), ("caller", True)]) == ["caller"]  # first one wins


@pytest.mark.django_db
def test_order_keys_refuses_names_outside_the_allow_list():
    with pytest.raises(QueryError, match="cannot sort by 'calldate desc'"):
        order_keys([("calldate desc", False)])
    with pytest.raises(QueryError, match="cannot sort by 'caller_reverse'"):
        order_keys([("caller_reverse", False)])


@pytest.mark.django_db
def test_every_sortable_column_sorts():
    make_call(a_mos_f1_mult10=30)
    make_call(a_mos_f1_mult10=40)
    for name in query.SORTABLE:
        keys = order_keys([(name, True)])
        assert len(fetch_rows(CdrFilter(), ALL, order=keys)) == 2, name


@pytest.mark.django_db
def test_ties_come_by_id_in_the_direction_of_the_sort():
    first = make_call("2026-11-27 10:00:00").ID
    second = make_call("2026-11-27 10:00:00").ID
    early = make_call("2026-11-27 09:00:00").ID
    rows = fetch_rows(CdrFilter(), ALL, order=["-calldate"])
    assert [r["ID"] for r in rows] == [second, first, early]
    rows = fetch_rows(CdrFilter(), ALL, order=["calldate"])
    assert [r["ID"] for r in rows] == [early, first, second]


@pytest.mark.django_db
def test_ties_stay_in_id_order_across_page_boundaries():
    same = [make_call("2026-11-27 10:00:00").ID for _ in range(5)]
    later = make_call("2026-11-27 11:00:00").ID
    pages = [
        fetch_rows(CdrFilter(), ALL, order=["-calldate"], offset=o, limit=2) for o in (0, 2, 4)
    ]
    assert [[r["ID"] for r in page] for page in pages] == [
        [later, same[4]],
        [same[3], same[2]],
        [same[1], same[0]],
    ]


@pytest.mark.django_db
def test_a_calldate_page_is_narrowed_to_its_calldates_before_the_tie_break_sort():
    early = make_call("2026-11-27 09:00:00").ID
    make_call("2026-11-27 10:00:00")
    make_call("2026-11-27 11:00:00")
    with CaptureQueriesContext(connection) as queries:
        rows = fetch_rows(CdrFilter(), ALL, order=["calldate"], offset=0, limit=1)
    assert [r["ID"] for r in rows] == [early]
    bound, page = (q["sql"] for q in queries.captured_queries[:2])
    assert "LIMIT 1 OFFSET 0" in bound or "LIMIT 1" in bound
    assert "2026-11-27 09:00:00" in page and "<=" in page  # calldate <= the page's last one
    # other sorts are not narrowed (one query for the page)
    with CaptureQueriesContext(connection) as queries:
        fetch_rows(CdrFilter(), ALL, order=["caller"], limit=1)
    assert sum('FROM "cdr"' in q["sql"] or "FROM `cdr`" in q["sql"] for q in queries) == 1


# --- aggregate ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_aggregate_counts_all_and_answered_calls_per_group():
    sensor(1, "edge-1")
    make_call(id_sensor=1)
    make_call(id_sensor=1, response="486 Busy Here", connect_duration=None)
    make_call(id_sensor=2)
    rows = aggregate(CdrFilter(), ALL, ["lastSIPresponse", "sensor"])
    got = {(r["lastSIPresponseNum"], r["id_sensor"]): r for r in rows}
    assert got[(200, 1)] == {
        "lastSIPresponseNum": 200,
        "lastSIPresponse": "200 OK",
        "id_sensor": 1,
        "sensorname": "edge-1",
        "cnt_all": 1,
        "cnt_ok": 1,
    }
    assert (got[(486, 1)]["cnt_all"], got[(486, 1)]["cnt_ok"]) == (1, 0)
    assert got[(200, 2)]["sensorname"] is None


@pytest.mark.django_db
def test_aggregate_without_groups_counts_the_whole_filter():
    make_call()
    make_call(connect_duration=None, response="487 Request Terminated")
    assert aggregate(CdrFilter(), ALL) == [{"cnt_all": 2, "cnt_ok": 1}]


@pytest.mark.django_db
def test_aggregate_runs_through_the_scope_and_the_filter():
    make_call(id_sensor=1, caller="100")
    make_call(id_sensor=2, caller="100")
    make_call(id_sensor=2, caller="200")
    rows = aggregate(CdrFilter(caller=["100"]), CdrScope(sensors=(2,)), ["sensor"])
    assert [(r["id_sensor"], r["cnt_all"]) for r in rows] == [(2, 1)]


@pytest.mark.django_db
def test_aggregate_refuses_unknown_groups():
    with pytest.raises(QueryError, match="cannot group by 'caller'"):
        aggregate(CdrFilter(), ALL, ["caller"])


# --- count_within ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_count_within_a_generous_budget_is_the_exact_count():
    make_call()
    make_call()
    assert count_within(CdrFilter(), ALL, 10_000) == 2
    assert count_within(CdrFilter(), ALL, 0) == 2


@pytest.mark.mysql
@pytest.mark.django_db
def test_count_within_gives_up_when_the_server_needs_longer(monkeypatch):
    make_call()
    filtered = query.cdr_queryset

    def slow(f, scope):
        # A condition that takes seconds: a COUNT(*) of 10^8 rows of MariaDB's sequence engine.
        return filtered(f, scope).extra(
            where=["(SELECT COUNT(*) FROM seq_1_to_100000000 WHERE seq MOD 7 = 3) > 0"]
        )

    monkeypatch.setattr(query, "cdr_queryset", slow)
    started = time.monotonic()
    assert count_within(CdrFilter(), ALL, 50) is None
    assert time.monotonic() - started < 5  # aborted by the server, not waited for
    with connection.cursor() as cursor:  # the limit was the statement's: the session has none
        cursor.execute("SELECT @@SESSION.max_statement_time")
        assert float(cursor.fetchone()[0]) == 0
    assert count_within(CdrFilter(), ALL, 0) == 1  # no budget: the exact count


@pytest.mark.mysql
@pytest.mark.django_db
def test_count_within_is_one_statement_with_its_own_limit():
    make_call()
    with CaptureQueriesContext(connection) as queries:
        assert count_within(CdrFilter(), ALL, 1000) == 1
    (statement,) = [q["sql"] for q in queries.captured_queries]
    assert statement.startswith("SET STATEMENT max_statement_time=1.000 FOR SELECT COUNT(*)")


# --- iter_rows paging -----------------------------------------------------------------------


@pytest.mark.django_db
def test_iter_rows_takes_offset_and_limit():
    made = [make_call(f"2026-11-27 10:00:0{n}").ID for n in range(5)]
    assert [r["ID"] for r in iter_rows(CdrFilter(), ALL, offset=1, limit=2)] == made[1:3]
    assert [r["ID"] for r in iter_rows(CdrFilter(), ALL, offset=3, chunk=1)] == made[3:]


@pytest.mark.django_db
def test_iter_rows_checks_headers_before_the_first_row():
    with pytest.raises(QueryError):
        iter_rows(CdrFilter(), ALL, custom_headers=["X-Nope"])  # not even iterated
