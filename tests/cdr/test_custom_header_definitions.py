"""cdr.query.customheaders reads the header definitions with one plain statement: the same
values, in id order, as the ORM's rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdr.models import CdrCustomHeader
from cdr.query import customheaders
from tests.factories import custom_header_definition

pytestmark = pytest.mark.django_db

FIELDS = ("name", "header_field", "type", "dynamic_table", "dynamic_column", "state")


def test_the_definitions_are_the_orms_rows_in_id_order():
    custom_header_definition("X-Account-Code", 1, 1, name="Účet 日本")
    CdrCustomHeader.objects.create(name="Fixed", header_field="X-Fixed\nX-Alias", type="fixed")
    CdrCustomHeader.objects.create(
        name="Gone", header_field="X-Gone", type="dynamic", dynamic_table=2, dynamic_column=3,
        state="delete",
    )  # fmt: skip
    CdrCustomHeader.objects.create(header_field=None, type=None, state=None)
    with CaptureQueriesContext(connection) as queries:
        ours = customheaders._read_definitions()
    reads = [q["sql"] for q in queries.captured_queries]
    reads = [sql for sql in reads if "information_schema" not in sql and "PRAGMA" not in sql]
    assert len(reads) == 1 and "cdr_custom_headers" in reads[0]  # (and the schema's, once)
    theirs = list(CdrCustomHeader.objects.order_by("id").values_list(*FIELDS))
    assert [tuple(getattr(d, f) for f in FIELDS) for d in ours] == theirs
    assert ours[0].name == "Účet 日本"


def test_no_definitions_table_means_no_definitions(monkeypatch):
    monkeypatch.setattr(customheaders.schema, "has_table", lambda name, *a, **k: False)
    assert customheaders._read_definitions() == []
    assert customheaders.resolve_custom_header("X-Anything") is None
