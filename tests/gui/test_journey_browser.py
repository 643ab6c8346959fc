"""The whole operator journey in a real browser (Chromium through Playwright), as issue #16's
"done when" reads: from the start page, sign in, find yesterday's failed calls of one number,
open one, see its ladder, play and download its audio, share it and open the link, pause a
live call on the sensor simulator, look at a report and the audit log.

With ``VMGUI_SCREENSHOT_DIR`` set, the main pages are saved there as PNGs (that is how
docs/screenshots/ was made: ``VMGUI_SCREENSHOT_DIR=docs/screenshots make test-sqlite
PYTEST_ARGS=tests/gui/test_journey_browser.py``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import wave
from pathlib import Path

import dpkt
import pytest
from django.contrib.auth import get_user_model

from cdr.ddl import SchemaOptions
from cdr.demo.signals import SignalSpec
from cdr.reports.models import ReportDefinition
from cdr.sensors.simulator import ManagerSimulator
from tests.browser import browser, page
from tests.cdr.media.test_media_support import PASSWORD, tone_spec, write_calls
from tests.conftest import reset_sniffer_schema
from tests.gui.active.conftest import talking_pool
from tests.gui.support import ALL_MEDIA, gui_user

__all__ = ["browser", "page"]

NUMBER = "+420601555000"
FLAGS = (*ALL_MEDIA, "can_audit", "can_reports_edit")
SHOTS = os.environ.get("VMGUI_SCREENSHOT_DIR", "")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def world(transactional_db, live_server, tmp_path, settings):
    """Calls of yesterday and earlier (real pcaps), a live sniffer, an operator."""
    today = dt.date.today()
    yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(9, 0))
    # partitions around today, whatever day the suite runs
    reset_sniffer_schema(
        SchemaOptions(ipv6=False, ms=True, partitioned=True,
                      partition_from=today - dt.timedelta(days=10), partition_days=20)
    )  # fmt: skip
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    settings.LISTEN_STATE_DIR = tmp_path / "listen"
    settings.MANAGER_AES = "off"
    failed = dict(answered=False, ring_s=4.0, caller=NUMBER)
    specs = [
        tone_spec("answered@journey", yesterday, caller=NUMBER, talk_s=5.0),
        # a carrier's announcement (early media), then 503: the call to open and listen to
        tone_spec(
            "announcement@journey",
            yesterday + dt.timedelta(hours=1),
            final_code=503,
            final_reason="Service Unavailable",
            early_media=True,
            called_signal=SignalSpec(kind="tone", freq=620.0, level_dbfs=-12),
            seed=3,
            **failed,
        ),
        tone_spec(
            "busy@journey",
            yesterday + dt.timedelta(hours=2),
            final_code=486,
            final_reason="Busy Here",
            seed=4,
            **failed,
        ),  # fmt: skip
        # not in the answer: another number, and the same number's failure 3 days ago
        tone_spec(
            "other@journey",
            yesterday + dt.timedelta(hours=3),
            final_code=486,
            final_reason="Busy Here",
            seed=5,
            answered=False,
            caller="1001",
        ),  # fmt: skip
        tone_spec(
            "older@journey",
            yesterday - dt.timedelta(days=2),
            final_code=486,
            final_reason="Busy Here",
            seed=6,
            **failed,
        ),  # fmt: skip
    ]
    calls = {c.spec.call_id: c for c in write_calls(settings.SPOOL_DIR, specs)}
    user = gui_user("operator", FLAGS)
    ReportDefinition.objects.create(
        description="Failed calls of +420601555000",
        filters={"caller": [NUMBER], "sip_response": ["4xx", "5xx", "6xx"]},
        owner=user,
    )
    with ManagerSimulator(pool=talking_pool(3, 41, -1)) as sim:
        settings.MANAGER_HOST, settings.MANAGER_PORT = sim.host, sim.port
        yield live_server, calls, sim
    reset_sniffer_schema()


def test_an_operator_finds_opens_plays_shares_a_failed_call_and_pauses_a_live_one(world, page):
    server, calls, sim = world
    page.set_viewport_size({"width": 1360, "height": 900})

    # The start page leads to the sign-in; signing in opens the CDR list.
    page.goto(f"{server.url}/")
    shot(page, "start")
    page.click("#sign-in")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    shot(page, "sign-in")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/cdrs/"))

    # Yesterday's failed calls of one number: the preset, the number, the response classes.
    page.get_by_role("link", name="Yesterday").click()
    page.wait_for_url(re.compile(r"window=yesterday"))
    page.fill("#f-caller", NUMBER)
    page.fill("#f-sip-response", "4xx,5xx,6xx")
    page.click("#search")
    page.wait_for_url(re.compile(r"sip_response="))
    assert page.locator("#cdr-total").inner_text() == "2"
    table = page.locator("#cdr-table").inner_text()
    assert "503" in table and "486" in table and "Service Unavailable" in table
    shot(page, "cdr-list")

    # Open the 503 (its time cell links to the call page): the ladder shows 183 and 503.
    announcement = calls["announcement@journey"]
    page.locator(f'#cdr-table tr[data-id="{announcement.cdr_id}"] a').first.click()
    page.wait_for_url(re.compile(rf"/calls/{announcement.cdr_id}/"))
    ladder = page.locator("#ladder").inner_text()
    assert "183" in ladder and "503" in ladder
    page.wait_for_function(
        "isFinite(document.getElementById('player').duration) && "
        "document.getElementById('player').duration > 2"
    )
    shot(page, "call-detail")

    # Play it: the player reports a duration and its time advances.
    state = page.evaluate("document.getElementById('player').play().then(() => 'playing')")
    assert state == "playing"
    page.wait_for_function("document.getElementById('player').currentTime > 0.3")
    page.evaluate("document.getElementById('player').pause()")

    # Download the recording and the PCAP.
    with page.expect_download() as info:
        page.click("#dl-wav")
    with wave.open(str(info.value.path())) as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() > 8000 * 2
    with page.expect_download() as info:
        page.click("#dl-pcap")
    packets = list(dpkt.pcap.Reader(io.BytesIO(Path(info.value.path()).read_bytes())))
    assert len(packets) > 100

    # Share it: the dialog makes a link; a visitor without an account opens it.
    page.click("#share-open")
    page.locator("#share-dialog").wait_for(state="visible")
    page.check("#share-dialog input[name=rtp]")
    shot(page, "share-dialog")
    page.click("#share-create")
    page.locator("#share-result").wait_for(state="visible")
    url = page.input_value("#share-url")
    shot(page, "share-created")
    page.click("#share-result [data-close]")
    visitor = page.context.browser.new_context()
    try:
        shared = visitor.new_page()
        shared.goto(url)
        assert "announcement@journey" in shared.content()
        assert shared.locator("audio").count() == 1
    finally:
        visitor.close()

    # Pause a live call on the sensor.
    page.get_by_role("link", name="Active calls").click()
    page.wait_for_url(re.compile(r"/active/"))
    live = sim.pool.calls[0]
    page.click(f"#call-0-{live.ref} button.pause")
    page.wait_for_selector(f'#call-0-{live.ref}[data-paused="true"]')
    assert live.paused is True
    shot(page, "active-calls")

    # A report, then the audit log with this session's events.
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Failed calls of +420601555000").click()
    page.wait_for_url(re.compile(r"/reports/\d+/"))
    shot(page, "report")
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(re.compile(r"/audit/"))
    audit = page.locator("main").inner_text()
    for action in ("login succeeded", "PCAP downloaded", "share link created"):
        assert action in audit
    shot(page, "audit-log")
    assert get_user_model().objects.get(username="operator").is_active
