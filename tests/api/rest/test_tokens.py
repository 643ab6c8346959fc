"""API tokens: shown once, only a hash stored, expiry, read-only, allowed IPs, revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import profile_of
from api.rest.models import ApiToken
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import media_user

pytestmark = pytest.mark.django_db


def test_it_shows_a_new_token_once_and_stores_only_its_hash():
    user = media_user("tok1")
    client = Client()
    client.force_login(user)
    response = client.post(
        "/api/v1/tokens/",
        {"name": "nightly export", "valid_days": 30},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    secret = body["token"]
    assert secret.startswith(f"vmg_{body['prefix']}_")
    row = ApiToken.objects.get(pk=body["id"])
    assert secret not in (row.digest, row.prefix)
    assert row.digest == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert row.expires_at - timezone.now() > dt.timedelta(days=29)
    listed = client.get("/api/v1/tokens/").json()
    assert [t["prefix"] for t in listed] == [body["prefix"]]
    assert "token" not in listed[0]  # never shown again
    assert AuditEvent.objects.filter(action="token_create", object_id=body["prefix"]).exists()


def test_it_accepts_a_valid_token_and_records_its_last_use():
    user = media_user("tok2")
    secret = token_for(user)
    response = TokenClient(secret, REMOTE_ADDR="192.0.2.7").get("/api/v1/sensors/")
    assert response.status_code == 200
    row = ApiToken.objects.get()
    assert row.last_used_ip == "192.0.2.7" and row.last_used_at is not None


@pytest.mark.parametrize(
    "header, reason",
    [
        ("Bearer vmg_00000000_" + "A" * 43, "invalid API token"),
        ("Bearer nonsense", "malformed API token"),
        ("Bearer", "expected 'Bearer <token>'"),
    ],
)
def test_it_refuses_bad_tokens_with_401_problem_json(header, reason):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/sensors/")
    assert response.status_code == 401
    assert reason in problem(response)["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_an_anonymous_caller_with_401():
    response = Client().get("/api/v1/cdrs/")
    assert response.status_code in (401, 403)
    assert "authentication" in problem(response)["detail"].lower()


def test_it_refuses_an_expired_token():
    user = media_user("tok3")
    secret = token_for(user, valid_days=1)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = TokenClient(secret).get("/api/v1/sensors/")
    assert response.status_code == 401
    assert "expired" in problem(response)["detail"]


def test_it_refuses_a_revoked_token_and_revoking_twice_is_a_conflict():
    user = media_user("tok4")
    secret = token_for(user)
    session = Client()
    session.force_login(user)
    token_id = ApiToken.objects.get().pk
    assert session.delete(f"/api/v1/tokens/{token_id}/").status_code == 204
    assert session.delete(f"/api/v1/tokens/{token_id}/").status_code == 409
    response = TokenClient(secret).get("/api/v1/sensors/")
    assert response.status_code == 401
    assert "revoked" in problem(response)["detail"]


def test_it_refuses_a_token_from_an_address_outside_its_allowed_ips():
    user = media_user("tok5")
    secret = token_for(user, allowed_ips="192.0.2.0/24")
    assert TokenClient(secret, REMOTE_ADDR="192.0.2.99").get("/api/v1/sensors/").status_code == 200
    response = TokenClient(secret, REMOTE_ADDR="198.51.100.1").get("/api/v1/sensors/")
    assert response.status_code == 401
    assert "not allowed from this address" in problem(response)["detail"]


def test_it_refuses_writes_with_a_read_only_token():
    user = media_user("tok6")
    secret = token_for(user)  # read-only by default
    response = TokenClient(secret).post(
        "/api/v1/tokens/", json.dumps({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert "read-only" in problem(response)["detail"]
    writable = token_for(user, read_only=False)
    response = TokenClient(writable).post(
        "/api/v1/tokens/", json.dumps({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 201


def test_it_refuses_the_token_of_a_blocked_user():
    user = media_user("tok7")
    secret = token_for(user)
    profile = profile_of(user)
    profile.blocked, profile.blocked_reason = True, "left the company"
    profile.save()
    response = TokenClient(secret).get("/api/v1/sensors/")
    assert response.status_code == 401
    assert "left the company" in problem(response)["detail"]


def test_a_user_cannot_see_or_revoke_another_users_token():
    owner = media_user("tok8")
    token_for(owner)
    other = get_user_model().objects.create_user("tok9", password="x" * 12)
    client = Client()
    client.force_login(other)
    token_id = ApiToken.objects.get().pk
    assert client.get("/api/v1/tokens/").json() == []
    assert client.delete(f"/api/v1/tokens/{token_id}/").status_code == 404


def test_it_throttles_per_token_with_429_and_retry_after(settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    user = media_user("tok10")
    secret, other = token_for(user), token_for(user)
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "rest": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        from django.core.cache import cache

        cache.clear()
        statuses = [TokenClient(secret).get("/api/v1/sensors/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = TokenClient(secret).get("/api/v1/sensors/")
        assert int(limited["Retry-After"]) > 0
        assert problem(limited)["status"] == 429
        assert TokenClient(other).get("/api/v1/sensors/").status_code == 200  # its own budget
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
