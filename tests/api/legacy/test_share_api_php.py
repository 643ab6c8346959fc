"""api.php getShareURL and utilities.php shareCdr (the three subTypes): shapes, options,
permissions, and the links really opening."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import AuditEvent
from sharing.models import Share
from tests.cdr.media.test_media_support import PASSWORD, api_get, error_reason, media_user
from tests.sharing.test_sharing_support import (
    CALL_ID,
    CALLER_IP,
    shared_call,
    sharer,
    spool,
)

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db


def _ok(response) -> dict:
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["success"] is True, body
    return body


def _path(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[1].join(["/", ""])


def test_getshareurl_by_cdrid_answers_a_url_that_opens(sharer, shared_call):
    body = _ok(
        api_get(
            {"cdrId": shared_call.cdr_id, "rtp": True, "validDays": 15},
            "getShareURL",
            user="sharer",
        )
    )
    assert body["url"].startswith("http://testserver/share/") and body["type"] == "share_link"
    share = Share.objects.get(pk=body["id"])
    assert (
        share.rtp
        and share.sip_history
        and not share.anon_ips
        and share.cdr_ids == [shared_call.cdr_id]
    )
    page = Client().get(_path(body["url"]))
    assert page.status_code == 200 and CALLER_IP in page.content.decode()
    event = AuditEvent.objects.get(action="share_create")
    assert event.face == "api.php" and event.username == "sharer"


def test_getshareurl_by_callid_with_options_as_strings(sharer, shared_call):
    params = {
        "callId": CALL_ID,
        "cidInterval": "60",
        "rtp": "1",
        "sip_history": "0",
        "anonIps": "true",
    }
    body = _ok(api_get(params, "getShareURL", user="sharer"))
    share = Share.objects.get(pk=body["id"])
    assert share.cdr_ids == [shared_call.cdr_id] and share.anon_ips and not share.sip_history


def test_getshareurl_uses_the_share_site(sharer, shared_call, settings):
    settings.BRAND_SHARESITE = "share.example.com"
    body = _ok(api_get({"cdrId": shared_call.cdr_id}, "getShareURL", user="sharer"))
    assert body["url"].startswith("https://share.example.com/share/")


@pytest.mark.parametrize(
    "params, reason",
    [
        ({}, "params.cdrId or params.callId is required"),
        ({"cdrId": "abc"}, "params.cdrId: expected a whole number"),
        ({"cdrId": 999999}, "no such CDR: 999999"),
        ({"cdrId": 1, "validDays": 0}, "params.validDays: must be at least 1"),
        ({"cdrId": 1, "validDays": 100000}, "params.validDays: must be at most"),
        ({"cdrId": 1, "rtp": "maybe"}, "params.rtp: expected 1/0 or true/false"),
        ({"cdrId": 1, "subType": "everyone"}, "params.subType: one of"),
    ],
)
def test_getshareurl_refuses_bad_params_clearly(sharer, shared_call, params, reason):
    assert reason in error_reason(api_get(params, "getShareURL", user="sharer"))


def test_getshareurl_needs_the_rights_it_would_share(shared_call):
    media_user("viewer", flags=("can_cdr",))
    assert _ok(api_get({"cdrId": shared_call.cdr_id}, "getShareURL", user="viewer"))
    refused = error_reason(
        api_get({"cdrId": shared_call.cdr_id, "rtp": True}, "getShareURL", user="viewer")
    )
    assert "can_download_audio and can_pcap" in refused
    media_user("nobody", flags=())
    assert "can_cdr" in error_reason(
        api_get({"cdrId": shared_call.cdr_id}, "getShareURL", user="nobody")
    )
    media_user("elsewhere", flags=("can_cdr",), number="+420%")
    assert "no such CDR" in error_reason(
        api_get({"cdrId": shared_call.cdr_id}, "getShareURL", user="elsewhere")
    )
    assert Share.objects.count() == 1


def test_getshareurl_without_a_user_account_is_refused(shared_call, settings):
    settings.API_DISABLE_AUTH = True
    assert "needs a user account" in error_reason(
        api_get({"cdrId": shared_call.cdr_id}, "getShareURL", user=None)
    )


def _utilities(client: Client, params: dict):
    return client.get(
        "/php/model/utilities.php", {"task": "shareCdr", "params": json.dumps(params)}
    )


@pytest.fixture
def session(sharer) -> Client:
    client = Client()
    login = client.get(
        "/php/model/sql.php", {"module": "bypass_login", "user": "sharer", "pass": PASSWORD}
    )
    assert json.loads(login.content)["success"] is True
    return client


def test_utilities_share_link_is_public(session, shared_call):
    body = _ok(
        _utilities(
            session, {"type": "share_cdr_show", "subType": "share_link", "id": [shared_call.cdr_id]}
        )
    )
    assert body["type"] == "share_link" and "password" not in body
    assert Client().get(_path(body["url"])).status_code == 200


def test_utilities_self_protected_link_returns_its_generated_password(session, shared_call):
    body = _ok(
        _utilities(
            session,
            {
                "type": "share_cdr_show",
                "subType": "self_protected_link",
                "id": [shared_call.cdr_id],
            },
        )
    )
    assert len(body["password"]) == 12
    visitor = Client()
    assert CALLER_IP not in visitor.get(_path(body["url"])).content.decode()
    assert visitor.post(_path(body["url"]), {"password": body["password"]}).status_code == 303
    assert CALLER_IP in visitor.get(_path(body["url"])).content.decode()


def test_utilities_self_protected_link_with_the_creators_password(session, shared_call):
    params = {"subType": "self_protected_link", "id": shared_call.cdr_id, "password": "chosen-pass"}
    body = _ok(_utilities(session, params))
    assert "password" not in body
    visitor = Client()
    assert visitor.post(_path(body["url"]), {"password": "chosen-pass"}).status_code == 303


def test_utilities_self_login_link_needs_a_login(session, shared_call):
    body = _ok(_utilities(session, {"subType": "self_login_link", "id": [shared_call.cdr_id]}))
    assert Client().get(_path(body["url"])).status_code == 302
    assert session.get(_path(body["url"])).status_code == 200


def test_utilities_without_a_session_and_with_bad_input(db, shared_call):
    assert json.loads(_utilities(Client(), {"id": [1]}).content) == {
        "success": False,
        "error": {"type": "no_session"},
    }


def test_utilities_refuses_unknown_tasks_and_types(session, shared_call):
    bad_task = json.loads(session.get("/php/model/utilities.php", {"task": "nope"}).content)
    assert bad_task["success"] is False and "shareCdr" in bad_task["errors"]["reason"]
    bad_type = json.loads(_utilities(session, {"type": "share_cdr_delete", "id": [1]}).content)
    assert "share_cdr_show" in bad_type["errors"]["reason"]
    short = json.loads(
        _utilities(
            session,
            {"subType": "self_protected_link", "id": [shared_call.cdr_id], "password": "abc"},
        ).content
    )
    assert "password: 6 to 128 characters" in short["errors"]["reason"]
