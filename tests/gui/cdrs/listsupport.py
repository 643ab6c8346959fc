"""Shared helpers of the CDR list tests (no tests here): a set of calls, page readers.

``world`` (fixture) inserts calls like the sniffer writes them on 2026-11-26 (sniffer zone
UTC in the tests): Czech, Japanese and emoji caller numbers, names and domains (stored as the
sniffer stores them: UTF-8 bytes in latin1 columns on MariaDB), several SIP outcomes, two
sensors, MOS and loss values, and two custom headers (``X-Account``, ``X-Ticket``: dynamic
headers in cdr_next_1; no ALTER TABLE, which would commit the test's transaction on MariaDB).
``ids_of`` reads the row ids the page shows, in order; ``errors_of`` its error messages.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import pytest

from tests.cdr.test_unicode_search import sniffer_writes
from tests.factories import custom_header_definition, make_call, sensor

DAY = "2026-11-26"
# The range every test searches unless it tests the windows (the clock is not pinned there).
ALL_DAY = {"date_from": f"{DAY}T00:00:00", "date_to": f"{DAY}T23:59:59"}


@dataclass
class World:
    ids: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


TEXTS = ("caller", "callername", "caller_domain")


def _call(name: str, when: str, **fields) -> tuple[str, int]:
    """One call; its non-ASCII texts written afterwards the way the sniffer writes them."""
    texts = {k: fields.pop(k) for k in TEXTS if k in fields and not fields[k].isascii()}
    cdr_id = make_call(f"{DAY} {when}", **fields).ID
    if texts:
        sniffer_writes(cdr_id, **texts)
    return name, cdr_id


@pytest.fixture
def world(db) -> World:
    sensor(1, "Praha-1")
    sensor(2, "Brno-2")
    custom_header_definition("X-Ticket", 1, 1)
    custom_header_definition("X-Account", 1, 2)
    calls = dict(
        [
            _call("ok", "08:00:00", caller="+420601111111", called="2002", callername="Jiří Novák",
                  caller_domain="žluťoučký.cz", response="200 OK", duration=65,
                  connect_duration=60, mos_min_mult10=43, packet_loss_perc_mult1000=200,
                  dynamic_headers={(1, 1): "T-1", (1, 2): "ACME-001"}),
            _call("busy", "08:30:00", caller="山田", called="2002", callername="山田太郎",
                  response="486 Busy Here", duration=5, connect_duration=None, id_sensor=2,
                  dynamic_headers={(1, 2): "OTHER-9"}),
            _call("fail", "09:15:00", caller="😀bot", called="+81312345678",
                  callername="😀 Smile", caller_domain="例え.jp", response="503 Service Unavailable",
                  duration=12, connect_duration=None, sipcallerip="192.0.2.10"),
            _call("poor", "09:45:00", caller="1001", called="3003", response="200 OK",
                  duration=300, connect_duration=290, mos_min_mult10=28,
                  packet_loss_perc_mult1000=12500, payload=9, a_mos_f1_mult10=28,
                  b_mos_f1_mult10=41, id_sensor=2),
            _call("late", "22:10:00", caller="jiří.novák", called="4004", response="200 OK",
                  duration=30, connect_duration=25, mos_min_mult10=40, call_id="late,1@example.com"),
        ]
    )  # fmt: skip
    return World(calls)


_ROW = re.compile(r'<tr data-id="(\d+)"')


def ids_of(response) -> list[int]:
    """The CDR ids of the table's rows, top to bottom."""
    return [int(i) for i in _ROW.findall(response.content.decode())]


_ERROR = re.compile(r'<p class="alert alert-error" role="alert">(.*?)</p>', re.S)


def errors_of(response) -> list[str]:
    return [html.unescape(e) for e in _ERROR.findall(response.content.decode())]


def link_of(response, element_id: str) -> str | None:
    """The URL of the link with this id (a pager link; "?query" links are the list's own)."""
    match = re.search(rf'id="{element_id}"[^>]*href="([^"]*)"', response.content.decode())
    if not match:
        return None
    href = html.unescape(match.group(1))
    return f"/cdrs/{href}" if href.startswith("?") else href


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
