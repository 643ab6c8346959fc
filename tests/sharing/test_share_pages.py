"""The share page, its JSON, audio and PCAP: what each option shows, what never shows."""

from __future__ import annotations

import io
import json
import re

import dpkt
import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.cdr.media.test_media_support import body_of
from tests.sharing.test_sharing_support import (
    CALL_ID,
    CALLED_IP,
    CALLER_IP,
    make_share,
    share_path,
    shared_call,
    sharer,
    spool,
)

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db


def test_a_public_link_shows_the_summary_ladder_and_messages(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, rtp=False, sip_history=True)
    response = Client().get(share_path(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'id="messages"' in html and "INVITE" in html
    assert CALLER_IP in html and CALLED_IP in html and CALL_ID in html and "1001" in html
    assert "<audio" not in html and "call.pcap" not in html  # rtp not shared
    assert "<title>Shared call – vmgui</title>" in html
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Referrer-Policy"] == "same-origin"


def test_the_page_links_to_nothing_else_of_the_application(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, rtp=True, sip_history=True)
    html = Client().get(share_path(token)).content.decode()
    links = re.findall(r'\s(?:href|src|action|xlink:href)="([^"]*)"', html)
    assert links and all(link.startswith(share_path(token)) for link in links), links


def test_rtp_adds_a_playable_recording_and_the_pcap(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, rtp=True)
    client = Client()
    html = client.get(share_path(token)).content.decode()
    assert f'src="{share_path(token)}/audio/1.wav"' in html
    wav = client.get(f"{share_path(token)}/audio/1.wav")
    assert wav.status_code == 200 and wav["Content-Type"] == "audio/x-wav"
    assert body_of(wav)[:4] == b"RIFF"
    part = client.get(f"{share_path(token)}/audio/1.wav", HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and len(body_of(part)) == 100
    pcap = client.get(f"{share_path(token)}/call.pcap")
    assert pcap.status_code == 200 and pcap["Content-Type"] == "application/vnd.tcpdump.pcap"
    packets = list(dpkt.pcap.Reader(io.BytesIO(body_of(pcap))))
    assert len(packets) > 100


def test_without_rtp_there_is_no_audio_or_pcap_to_fetch(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, rtp=False)
    client = Client()
    assert client.get(f"{share_path(token)}/audio/1.wav").status_code == 404
    assert client.get(f"{share_path(token)}/call.pcap").status_code == 404


def test_sip_history_false_shows_the_summary_only(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, sip_history=False)
    html = Client().get(share_path(token)).content.decode()
    assert "<svg" not in html and 'id="messages"' not in html and CALLER_IP in html


def test_the_json_has_the_call_and_its_messages(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, rtp=True)
    body = json.loads(Client().get(f"{share_path(token)}/data.json").content)
    assert body["success"] is True and body["share"]["type"] == "share_link"
    (call,) = body["calls"]
    assert call["ID"] == shared_call.cdr_id and call["sipcallerip"] == CALLER_IP
    assert call["calldate"] == "2026-11-27 09:30:00" and call["callId"] == CALL_ID
    assert [m["first_line"].split()[0] for m in body["messages"]][:1] == ["INVITE"]
    assert body["rtp_streams"] and body["links"]["pcap"].endswith("/call.pcap")


def test_every_visit_is_audited(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call, rtp=True)
    created = AuditEvent.objects.get(action="share_create")
    assert created.user == sharer and created.object_id == str(share.pk)
    client = Client()
    client.get(share_path(token))
    body_of(client.get(f"{share_path(token)}/call.pcap"))
    uses = AuditEvent.objects.filter(action="share_use", object_id=str(share.pk))
    assert sorted(e.details["what"] for e in uses) == ["page", "pcap"]
    share.refresh_from_db()
    assert share.uses == 2 and share.last_used_at is not None


def test_only_the_hash_of_the_token_is_stored(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call)
    assert len(token) == 43 and token not in json.dumps(
        list(type(share).objects.values()), default=str
    )


def test_a_login_link_sends_a_visitor_without_session_to_the_login_page(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call, "self_login_link")
    response = Client().get(share_path(token))
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert Client().get(f"{share_path(token)}/data.json").status_code == 401


def test_a_login_link_opens_for_a_user_who_may_see_the_call_only(sharer, shared_call):
    from tests.cdr.media.test_media_support import media_user

    _, token, _ = make_share(sharer, shared_call, "self_login_link")
    colleague = Client()
    colleague.force_login(media_user("colleague", flags=("can_cdr",)))
    assert colleague.get(share_path(token)).status_code == 200
    outsider = Client()
    outsider.force_login(media_user("outsider", flags=("can_cdr",), number="+420%"))
    response = outsider.get(share_path(token))
    assert response.status_code == 403 and CALLER_IP not in response.content.decode()
