"""The CDR list in a real browser (Chromium through Playwright) against a live server: sign
in through /login/, search by number with the keyboard only, see the rows, open page 2."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser import browser, page
from tests.conftest import reset_sniffer_schema
from tests.factories import make_call, sensor
from tests.gui.support import PASSWORD, gui_user

__all__ = ["browser", "page"]

NUMBER = "+420777123456"


@pytest.fixture
def world(transactional_db, live_server):
    sensor(1, "Praha-1")
    start = dt.datetime(2026, 11, 26, 8, 0, 0)
    ids = []
    for n in range(36):  # 30 calls of the number, 6 of others
        when = start + dt.timedelta(minutes=n)
        caller = NUMBER if n % 6 else "1001"
        response = "486 Busy Here" if n % 4 == 0 else "200 OK"
        cdr = make_call(when.isoformat(" "), caller=caller, called="2002", response=response)
        if caller == NUMBER:
            ids.append(cdr.ID)
    gui_user("operator", ("can_cdr",))
    yield live_server, ids[::-1]
    reset_sniffer_schema()  # the sniffer's tables are not flushed between transactional tests


def tab_to(page, condition: str, limit: int = 120) -> None:
    """Press Tab until ``condition`` (JavaScript) holds for the focused element."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return
    raise AssertionError(f"never reached by Tab: {condition}")


def shown_ids(page) -> list[int]:
    return [int(i) for i in page.locator("#cdr-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id).filter(Boolean)")]  # fmt: skip


def test_search_a_number_and_page_through_the_calls(world, page):
    server, newest_first = world
    page.goto(f"{server.url}/cdrs/")
    assert "/login/" in page.url  # signed out: the sign-in page first
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/cdrs/"))
    assert page.title().startswith("CDRs")

    # Keyboard only, from the top of the page: the "All time" window, then the caller field.
    tab_to(page, "document.activeElement.textContent.trim() === 'All time'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"window=all"))
    tab_to(page, "document.activeElement.id === 'f-caller'")
    page.keyboard.type(NUMBER)
    page.keyboard.press("Enter")  # submits the search form
    page.wait_for_url(re.compile(r"caller=%2B420777123456"))
    # only the filled fields are in the URL (a short, shareable link), the window kept
    assert "called=" not in page.url and "window=all" in page.url

    assert page.locator("#cdr-total").inner_text() == "30"
    assert shown_ids(page) == newest_first  # 50 rows per page by default: all of them
    tab_to(page, "document.activeElement.id === 'page_size'")
    page.keyboard.press("ArrowUp")  # 50 → 25
    tab_to(page, "document.activeElement.id === 'search'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"page_size=25"))
    assert shown_ids(page) == newest_first[:25]
    assert page.locator("#chart-title").text_content().startswith("Calls per hour")

    tab_to(page, "document.activeElement.id === 'page-next'")  # the pager, by keyboard too
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"after="))
    assert shown_ids(page) == newest_first[25:]
    assert NUMBER in page.locator("#cdr-table").inner_text()
    page.click("#page-previous")
    page.wait_for_url(re.compile(r"before="))
    assert shown_ids(page) == newest_first[:25]
