"""The call page in a real browser (Chromium through Playwright, against a live server): sign
in, open a call, click a ladder arrow and read its message, play the recording (the player
reports a duration and its time advances), seek by clicking the waveform, download the PCAP,
create a share in the dialog and open the link."""

from __future__ import annotations

import io

import dpkt
import pytest

from tests.browser import browser, page
from tests.cdr.media.test_media_support import PASSWORD, tone_spec, write_calls
from tests.conftest import reset_sniffer_schema
from tests.gui.support import ALL_MEDIA, T0, gui_user

__all__ = ["browser", "page"]

CALL_ID = "browser-call@alpha"


@pytest.fixture
def world(transactional_db, live_server, tmp_path, settings):
    """A live server, one answered call with real pcaps in its spool, an operator."""
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path / "tmp")
    (call,) = write_calls(settings.SPOOL_DIR, [tone_spec(CALL_ID, T0, caller="+420601234567")])
    gui_user("operator", ALL_MEDIA)
    yield live_server, call
    reset_sniffer_schema()  # the sniffer's tables are not flushed between transactional tests


def _sign_in(page, server) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _player(page, expression: str):
    """Evaluate ``expression`` with ``p`` = the page's audio player (promises are awaited)."""
    return page.evaluate(
        f"(() => {{ const p = document.getElementById('player'); return {expression}; }})()"
    )


def test_the_call_page_in_a_browser(world, page):
    server, call = world
    _sign_in(page, server)
    page.goto(f"{server.url}/calls/{call.cdr_id}/")
    assert page.title().startswith("Call +420601234567 → 2002")
    assert "+420601234567" in page.locator("#f-caller").inner_text()

    # the ladder: clicking the INVITE arrow opens its whole message in the list
    assert not page.locator("#msg-0 pre").is_visible()
    page.locator('#ladder g.arrow[data-index="0"]').click()
    message = page.locator("#msg-0 pre")
    message.wait_for(state="visible")
    assert f"Call-ID: {CALL_ID}" in message.inner_text() and "m=audio" in message.inner_text()
    assert page.locator('#ladder g.arrow.selected[data-index="0"]').count() == 1

    # the graphs are real images
    for img in ("#waveform", "#spectrogram"):
        page.wait_for_function(
            f"document.querySelector('{img}').complete && "
            f"document.querySelector('{img}').naturalWidth > 0"
        )

    # the player: a duration, then playing advances its time
    page.wait_for_function(
        "isFinite(document.getElementById('player').duration) && "
        "document.getElementById('player').duration > 0"
    )
    duration = _player(page, "p.duration")
    assert 4.0 < duration < 7.0
    # the page had a click, so play() is allowed; it resolves once playback started
    assert _player(page, "p.play().then(() => 'playing', e => String(e))") == "playing"
    page.wait_for_function("document.getElementById('player').currentTime > 0.3")
    _player(page, "(p.pause(), true)")

    # clicking the waveform at 3/4 of its width seeks there; the playhead follows
    page.locator("#waveform").scroll_into_view_if_needed()
    box = page.locator("#waveform").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {duration * 0.75}) < 0.3"
    )
    head = page.locator(".seek[data-graph='P'] .playhead")
    assert head.is_visible()
    left = head.evaluate("h => h.getBoundingClientRect().left")
    assert abs(left - (box["x"] + box["width"] * 0.75)) < 6

    # the PCAP download
    with page.expect_download() as info:
        page.click("#dl-pcap")
    data = open(info.value.path(), "rb").read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    assert len(list(dpkt.pcap.Reader(io.BytesIO(data)))) > 300
    assert info.value.suggested_filename == f"{CALL_ID}.pcap"

    # the share dialog: a password-protected link with audio, shown once, then opened
    page.click("#share-open")
    dialog = page.locator("#share-dialog")
    dialog.wait_for(state="visible")
    page.check("#share-dialog input[name=kind][value=self_protected_link]")
    page.check("#share-dialog input[name=rtp]")
    page.click("#share-create")
    page.locator("#share-result").wait_for(state="visible")
    url = page.input_value("#share-url")
    password = page.input_value("#share-password")
    assert "/share/" in url and len(password) == 12
    page.click("#share-result [data-close]")
    assert not dialog.is_visible()

    visitor = page.context.browser.new_context()
    try:
        shared = visitor.new_page()
        shared.goto(url)
        shared.fill("#password", password)
        shared.click("#open")
        shared.locator("#call-1").wait_for()
        assert CALL_ID in shared.locator("#call-1").inner_text()
        assert shared.locator("#audio-1").count() == 1
    finally:
        visitor.close()
