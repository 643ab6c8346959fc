"""REST rows a column at a time, and the orjson renderer (issue 19).

Both are faster ways to write the same thing: the tests compare them with the per-row
``cdr_json`` and with DRF's own ``JSONRenderer``.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from api.rest.renderers import FastJSONRenderer
from api.rest.rows import cdr_json, cdr_json_rows
from cdr.query import engine
from cdr.query.engine import CdrFilter
from cdr.query.scope import CdrScope
from cdr.query.storedtext import stored_form
from tests.factories import aware, custom_header_definition, make_call

ALL = CdrScope.unrestricted()
DAY = CdrFilter(date_from=aware("2026-11-27 00:00:00"))
HEADERS = ["X-Dyn"]


def both(filter_=DAY, headers=HEADERS):
    options = {"descending": False, "limit": 50, "custom_headers": headers}
    fresh = engine.page_after(filter_, ALL, **options)
    rows = engine.page_after(filter_, ALL, **options).rows()
    return cdr_json_rows(fresh), [cdr_json(row) for row in rows]


def _calls():
    custom_header_definition("X-Dyn", 1, 2)
    make_call("2026-11-27 08:00:00", caller="+420601000001", dynamic_headers={(1, 2): "tea-42"})
    make_call("2026-11-27 08:01:00", connect_duration=None)  # no payload: no codec key
    name = "Jiří 🎉"  # the sniffer stores the UTF-8 bytes in a latin1 column
    name = stored_form(name) if connection.vendor == "mysql" else name
    make_call("2026-11-27 08:02:00", callername=name, payload=18, duration=12.5)
    make_call("2026-11-27 08:03:00", payload=None)


@pytest.mark.django_db
def test_rest_rows_by_columns_are_the_per_row_rows_key_for_key():
    _calls()
    got, want = both()
    assert len(got) == 4
    assert got == want
    assert [list(r) for r in got] == [list(r) for r in want]  # the same keys in the same order
    assert "a_codec" not in got[1] and "a_codec" not in got[3]
    assert got[2]["a_codec"] == want[2]["a_codec"] == "G.729"
    assert got[0]["custom_headers"] == {"X-Dyn": "tea-42"}
    assert got[1]["custom_headers"] == {"X-Dyn": None}
    assert got[2]["callername"] == "Jiří 🎉"


@pytest.mark.django_db
def test_rest_rows_by_columns_show_times_in_the_active_zone_as_per_row():
    _calls()
    with timezone.override(zoneinfo.ZoneInfo("America/St_Johns")):
        got, want = both()
    assert got == want
    assert got[0]["calldate"].endswith("-03:30")


@pytest.mark.django_db
def test_rest_rows_without_headers_or_rows():
    _calls()
    got, want = both(headers=[])
    assert got == want and got[0]["custom_headers"] == {}
    nothing = CdrFilter(date_from=aware("2030-01-01 00:00:00"))
    assert both(nothing) == ([], [])


@pytest.mark.mysql
def test_rest_rows_of_the_real_sniffer_database_are_the_per_row_rows(sniffer_dump):
    sniffer_dump("db_notar.sql")
    real = CdrFilter(date_from=aware("2026-01-01 00:00:00"))
    got, want = both(real, ["X-Custom-Header", "X-Account-Code"])
    assert len(got) == 13
    assert got == want
    assert [list(r) for r in got] == [list(r) for r in want]


PRAGUE = zoneinfo.ZoneInfo("Europe/Prague")
DOCUMENTS = [
    {"results": [{"ID": 1, "calldate": dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)}]},
    {
        "when": dt.datetime(2026, 7, 1, 8, 0, 0, 123456, tzinfo=PRAGUE),
        "naive": dt.datetime(2026, 1, 1),
    },
    {"date": dt.date(2026, 11, 27), "time": dt.time(8, 30), "span": dt.timedelta(seconds=90)},
    {"mos": Decimal("4.25"), "id": uuid.UUID(int=7), "lazy": gettext_lazy("Calls")},
    {"text": 'čaj 日本 🎉 a\u2028b\u2029c "q" \\ \n', "n": None, "t": True, "f": 1.5, "e": 1e300},
    [1, [2, [3, {"x": []}]], {}],
    {"huge": 2**70},  # beyond orjson's 64 bits: DRF writes it
    {1: "int key"},
]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_the_orjson_renderer_writes_what_drf_writes(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_the_orjson_renderer_indents_as_drf_does():
    data = {"a": [1, {"b": "č"}]}
    media = "application/json; indent=2"
    assert FastJSONRenderer().render(data, media) == JSONRenderer().render(data, media)
    assert FastJSONRenderer().render(None) == b""
