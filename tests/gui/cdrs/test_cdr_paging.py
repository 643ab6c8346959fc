"""Paging and sorting: keyset pages in time order (forward and back, ties on the second),
column sorts over a bounded result, the fallback beyond the bound."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gui.cdrs import listing
from tests.factories import make_call
from tests.gui.cdrs.listsupport import ALL_DAY, errors_of, ids_of, link_of
from tests.gui.support import signed_in

START = dt.datetime(2026, 11, 26, 6, 0, 0)


@pytest.fixture
def calls(db) -> list[tuple[dt.datetime, int, int]]:
    """60 calls: (calldate, duration, id); every third shares its second with the previous
    one (ties that only the id orders)."""
    out = []
    for n in range(60):
        when = START + dt.timedelta(minutes=n - (1 if n % 3 == 2 else 0))
        duration = (n * 37) % 600 + 1
        out.append((when, duration, make_call(when.isoformat(" "), duration=duration).ID))
    return out


@pytest.fixture
def client(calls):
    return signed_in("pager", ("can_cdr",))


def walk(client, first: str, link_id: str) -> list[list[int]]:
    pages, url = [], first
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, errors_of(response)
        pages.append(ids_of(response))
        url = link_of(response, link_id)
        assert len(pages) < 10
    return pages


def test_keyset_pages_cover_every_call_once_newest_first(client, calls):
    newest = [i for _, _, i in sorted(calls, key=lambda c: (c[0], c[2]), reverse=True)]
    pages = walk(client, "/cdrs/?" + _q(page_size=25), "page-next")
    assert [len(p) for p in pages] == [25, 25, 10]
    assert sum(pages, []) == newest


def test_the_newer_link_goes_back_page_by_page(client, calls):
    forward = walk(client, "/cdrs/?" + _q(page_size=25), "page-next")
    last = client.get("/cdrs/?" + _q(page_size=25))
    for _ in range(2):
        last = client.get(link_of(last, "page-next"))
    assert ids_of(last) == forward[2]
    back = client.get(link_of(last, "page-previous"))
    assert ids_of(back) == forward[1]
    first = client.get(link_of(back, "page-previous"))
    assert ids_of(first) == forward[0]
    assert link_of(first, "page-previous") is None and link_of(first, "page-first") is None
    assert ids_of(client.get(link_of(last, "page-first"))) == forward[0]


def test_oldest_first_is_keyset_paged_too(client, calls):
    oldest = [i for _, _, i in sorted(calls, key=lambda c: (c[0], c[2]))]
    pages = walk(client, "/cdrs/?" + _q(page_size=50, sort="time"), "page-next")
    assert sum(pages, []) == oldest and len(pages) == 2


def test_a_new_call_does_not_shift_the_next_page(client, calls):
    first = client.get("/cdrs/?" + _q(page_size=25))
    expected = ids_of(client.get(link_of(first, "page-next")))
    make_call("2026-11-26 20:00:00")  # arrives while the user reads page 1
    assert ids_of(client.get(link_of(first, "page-next"))) == expected


def test_sorting_by_a_column_sorts_the_whole_result(client, calls):
    by_duration = [i for _, _, i in sorted(calls, key=lambda c: (-c[1], -c[2]))]
    response = client.get("/cdrs/?" + _q(page_size=25, sort="-duration"))
    body = response.content.decode()
    assert "Page 1 of 3" in body
    assert re.search(r'aria-sort="descending"><a href="[^"]*sort=duration', body)
    pages = walk(client, "/cdrs/?" + _q(page_size=25, sort="-duration"), "page-next")
    assert sum(pages, []) == by_duration
    ascending = walk(client, "/cdrs/?" + _q(page_size=100, sort="duration"), "page-next")
    assert ascending == [by_duration[::-1]]


def test_a_page_number_out_of_range_is_a_message(client, calls):
    response = client.get("/cdrs/?" + _q(sort="duration", page="9"))
    assert response.status_code == 400
    assert errors_of(response) == ["page: a page number from 1 to 2"]


def test_beyond_the_sort_limit_the_list_says_so_and_shows_newest_first(client, calls, monkeypatch):
    monkeypatch.setattr(listing, "SORT_LIMIT", 10)
    response = client.get("/cdrs/?" + _q(page_size=25, sort="-duration"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sorting by Duration needs a search matching at most 10 calls" in body
    newest = [i for _, _, i in sorted(calls, key=lambda c: (c[0], c[2]), reverse=True)]
    assert ids_of(response) == newest[:25]
    assert "sort=-time" in link_of(response, "page-next")


def _q(**params) -> str:
    from urllib.parse import urlencode

    return urlencode({**ALL_DAY, **params})
