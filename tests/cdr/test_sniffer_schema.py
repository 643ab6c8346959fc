"""The sniffer data layer: schema creation, real dumps, column layouts, IP decoding."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdr import schema
from cdr.ddl import SchemaOptions
from cdr.fields import decode_ip, encode_ip
from cdr.models import SNIFFER_MODELS
from cdr.query.engine import CdrFilter, fetch_rows
from cdr.query.scope import CdrScope
from tests.conftest import is_mysql
from tests.factories import aware, make_call

ALL = CdrScope.unrestricted()


def column_type(table: str, column: str) -> str:
    schema.clear_cache()
    return schema.table_info(table).type_of(column)


def test_it_decodes_both_ip_encodings_to_the_same_string():
    assert decode_ip(2130706443) == "127.0.0.11"
    assert decode_ip(b"\x7f\x00\x00\x0b") == "127.0.0.11"
    assert decode_ip(memoryview(b"\x7f\x00\x00\x0b")) == "127.0.0.11"
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    assert decode_ip(v6) == "2001:db8::1"
    assert decode_ip(None) is None
    assert encode_ip("127.0.0.11", binary=False) == 2130706443
    assert encode_ip("127.0.0.11", binary=True) == b"\x7f\x00\x00\x0b"
    with pytest.raises(ValueError):
        encode_ip("2001:db8::1", binary=False)
    with pytest.raises(ValueError):
        decode_ip(b"\x01\x02\x03")


@pytest.mark.django_db
def test_the_default_schema_has_the_sniffers_column_types():
    assert column_type("cdr", "sipcallerip").startswith("int")
    assert "unsigned" in column_type("cdr", "sipcallerip")
    assert column_type("cdr", "calldate") == "datetime(3)"
    assert column_type("cdr", "duration") == "decimal(9,3)"
    assert column_type("cdr", "a_mos_f1_mult10").startswith("tinyint")
    assert schema.cdr_is_partitioned()
    for model in SNIFFER_MODELS:
        assert schema.has_table(model._meta.db_table), model._meta.db_table


@pytest.mark.django_db(transaction=True)
def test_ipv6_mode_uses_varbinary_and_no_ms_mode_uses_whole_seconds(sniffer_schema):
    sniffer_schema(SchemaOptions(ipv6=True, ms=False))
    assert column_type("cdr", "sipcallerip") == "varbinary(16)"
    assert column_type("cdr_rtp", "saddr") == "varbinary(16)"
    assert column_type("cdr", "calldate") == "datetime"
    assert column_type("cdr", "duration").startswith("mediumint")
    call = make_call(duration=31, connect_duration=29, sipcallerip="2001:db8::10")
    row = fetch_rows(CdrFilter(cdr_ids=[call.ID]), ALL)[0]
    assert row["sipcallerip"] == "2001:db8::10"
    assert row["duration"] == 31


@pytest.mark.django_db
def test_it_names_the_indexes_a_column_leads_from_the_live_database():
    """The page statement's index hints name only indexes that exist (cdr.query.rows)."""
    schema.clear_cache()
    with pytest.raises(ValueError):
        schema.indexes_led_by("cdr`; DROP TABLE cdr", "calldate")
    if not is_mysql():
        assert schema.indexes_led_by("cdr", "calldate") == ()  # no hints on SQLite
        return
    assert schema.indexes_led_by("cdr", "calldate") == ("calldate",)
    assert schema.indexes_led_by("cdr", "caller") == ("source",)  # the sniffer's own name
    assert schema.indexes_led_by("cdr_next", "calldate") == ("calldate",)
    assert schema.indexes_led_by("cdr", "ID") == ()  # the primary key is never named
    assert schema.indexes_led_by("no_such_table", "calldate") == ()


@pytest.mark.django_db(transaction=True)
def test_unpartitioned_databases_work_without_child_calldate(sniffer_schema):
    sniffer_schema(SchemaOptions(partitioned=False))
    assert not schema.cdr_is_partitioned()
    assert not schema.has_column("cdr_rtp", "calldate")
    assert schema.has_column("cdr_proxy", "calldate")  # always there
    call = make_call(call_id="unpart@x")
    rows = fetch_rows(CdrFilter(call_ids=["unpart@x"]), ALL)
    assert [r["ID"] for r in rows] == [call.ID]
    # No partitions to prune: the page's joins are not bounded by its window (nor hinted)
    day = CdrFilter(date_from=aware("2026-11-27 00:00"), date_to=aware("2026-11-27 23:59"))
    with CaptureQueriesContext(connection) as queries:
        assert [r["ID"] for r in fetch_rows(day, ALL)] == [call.ID]
    page = queries.captured_queries[-1]["sql"]
    assert "LEFT JOIN" in page and "IGNORE INDEX" not in page
    assert page.count(connection.ops.quote_name("calldate") + " >=") == 1  # the filter's own
    if is_mysql():
        with connection.cursor() as cursor:
            cursor.execute("SHOW CREATE TABLE cdr_next")
            ddl = cursor.fetchone()[1]
        assert "FOREIGN KEY" in ddl and "ON DELETE CASCADE" in ddl
        assert "PARTITION" not in ddl


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_schema_is_partitioned_by_day_with_composite_key():
    with connection.cursor() as cursor:
        cursor.execute("SHOW CREATE TABLE cdr")
        ddl = cursor.fetchone()[1]
    assert "PRIMARY KEY (`ID`,`calldate`)" in ddl
    assert "PARTITION BY RANGE  COLUMNS(`calldate`)" in ddl
    assert "PARTITION `p261127` VALUES LESS THAN ('2026-11-28')" in ddl
    assert "DEFAULT CHARSET=latin1" in ddl


