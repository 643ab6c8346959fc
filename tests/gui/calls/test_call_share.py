"""Sharing a call from its page: every option of getShareURL (link type, password, lifetime,
SIP history, audio/PCAP, anonymised IPs, the Call-ID's legs), the link shown once, the dialog's
JSON answer, refusals, and the links really opening."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from sharing.models import Share
from tests.cdr.test_unicode_search import sniffer_writes
from tests.factories import make_call
from tests.gui.calls.pagetext import has_id, markup_of, text_of
from tests.gui.support import ALL_MEDIA, media_calls, signed_in

__all__ = ["media_calls"]

pytestmark = pytest.mark.django_db

CALLER_IP = "10.1.0.1"


def form(**fields) -> dict:
    values = {"kind": "share_link", "valid_days": "7", "sip_history": "on", "what": "call"}
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def create(client: Client, cdr_id: int, **fields):
    return client.post(f"/calls/{cdr_id}/share/", form(**fields))


def link_of(response) -> str:
    assert response.status_code == 200, response.content[:800]
    html = response.content.decode()
    url = markup_of(html, "share-url").split('value="', 1)[1].split('"', 1)[0]
    assert text_of(html, "share-visit") == "Open the link"
    return urlsplit(url).path


def test_the_share_page_offers_every_option(media_calls):
    html = signed_in("offers", ALL_MEDIA).get(f"/calls/{media_calls[0].cdr_id}/share/")
    html = html.content.decode()
    for value in ("share_link", "self_protected_link", "self_login_link"):
        assert f'name="kind" value="{value}"' in html
    for name in ("password", "valid_days", "sip_history", "rtp", "anon_ips", "cid_interval"):
        assert f'name="{name}"' in html, name
    assert 'name="what" value="legs"' in html and 'name="csrfmiddlewaretoken"' in html
    # the same form is in the call page's dialog
    page = signed_in("dialog", ALL_MEDIA).get(f"/calls/{media_calls[0].cdr_id}/").content.decode()
    assert "<dialog" in page and 'name="anon_ips"' in markup_of(page, "share-form")


def test_a_public_link_is_shown_once_and_opens_for_anyone(media_calls):
    call = media_calls[0]
    client = signed_in("public", ALL_MEDIA)
    response = create(client, call.cdr_id, rtp="on")
    assert response["Cache-Control"] == "no-store"
    path = link_of(response)
    assert not has_id(response.content, "share-password")
    share = Share.objects.get()
    assert (share.kind, share.cdr_ids, share.rtp, share.sip_history, share.anon_ips) == (
        "share_link", [call.cdr_id], True, True, False
    )  # fmt: skip
    opened = Client().get(path)
    assert opened.status_code == 200
    assert CALLER_IP in opened.content.decode() and "gui-a@alpha" in opened.content.decode()
    assert b'id="audio-1"' in opened.content and b'id="ladder"' in opened.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.SHARE_CREATE)
    assert (event.face, event.username, event.object_id) == ("gui", "public", str(share.pk))
    # the token is not stored: the call page never shows the link again
    again = client.get(f"/calls/{call.cdr_id}/").content.decode()
    assert path.rsplit("/", 1)[1] not in again


def test_a_password_protected_link_with_a_generated_password(media_calls):
    call = media_calls[0]
    response = create(signed_in("protector", ALL_MEDIA), call.cdr_id, kind="self_protected_link")
    path = link_of(response)
    password = markup_of(response.content, "share-password").split('value="', 1)[1].split('"')[0]
    assert len(password) == 12
    assert check_password(password, Share.objects.get().password_hash)
    visitor = Client()
    locked = visitor.get(path)
    assert locked.status_code == 200 and CALLER_IP.encode() not in locked.content
    unlocked = visitor.post(path, {"password": password}, follow=True)
    assert unlocked.status_code == 200 and CALLER_IP.encode() in unlocked.content


def test_a_password_protected_link_with_the_users_own_password(media_calls):
    call = media_calls[0]
    client = signed_in("ownpass", ALL_MEDIA)
    response = create(client, call.cdr_id, kind="self_protected_link", password="Heslo-žluťoučké-1")
    link_of(response)
    assert not has_id(response.content, "share-password")  # nothing generated, nothing shown
    assert check_password("Heslo-žluťoučké-1", Share.objects.get().password_hash)
    short = create(client, call.cdr_id, kind="self_protected_link", password="abc")
    assert short.status_code == 400
    assert "password: 6 to 128 characters" in text_of(short.content, "share-errors")


def test_a_login_link_opens_only_for_signed_in_users_who_may_see_the_call(media_calls):
    call = media_calls[0]
    path = link_of(create(signed_in("loginlink", ALL_MEDIA), call.cdr_id, kind="self_login_link"))
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    colleague = signed_in("colleague", ("can_cdr",))
    assert CALLER_IP.encode() in colleague.get(path).content
    outsider = signed_in("outsider", ("can_cdr",), enable_sensors="7")
    assert outsider.get(path).status_code == 403


def test_lifetime_history_and_anonymised_addresses(media_calls):
    call = media_calls[0]
    client = signed_in("options", ALL_MEDIA)
    path = link_of(create(client, call.cdr_id, valid_days="3", sip_history=None, anon_ips="on"))
    share = Share.objects.get()
    assert (share.sip_history, share.anon_ips, share.rtp) == (False, True, False)
    expected = timezone.now() + dt.timedelta(days=3)
    assert abs((share.expires_at - expected).total_seconds()) < 60
    opened = Client().get(path).content.decode()
    assert CALLER_IP not in opened and 'id="ladder"' not in opened and 'id="audio-1"' not in opened


def test_every_leg_of_the_call_id(db, tmp_path, settings):
    settings.SPOOL_DIR = tmp_path
    made = [
        make_call(when, call_id=f"placeholder-{n}")
        for n, when in enumerate(
            # the first is over 60 s before the latest leg
            (
                "2026-11-27 09:58:00",
                "2026-11-27 10:00:00",
                "2026-11-27 10:00:30",
                "2026-11-27 10:00:50",
            )
        )
    ]
    for cdr in made:  # the Call-ID as the sniffer stores it: the UTF-8 bytes it received
        sniffer_writes(cdr.ID, fbasename="legs-ř@pbx")
    _, first, second, third = made
    client = signed_in("legs", ("can_cdr",))
    link_of(create(client, first.ID, what="legs", cid_interval="60"))
    assert Share.objects.get().cdr_ids == [first.ID, second.ID, third.ID]
    Share.objects.all().delete()
    link_of(create(client, first.ID, what="call"))
    assert Share.objects.get().cdr_ids == [first.ID]


def test_audio_and_pcap_sharing_needs_both_media_flags(media_calls):
    call = media_calls[0]
    client = signed_in("nomediashare", ("can_cdr", "can_download_audio"))
    html = client.get(f"/calls/{call.cdr_id}/share/").content.decode()
    assert 'name="rtp"' not in html
    assert "needs the can_download_audio and can_pcap permissions" in text_of(html, "share-form")
    forged = create(client, call.cdr_id, rtp="on")
    assert forged.status_code == 403
    assert "sharing audio and PCAP (rtp) needs can_pcap" in text_of(forged.content, "share-errors")
    assert not Share.objects.exists()
    link_of(create(client, call.cdr_id))  # without audio it is allowed


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"valid_days": "0"}, "greater than or equal to 1"),
        ({"valid_days": "91"}, "less than or equal to 90"),
        ({"valid_days": "many"}, "Enter a whole number"),
        ({"kind": "everyone"}, "Select a valid choice"),
        ({"cid_interval": "86401", "what": "legs"}, "less than or equal to 86400"),
    ],
)
def test_bad_input_is_a_400_with_a_message(media_calls, fields, message):
    client = signed_in("badshare", ALL_MEDIA)
    response = create(client, media_calls[0].cdr_id, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Share.objects.exists()


def test_the_dialog_gets_json(media_calls):
    call = media_calls[0]
    client = signed_in("jsonshare", ALL_MEDIA)
    ok = client.post(
        f"/calls/{call.cdr_id}/share/",
        form(kind="self_protected_link"),
        HTTP_ACCEPT="application/json",
    )
    body = json.loads(ok.content)
    assert ok.status_code == 200 and body["ok"] is True
    assert urlsplit(body["url"]).path.startswith("/share/") and len(body["password"]) == 12
    assert body["kind"] == "public, password-protected" and body["calls"] == 1
    bad = client.post(
        f"/calls/{call.cdr_id}/share/", form(valid_days="500"), HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400
    assert json.loads(bad.content) == {
        "ok": False,
        "errors": ["Valid for (days, at most 90): Ensure this value is less than or equal to 90."],
    }


def test_creating_a_share_needs_the_csrf_token(media_calls):
    client = Client(enforce_csrf_checks=True)
    from django.contrib.auth import get_user_model

    signed_in("csrf", ALL_MEDIA)
    client.force_login(get_user_model().objects.get(username="csrf"))
    response = client.post(f"/calls/{media_calls[0].cdr_id}/share/", form())
    assert response.status_code == 403 and not Share.objects.exists()
