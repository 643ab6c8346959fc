"""Readable at 200 % zoom: a 1280-pixel browser window zoomed to 200 % lays pages out in 640
CSS pixels. At that width no GUI page may need sideways scrolling of the page itself (wide
tables scroll inside their own frame), and the navigation stays reachable. Chromium through
Playwright, one page of each group."""

from __future__ import annotations

import datetime as dt

import pytest

from cdr.reports.models import ReportDefinition
from cdr.sensors.simulator import ManagerSimulator
from tests.browser import browser, page
from tests.cdr.media.test_media_support import PASSWORD, tone_spec, write_calls
from tests.conftest import reset_sniffer_schema
from tests.gui.active.conftest import talking_pool
from tests.gui.support import ALL_MEDIA, T0, gui_user

__all__ = ["browser", "page"]

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def world(transactional_db, live_server, tmp_path, settings):
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    settings.LISTEN_STATE_DIR = tmp_path / "listen"
    settings.MANAGER_AES = "off"
    (call,) = write_calls(settings.SPOOL_DIR, [tone_spec("zoom@alpha", T0, caller="+420601234567")])
    user = gui_user("zoomer", (*ALL_MEDIA, "can_audit", "can_reports_edit"))
    report = ReportDefinition.objects.create(description="All calls", filters={}, owner=user)
    with ManagerSimulator(pool=talking_pool(2, 51, -1)) as sim:
        settings.MANAGER_HOST, settings.MANAGER_PORT = sim.host, sim.port
        yield live_server, call, report
    reset_sniffer_schema()


def test_every_page_fits_a_window_zoomed_to_200_percent(world, page):
    server, call, report = world
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(f"{server.url}/login/")
    assert page.evaluate(OVERFLOW) <= 1, "the sign-in page"
    page.fill("#id_username", "zoomer")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    when = (T0 - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for path in (
        f"/cdrs/?date_from={when}",
        f"/calls/{call.cdr_id}/",
        "/active/",
        "/reports/",
        f"/reports/{report.pk}/",
        "/audit/",
        "/settings/",
    ):
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(OVERFLOW) <= 1, f"{path} scrolls sideways at 200 % zoom"
        assert page.locator("nav[aria-label=Main] a").first.is_visible(), path
