"""The CDR query engine (cdr.query.engine) on real column layouts, on both backends."""

from __future__ import annotations

import pytest

from cdr.ddl import SchemaOptions
from cdr.query.engine import CdrFilter, QueryError, cdr_queryset, fetch_rows
from cdr.query.scope import CdrScope
from tests.factories import (
    add_fixed_header_column,
    aware,
    custom_header_definition,
    make_call,
)

ALL = CdrScope.unrestricted()


def ids(f: CdrFilter, scope: CdrScope = ALL) -> set[int]:
    return set(cdr_queryset(f, scope).values_list("ID", flat=True))


@pytest.mark.django_db
def test_it_bounds_by_calldate():
    a = make_call("2026-11-27 10:00:00")
    b = make_call("2026-11-28 10:00:00")
    f = CdrFilter(date_from=aware("2026-11-28 00:00:00"))
    assert ids(f) == {b.ID}
    f = CdrFilter(date_to=aware("2026-11-27 23:59:59"))
    assert ids(f) == {a.ID}


@pytest.mark.django_db
def test_it_matches_number_patterns():
    a = make_call(caller="420601111111")
    b = make_call(caller="420602222111")
    c = make_call(caller="1_23")
    d = make_call(caller="1923")
    assert ids(CdrFilter(caller=["420601111111"])) == {a.ID}
    assert ids(CdrFilter(caller=["420%"])) == {a.ID, b.ID}
    assert ids(CdrFilter(caller=["%111"])) == {a.ID, b.ID}
    assert ids(CdrFilter(caller=["%2222%"])) == {b.ID}
    # without % the underscore is literal; with % it is a wildcard
    assert ids(CdrFilter(caller=["1_23"])) == {c.ID}
    assert ids(CdrFilter(caller=["1_2%"])) == {c.ID, d.ID}


@pytest.mark.django_db
def test_suffix_search_uses_the_reverse_column():
    make_call(caller="5551234")
    sql = str(cdr_queryset(CdrFilter(caller=["%1234"]), ALL).query)
    assert "caller_reverse" in sql and "4321%" in sql


@pytest.mark.django_db
def test_it_combines_caller_and_called_with_and_or_or():
    a = make_call(caller="100", called="200")
    b = make_call(caller="200", called="300")
    make_call(caller="300", called="400")
    assert ids(CdrFilter(caller=["100"], called=["200"])) == {a.ID}
    assert ids(CdrFilter(caller=["200"], called=["200"], numbers_or=True)) == {a.ID, b.ID}


@pytest.mark.django_db
def test_it_filters_ipv4_int_columns_by_address_and_cidr():
    a = make_call(sipcallerip="192.168.1.10")
    b = make_call(sipcallerip="192.168.2.10")
    assert ids(CdrFilter(sipcallerip=["192.168.1.10"])) == {a.ID}
    assert ids(CdrFilter(sipcallerip=["192.168.0.0/16"])) == {a.ID, b.ID}
    assert ids(CdrFilter(sipcallerip=["2001:db8::1"])) == set()
    row = fetch_rows(CdrFilter(cdr_ids=[a.ID]), ALL)[0]
    assert row["sipcallerip"] == "192.168.1.10"


@pytest.mark.django_db(transaction=True)
def test_it_filters_varbinary_columns_with_ipv4_and_ipv6(sniffer_schema):
    sniffer_schema(SchemaOptions(ipv6=True))
    v4 = make_call(sipcallerip="32.1.0.5")
    v6 = make_call(sipcallerip="2001:db8::5", sipcalledip="2001:db8::6")
    assert ids(CdrFilter(sipcallerip=["2001:db8::5"])) == {v6.ID}
    assert ids(CdrFilter(sipcallerip=["2001:db8::/32"])) == {v6.ID}
    # 2001:db8:: starts with the bytes 0x20 0x01: an IPv4 range must not catch it
    assert ids(CdrFilter(sipcallerip=["32.1.0.0/16"])) == {v4.ID}
    rows = {r["ID"]: r for r in fetch_rows(CdrFilter(), ALL)}
    assert rows[v6.ID]["sipcalledip"] == "2001:db8::6"
    assert rows[v4.ID]["sipcallerip"] == "32.1.0.5"


