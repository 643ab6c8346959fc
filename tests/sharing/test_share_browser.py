"""Each link type end to end in a real browser (Chromium through Playwright) against a live
server: the page, the password form, the login redirect, the audio player, the PCAP download."""

from __future__ import annotations

import io

import dpkt
import pytest

from tests.browser import browser, page
from tests.cdr.media.test_media_support import PASSWORD, media_user, tone_spec, write_calls
from tests.conftest import reset_sniffer_schema
from tests.sharing.test_sharing_support import ALL_FLAGS, CALL_ID, CALLDATE, CALLER_IP, make_share

__all__ = ["browser", "page"]


@pytest.fixture
def world(transactional_db, live_server, tmp_path, settings):
    """A live server, a call in its spool, the user who shares it."""
    settings.SPOOL_DIR = tmp_path / "spool"
    (call,) = write_calls(settings.SPOOL_DIR, [tone_spec(CALL_ID, CALLDATE)])
    user = media_user("sharer", flags=ALL_FLAGS)
    yield live_server, call, user
    reset_sniffer_schema()  # the sniffer's tables are not flushed between transactional tests


def _check_call_page(page) -> None:
    assert page.title() == "Shared call – vmgui"
    summary = page.locator("#call-1").inner_text()
    assert CALLER_IP in summary and CALL_ID in summary and "1001" in summary
    assert page.locator("#ladder svg").count() == 1
    assert "INVITE" in page.locator("#messages").inner_text()


def _check_media(page) -> None:
    # the browser really loads and decodes the recording (WAV over HTTP Range)
    duration = page.eval_on_selector(
        "#audio-1",
        """audio => new Promise((resolve, reject) => {
            audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
            audio.addEventListener('error', () => reject(new Error('audio error')));
            audio.load();
        })""",
    )
    assert 4.0 < duration < 7.0
    with page.expect_download() as info:
        page.click("#pcap")
    data = open(info.value.path(), "rb").read()
    assert len(list(dpkt.pcap.Reader(io.BytesIO(data)))) > 100


def test_a_public_share_link_in_a_browser(world, page):
    server, call, user = world
    _, token, _ = make_share(user, call, "share_link", rtp=True)
    page.goto(f"{server.url}/share/{token}")
    _check_call_page(page)
    _check_media(page)


def test_a_password_protected_link_in_a_browser(world, page):
    server, call, user = world
    _, token, _ = make_share(user, call, "self_protected_link", rtp=True, password="open-sesame")
    page.goto(f"{server.url}/share/{token}")
    assert CALLER_IP not in page.content()
    page.fill("#password", "wrong-guess")
    page.click("#open")
    assert page.locator("#reason").inner_text() == "wrong password"
    assert CALLER_IP not in page.content()
    page.fill("#password", "open-sesame")
    page.click("#open")
    _check_call_page(page)
    _check_media(page)


def test_a_login_link_in_a_browser(world, page):
    server, call, user = world
    _, token, _ = make_share(user, call, "self_login_link")
    media_user("colleague", flags=("can_cdr",))
    page.goto(f"{server.url}/share/{token}")
    assert "/login/" in page.url and CALLER_IP not in page.content()
    page.fill("#id_username", "colleague")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/share/{token}")
    _check_call_page(page)
    assert page.locator("#audio-1").count() == 0  # no rtp in this share


def test_an_expired_link_in_a_browser_shows_nothing(world, page):
    server, call, user = world
    share, token, _ = make_share(user, call, "share_link", rtp=True)
    from sharing import service

    service.revoke(share, user)
    response = page.goto(f"{server.url}/share/{token}")
    assert response.status == 410
    assert page.locator("#reason").inner_text() == "this share link was revoked"
    assert CALLER_IP not in page.content() and CALL_ID not in page.content()
