"""Browser fixtures for end-to-end tests: Playwright driving Debian's Chromium.

``browser`` (one Chromium per test session) and ``page`` (a fresh context per test: no
cookies carried over). Chromium comes from the Debian package ``chromium``
(scripts/system-deps.sh); Playwright never downloads a browser here. Use with pytest-django's
``live_server`` (a real HTTP server in a thread; the database must be ``transactional_db``).

In a test module::

    from tests.browser import browser, page  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# What works on this kind of machine (headless, no sandbox as root, no background traffic).
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# inside one unless told that it is safe (it is: the test thread is not async).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Each test module that imports ``browser`` is its own fixture definition to pytest, so a
# session-scoped fixture would start one Playwright per module; a second sync Playwright cannot
# start while the first one's event loop runs. One Chromium is shared by the whole session: the
# first definition used starts it and stops it at the session's end.
_SHARED: dict[str, object] = {}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh (Debian package chromium)")
    if "browser" in _SHARED:
        yield _SHARED["browser"]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        _SHARED["browser"] = chromium
        try:
            yield chromium
        finally:
            _SHARED.clear()
            chromium.close()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    try:
        yield tab
    finally:
        context.close()