@pytest.mark.django_db
def test_it_filters_call_id_sensor_response_duration_codec():
    a = make_call(call_id="abc@x", id_sensor=1, response="200 OK", duration=100, payload=0)
    b = make_call(
        call_id="def@x", id_sensor=2, response="486 Busy Here", duration=5, connect_duration=None
    )
    assert ids(CdrFilter(call_ids=["abc@x"])) == {a.ID}
    assert ids(CdrFilter(call_ids=["%@x"])) == {a.ID, b.ID}
    assert ids(CdrFilter(sensors=[2])) == {b.ID}
    assert ids(CdrFilter(sip_responses=[486])) == {b.ID}
    assert ids(CdrFilter(duration_gt=10)) == {a.ID}
    assert ids(CdrFilter(duration_lt=10)) == {b.ID}
    assert ids(CdrFilter(only_connected=True)) == {a.ID}
    assert ids(CdrFilter(codecs=[0])) == {a.ID}


@pytest.mark.django_db(transaction=True)
def test_it_filters_and_returns_custom_headers_of_both_kinds(sniffer_schema):
    sniffer_schema(SchemaOptions())
    add_fixed_header_column("X-Custom-Header")
    custom_header_definition("X-Account-Code", table=1, column=1)
    a = make_call(fixed_headers={"X-Custom-Header": "vip"}, dynamic_headers={(1, 1): "ACC-1"})
    b = make_call(fixed_headers={"X-Custom-Header": "normal"})
    assert ids(CdrFilter(custom_headers={"X-Custom-Header": "vip"})) == {a.ID}
    assert ids(CdrFilter(custom_headers={"x-account-code": "ACC-%"})) == {a.ID}
    rows = fetch_rows(CdrFilter(), ALL, custom_headers=["X-Custom-Header", "X-Account-Code"])
    by_id = {r["ID"]: r["custom_headers"] for r in rows}
    assert by_id[a.ID] == {"X-Custom-Header": "vip", "X-Account-Code": "ACC-1"}
    assert by_id[b.ID] == {"X-Custom-Header": "normal", "X-Account-Code": None}
    with pytest.raises(QueryError):
        ids(CdrFilter(custom_headers={"X-Nope": "1"}))


@pytest.mark.django_db
def test_the_scope_hides_rows_outside_it():
    a = make_call(id_sensor=1, caller="100", called="300")
    b = make_call(id_sensor=2, caller="200", called="300")
    assert ids(CdrFilter(), CdrScope(sensors=(1,))) == {a.ID}
    assert ids(CdrFilter(), CdrScope(numbers=("2%",))) == {b.ID}
    assert ids(CdrFilter(cdr_ids=[b.ID]), CdrScope(sensors=(1,))) == set()
    assert ids(CdrFilter(), CdrScope.nothing()) == set()


@pytest.mark.django_db
def test_rows_carry_lookups_and_order_by_calldate():
    late = make_call("2026-11-27 12:00:00", response="486 Busy Here", connect_duration=None)
    early = make_call("2026-11-27 09:00:00", call_id="first@x")
    rows = fetch_rows(CdrFilter(), ALL)
    assert [r["ID"] for r in rows] == [early.ID, late.ID]
    assert rows[0]["fbasename"] == "first@x"
    assert rows[0]["a_ua"] == "FixturePhone/1.0"
    assert rows[1]["lastSIPresponse"] == "486 Busy Here"


def test_the_python_twin_of_the_scope_agrees_with_its_rules():
    from cdr.query.scope import scope_allows

    scope = CdrScope(numbers=("+420%", "%99"), networks=("10.0.0.0/8",))
    assert scope_allows(scope, caller="+420601", callerip="10.1.2.3")
    assert scope_allows(scope, called="5599", calledip="10.9.9.9")
    assert not scope_allows(scope, caller="+421601", callerip="10.1.2.3")  # number outside
    assert not scope_allows(scope, caller="+420601", callerip="192.168.0.1")  # IP outside
    assert scope_allows(CdrScope(domains=("%.example.com",)), called_domain="PBX.Example.com")
    assert not scope_allows(CdrScope(sensors=(1,)), id_sensor=2)
    assert scope_allows(CdrScope(numbers=("1_3",)), caller="1_3")
    assert not scope_allows(CdrScope(numbers=("1_3",)), caller="123")  # _ literal without %
    assert scope_allows(CdrScope(numbers=("1_3%",)), caller="1234")
    assert not scope_allows(CdrScope.nothing(), caller="1")
