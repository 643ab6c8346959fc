"""/api/v1/users/, /api/v1/groups/ (admins) and /api/v1/audit/ (can_audit)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, VmGroup
from accounts.permissions import effective
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import media_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    user = get_user_model().objects.create_superuser("boss", "b@x", "boss-pass-123")
    return TokenClient(token_for(user, read_only=False))


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def test_an_admin_creates_a_group_and_a_user_that_gets_its_flags_and_restrictions(admin):
    group = post(
        admin, "/api/v1/groups/", {"name": "noc", "can_cdr": True, "enable_sensors": "1,2"}
    )
    assert group.status_code == 201, group.content
    created = post(
        admin,
        "/api/v1/users/",
        {
            "username": "alice",
            "password": "alice-pass-1",
            "group": group.json()["id"],
            "can_pcap": True,
        },
    )
    assert created.status_code == 201, created.content
    alice = get_user_model().objects.get(username="alice")
    rights = effective(alice)
    assert rights.has("can_cdr") and rights.has("can_pcap") and not rights.has("can_audit")
    assert rights.scope.sensors == (1, 2)
    assert alice.check_password("alice-pass-1")
    assert "password" not in created.json()
    changes = AuditEvent.objects.filter(action="permission_change", face="rest")
    assert changes.count() == 2


def test_a_bad_restriction_list_is_a_400_naming_the_field(admin):
    response = post(admin, "/api/v1/groups/", {"name": "bad", "ip": "10.0.0.0/99"})
    assert response.status_code == 400
    assert "ip" in problem(response)["errors"]
    assert not VmGroup.objects.filter(name="bad").exists()


def test_a_non_admin_cannot_manage_users_or_groups():
    client = TokenClient(token_for(media_user("plain"), read_only=False))
    for path in ("/api/v1/users/", "/api/v1/groups/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "only admins" in problem(response)["detail"]


def test_the_audit_log_needs_can_audit_and_pages_newest_first():
    auditor = media_user("auditor", flags=("can_audit",))
    for i in range(5):
        AuditEvent.objects.create(action="pcap_download", username="x", face="api.php", object_id=i)
    client = TokenClient(token_for(auditor))
    first = client.get("/api/v1/audit/", {"action": "pcap_download", "limit": 3}).json()
    assert [e["object_id"] for e in first["results"]] == ["4", "3", "2"]
    rest = client.get("/api/v1/audit/", {"action": "pcap_download", "before": first["next_before"]})
    assert [e["object_id"] for e in rest.json()["results"]] == ["1", "0"]
    assert rest.json()["next_before"] is None
    denied = TokenClient(token_for(media_user("nosy"))).get("/api/v1/audit/")
    assert denied.status_code == 403 and "can_audit" in problem(denied)["detail"]


def test_a_bad_audit_filter_is_a_400(admin):
    assert admin.get("/api/v1/audit/", {"since": "last week"}).status_code == 400
    assert admin.get("/api/v1/audit/", {"action": "nonsense"}).status_code == 400
