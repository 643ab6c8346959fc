"""Tokens verified earlier (api.rest.tokens.remembered): no queries, and never a stale answer.

A token that passed the full check (token row, owner's profile) is reused after one
shared-cache read; a revocation, an edit, a blocked owner, a changed right and the token's
expiry take effect at the next request.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import profile_of
from api.rest import tokens
from api.rest.models import ApiToken
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import media_user

pytestmark = [pytest.mark.django_db]
PATH = "/api/v1/sensors/"


@pytest.fixture(autouse=True)
def _remembering(settings):
    settings.API_AUTH_CACHE_SECONDS = 300
    tokens.forget_all()


def _token_queries(client: Client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(PATH).status_code
    return status, [
        q["sql"]
        for q in queries.captured_queries
        if "rest_api_apitoken" in q["sql"] or "accounts_userprofile" in q["sql"]
    ]


def test_a_remembered_token_is_answered_without_token_or_profile_queries():
    client = TokenClient(token_for(media_user("mem1")))
    status, first = _token_queries(client)
    assert status == 200 and first  # the full check
    status, again = _token_queries(client)
    assert status == 200 and again == []


def test_a_revoked_token_is_refused_at_the_next_request():
    user = media_user("mem2")
    client = TokenClient(token_for(user))
    assert client.get(PATH).status_code == 200
    tokens.revoke(ApiToken.objects.get())
    response = client.get(PATH)
    assert response.status_code == 401 and "revoked" in problem(response)["detail"]


def test_a_token_edited_in_the_admin_is_checked_again():
    client = TokenClient(token_for(media_user("mem3")), REMOTE_ADDR="192.0.2.1")
    assert client.get(PATH).status_code == 200
    token = ApiToken.objects.get()
    token.allowed_ips = "198.51.100.0/24"
    token.save()
    response = client.get(PATH)
    assert response.status_code == 401
    assert "not allowed from this address" in problem(response)["detail"]


def test_a_blocked_owner_is_refused_at_the_next_request():
    user = media_user("mem4")
    client = TokenClient(token_for(user))
    assert client.get(PATH).status_code == 200
    profile = profile_of(user)
    profile.blocked, profile.blocked_reason = True, "left the company"
    profile.save()
    response = client.get(PATH)
    assert response.status_code == 401 and "left the company" in problem(response)["detail"]


def test_a_remembered_token_still_expires_on_time(monkeypatch):
    client = TokenClient(token_for(media_user("mem5"), valid_days=1))
    assert client.get(PATH).status_code == 200
    later = timezone.now() + dt.timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = client.get(PATH)
    assert response.status_code == 401 and "expired" in problem(response)["detail"]


def test_the_same_token_from_another_address_is_checked_in_full():
    secret = token_for(media_user("mem6"), allowed_ips="192.0.2.0/24")
    assert TokenClient(secret, REMOTE_ADDR="192.0.2.7").get(PATH).status_code == 200
    response = TokenClient(secret, REMOTE_ADDR="203.0.113.9").get(PATH)
    assert response.status_code == 401


def test_last_use_is_still_recorded_for_a_remembered_token(monkeypatch):
    client = TokenClient(token_for(media_user("mem7")), REMOTE_ADDR="192.0.2.5")
    assert client.get(PATH).status_code == 200
    later = timezone.now() + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get(PATH).status_code == 200
    assert ApiToken.objects.get().last_used_at == later