@pytest.mark.django_db(transaction=True)
def test_create_command_never_alters_an_existing_table(sniffer_schema):
    sniffer_schema(SchemaOptions())
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {qn('cdr_ua')}")
        cursor.execute(f"CREATE TABLE {qn('cdr_ua')} ({qn('id')} int, {qn('legacy')} int)")
    out = io.StringIO()
    call_command("create_sniffer_schema", stdout=out)
    assert "nothing changed" in out.getvalue()
    schema.clear_cache()
    assert set(schema.table_info("cdr_ua").columns) == {"id", "legacy"}


def test_migrations_create_no_sniffer_table():
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import CreateModel

    loader = MigrationLoader(None, ignore_no_migrations=True)
    sniffer_tables = {m._meta.db_table for m in SNIFFER_MODELS}
    for (app, _name), migration in loader.disk_migrations.items():
        for op in migration.operations:
            if isinstance(op, CreateModel):
                table = op.options.get("db_table")
                if table in sniffer_tables or app == "cdr":
                    assert op.options.get("managed") is False, (app, op.name)


@pytest.mark.django_db(transaction=True)
def test_it_reads_a_table_missing_optional_columns(sniffer_schema):
    sniffer_schema(SchemaOptions())
    call = make_call(a_mos_f1_mult10=45)
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for column in ("a_mos_f1_mult10", "vlan", "sipcallerport", "flags", "a_rtcp_maxfr"):
            if not is_mysql():  # SQLite refuses to drop an indexed column
                cursor.execute(f"DROP INDEX IF EXISTS {qn('cdr_' + column)}")
            cursor.execute(f"ALTER TABLE {qn('cdr')} DROP COLUMN {qn(column)}")
    schema.clear_cache()
    row = fetch_rows(CdrFilter(cdr_ids=[call.ID]), ALL)[0]
    assert row["ID"] == call.ID
    assert "a_mos_f1_mult10" not in row and "vlan" not in row
    assert row["caller"] == "1001"


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_it_reads_the_real_sniffers_notar_dump(sniffer_dump):
    sniffer_dump("db_notar.sql")
    assert schema.cdr_is_partitioned()
    assert not schema.ip_is_binary("cdr", "sipcallerip")
    rows = {
        r["ID"]: r
        for r in fetch_rows(CdrFilter(), ALL, custom_headers=["X-Custom-Header", "X-Account-Code"])
    }
    assert len(rows) == 13
    dave = rows[1]  # call #4 of calls.md
    assert dave["fbasename"] == "0a4f6e04b2c94d04@alpha.example.com"
    assert dave["sipcallerip"] == "127.0.0.11" and dave["sipcalledip"] == "127.0.0.22"
    assert dave["calldate"] == aware("2026-11-27 04:04:19.207")
    assert dave["duration"] == Decimal("21.316")
    assert dave["a_payload"] == 8 and dave["a_received"] == 1000
    assert dave["custom_headers"] == {"X-Custom-Header": None, "X-Account-Code": "ACC-200"}
    lossy = rows[11]  # call #9
    assert lossy["a_lost"] == 26 and lossy["a_mos_f1_mult10"] == 37
    assert lossy["custom_headers"]["X-Custom-Header"] == "lossy-call"
    busy = rows[3]
    assert busy["lastSIPresponse"] == "486 Busy Here" and busy["reason_q850_cause"] == 17
    assert rows[6]["called"] == "+15551230012" and rows[6]["b_ua"] is None


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_it_reads_the_real_sniffers_live_dump(sniffer_dump):
    sniffer_dump("db_live.sql")
    rows = fetch_rows(CdrFilter(), ALL)
    assert len(rows) == 3
    assert all(r["connect_duration"] and r["connect_duration"] > 20 for r in rows)
    assert all(r["sipcallerip"].startswith("127.0.0.") for r in rows)
