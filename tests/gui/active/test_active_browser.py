"""Active calls in a real browser (Chromium through Playwright) against a live server and the
sensor simulator: the calls appear, a pause reaches the simulator and shows, live listening
plays audio, and closing the page stops the listening on the sensor."""

from __future__ import annotations

import json
import time

import pytest

from cdr.sensors.simulator import ManagerSimulator
from tests.browser import browser, page
from tests.gui.active.conftest import talking_pool
from tests.gui.support import PASSWORD, gui_user

__all__ = ["browser", "page"]

FLAGS = ("can_activecalls", "can_listen_active_call")


@pytest.fixture
def world(transactional_db, live_server, conf):
    """A live server whose single local sniffer (the implicit sensor 0) is the simulator."""
    conf.LISTEN_IDLE_SECONDS = 120  # so that only the page's own stop can end the listening
    with ManagerSimulator(pool=talking_pool(3, 31, -1)) as sim:
        conf.MANAGER_HOST, conf.MANAGER_PORT = sim.host, sim.port
        gui_user("operator", FLAGS)
        yield live_server, sim


def wait_until(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_pause_and_listen_to_a_live_call_in_a_browser(world, page):
    server, sim = world
    page.goto(f"{server.url}/login/?next=/active/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/active/")
    assert page.title().startswith("Active calls")
    calls = sim.pool.calls
    for call in calls:
        assert page.locator(f"#call-0-{call.ref}").count() == 1
    assert "local" in page.locator("#sensor-0").inner_text()

    # Pause: the script posts the form, the table refreshes, the simulator's call is paused.
    paused = calls[0]
    page.click(f"#call-0-{paused.ref} button.pause")
    page.wait_for_selector(f'#call-0-{paused.ref}[data-paused="true"]')
    assert paused.paused is True
    assert "paused" in page.locator("#active-status").inner_text()
    assert page.locator(f"#call-0-{paused.ref} td.rec").inner_text() == "paused"

    # Listen to another call: the click is the user gesture that allows sound.
    heard = calls[1]
    page.click(f"#call-0-{heard.ref} button.listen")
    page.wait_for_function(
        "() => parseFloat(document.querySelector('#listen-panel')"
        ".getAttribute('data-played-seconds')) > 1.0",
        timeout=15_000,
    )
    listen_id = page.locator("#listen-panel").get_attribute("data-listen-id")
    assert sim.listening(heard.ref) == [listen_id]
    assert page.locator("#listen-panel").get_attribute("data-state") == "listening"
    assert float(page.locator("#listen-played").inner_text()) > 1.0
    assert page.locator(f"#call-0-{heard.ref}").get_attribute("class").endswith("listening")

    # The table keeps refreshing while listening, and the listening survives it.
    before = page.locator("#active-calls").get_attribute("data-refreshed")
    page.wait_for_function(
        f"() => document.querySelector('#active-calls').getAttribute('data-refreshed') "
        f"!== {json.dumps(before)}"
    )
    assert sim.listening(heard.ref) == [listen_id]

    # Closing the page stops the listening on the sensor (a beacon to the stop URL).
    page.close()
    assert wait_until(lambda: ("listen_stop", heard.ref, listen_id) in sim.listen_log)
    assert sim.listening(heard.ref) == []
