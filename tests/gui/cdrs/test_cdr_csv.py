"""CSV export of the current search: every matching call (beyond one keyset page), the page's
columns, streamed."""

from __future__ import annotations

import csv
import io

import pytest

from cdr.query import cursor
from tests.factories import make_call
from tests.gui.cdrs.listsupport import ALL_DAY, world
from tests.gui.support import signed_in

__all__ = ["world"]


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.streaming  # never built in memory
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cdrs-')
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def client(world):
    return signed_in("exporter", ("can_cdr",))


def test_the_export_has_the_searchs_calls_and_the_pages_columns(client, world):
    query = {**ALL_DAY, "columns": "caller,sip,mos,codec,header.X-Account", "caller": "%"}
    rows = read_csv(client.get("/cdrs/export.csv", query))
    assert list(rows[0]) == [
        "Time", "Caller", "Caller domain", "SIP code", "SIP response", "Codecs", "MOS",
        "X-Account",
    ]  # fmt: skip
    assert [r["Caller"] for r in rows] == ["jiří.novák", "1001", "😀bot", "山田", "+420601111111"]
    ok = rows[-1]
    assert ok["Time"] == "2026-11-26 08:00:00" and ok["Caller domain"] == "žluťoučký.cz"
    assert ok["SIP code"] == "200" and ok["SIP response"] == "200 OK"
    assert ok["Codecs"] == "G.711 alaw" and ok["MOS"] == "4.3" and ok["X-Account"] == "ACME-001"
    only_busy = read_csv(client.get("/cdrs/export.csv", {**ALL_DAY, "sip_response": "486"}))
    assert [r["Caller"] for r in only_busy] == ["山田"]


def test_oldest_first_exports_in_that_order(client, world):
    rows = read_csv(client.get("/cdrs/export.csv", {**ALL_DAY, "sort": "time"}))
    assert [r["Time"][11:16] for r in rows] == ["08:00", "08:30", "09:15", "09:45", "22:10"]


def test_every_call_is_exported_across_keyset_pages(client, world, monkeypatch):
    for minute in range(23):
        make_call(f"2026-11-26 12:{minute:02d}:00", caller=f"77{minute:02d}")
    calls = []
    real = cursor.engine.fetch_after

    def counting(*args, **kwargs):
        calls.append(kwargs.get("limit"))
        return real(*args, **kwargs)

    monkeypatch.setattr(cursor.engine, "fetch_after", counting)
    monkeypatch.setattr("gui.cdrs.listing.CSV_CHUNK", 5)
    rows = read_csv(client.get("/cdrs/export.csv", {**ALL_DAY, "columns": "caller"}))
    assert len(rows) == 28 and len({r["Caller"] for r in rows}) == 28
    assert calls == [5] * 6  # six small keyset queries, never one big one


def test_a_bad_search_is_the_page_with_a_message_not_a_broken_file(client):
    response = client.get("/cdrs/export.csv", {"caller_ip": "not-an-ip"})
    assert response.status_code == 400
    assert b"caller_ip" in response.content and b"text/html" in response["Content-Type"].encode()
