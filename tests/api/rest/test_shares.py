"""/api/v1/shares/: create (the link shown once), list own, retrieve, revoke."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import media_user
from tests.sharing.test_sharing_support import CALLER_IP, shared_call, sharer, spool

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sharer):
    return TokenClient(token_for(sharer, read_only=False))


def _post(client, body: dict):
    return client.post("/api/v1/shares/", json.dumps(body), content_type="application/json")


def test_create_list_retrieve_and_revoke(client, shared_call):
    created = _post(
        client, {"cdr_ids": [shared_call.cdr_id], "rtp": True, "anon_ips": True, "valid_days": 3}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["type"] == "share_link"
        and body["active"]
        and body["url"].startswith("http://testserver/share/")
    )
    path = body["url"].removeprefix("http://testserver")
    assert Client().get(path).status_code == 200
    listed = client.get("/api/v1/shares/").json()
    assert [s["id"] for s in listed] == [body["id"]] and "url" not in listed[0]
    assert client.get(f"/api/v1/shares/{body['id']}/").json()["cdr_ids"] == [shared_call.cdr_id]
    assert client.delete(f"/api/v1/shares/{body['id']}/").status_code == 204
    assert problem(client.delete(f"/api/v1/shares/{body['id']}/"))["status"] == 409
    assert Client().get(path).status_code == 410
    assert AuditEvent.objects.filter(action="share_create", face="rest").count() == 1


def test_a_protected_share_gets_a_generated_password_once(client, shared_call):
    body = _post(client, {"type": "self_protected_link", "call_id": "share-call-1@10.1.0.1"}).json()
    assert len(body["password"]) == 12
    assert "password" not in client.get(f"/api/v1/shares/{body['id']}/").json()


def test_others_shares_are_not_visible_or_revocable(client, shared_call):
    other = TokenClient(token_for(media_user("other", flags=("can_cdr",)), read_only=False))
    share_id = _post(client, {"cdr_ids": [shared_call.cdr_id]}).json()["id"]
    assert other.get("/api/v1/shares/").json() == []
    assert problem(other.get(f"/api/v1/shares/{share_id}/"))["status"] == 404
    assert problem(other.delete(f"/api/v1/shares/{share_id}/"))["status"] == 404


@pytest.mark.parametrize(
    "body, status, detail",
    [
        ({}, 400, "cdr_ids or call_id is required"),
        ({"cdr_ids": [999999]}, 404, "no such CDR"),
        ({"cdr_ids": ["x"]}, 400, "cdr_ids"),
        ({"cdr_ids": [1], "type": "open"}, 400, "type"),
        ({"cdr_ids": [1], "valid_days": 100000}, 400, "valid_days"),
        ({"cdr_ids": [1], "password": "x" * 20}, 400, "only protects a self_protected_link"),
    ],
)
def test_bad_requests_are_problems(client, shared_call, body, status, detail):
    if body.get("cdr_ids") == [1]:
        body["cdr_ids"] = [shared_call.cdr_id]
    response = _post(client, body)
    assert response.status_code == status and detail in problem(response)["detail"]


def test_rights_are_the_token_owners(shared_call):
    viewer = TokenClient(token_for(media_user("viewer", flags=("can_cdr",)), read_only=False))
    refused = _post(viewer, {"cdr_ids": [shared_call.cdr_id], "rtp": True})
    assert refused.status_code == 403 and "can_pcap" in problem(refused)["detail"]
    read_only = TokenClient(token_for(media_user("reader", flags=("can_cdr",))))
    assert _post(read_only, {"cdr_ids": [shared_call.cdr_id]}).status_code == 403
    page = _post(viewer, {"cdr_ids": [shared_call.cdr_id]})
    assert page.status_code == 201
    html = Client().get(page.json()["url"].removeprefix("http://testserver")).content.decode()
    assert CALLER_IP in html and "<audio" not in html
