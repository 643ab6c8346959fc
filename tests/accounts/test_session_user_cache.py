"""The user of a session (accounts.principals.session_users): loaded once, never stale.

sql.php, the GUI and the REST API's session load the session's user on every request (the
user row and the blocked check). The user is reused after one shared-cache read; a block, a
deactivation, a password change or a deletion takes effect at the next request.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts import principals
from accounts.models import UserProfile
from tests.api.legacy.test_sql_php_support import decode, session_client

User = get_user_model()
LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}


def _listing(client: Client) -> dict:
    return decode(client.get("/php/model/sql.php", LISTING))


def _account_queries(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "auth_user" in q["sql"] or "accounts_userprofile" in q["sql"]
    ]


@pytest.fixture
def client(db) -> Client:
    principals.session_users.clear()
    return session_client()


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_session_request_reuses_its_user_without_a_query(client):
    assert _listing(client)["success"] is True
    with CaptureQueriesContext(connection) as queries:
        assert _listing(client)["success"] is True
    assert _account_queries(queries) == []


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_session_request_reads_its_versions_once(client, monkeypatch):
    # The user's check and the rights' check ask for the same versions: one shared-cache read.
    _listing(client)
    cache = caches["default"]
    reads = []
    real = cache.get_many

    def get_many(keys, *args, **kwargs):
        reads.extend(key for key in keys if key.startswith("vmgui:auth:"))
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", get_many)
    assert _listing(client)["success"] is True
    user = User.objects.get(is_superuser=False)
    assert reads == ["vmgui:auth:perm", f"vmgui:auth:user:{user.pk}"]


@override_settings(API_AUTH_CACHE_SECONDS=0)
def test_without_the_memory_every_request_loads_the_user(client):
    _listing(client)
    with CaptureQueriesContext(connection) as queries:
        assert _listing(client)["success"] is True
    assert any("auth_user" in sql for sql in _account_queries(queries))


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_block_ends_the_open_session_at_the_next_request(client):
    _listing(client)
    profile = UserProfile.objects.get(user__is_superuser=False)
    profile.blocked, profile.blocked_reason = True, "left the company"
    profile.save()
    body = _listing(client)
    assert body["success"] is False and "left the company" in body["error"]["descr"]


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_deactivated_user_is_out_at_the_next_request(client):
    _listing(client)
    user = User.objects.get(is_superuser=False)
    user.is_active = False
    user.save()
    assert _listing(client)["success"] is False


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_deleted_user_is_out_at_the_next_request(client):
    _listing(client)
    User.objects.get(is_superuser=False).delete()
    body = _listing(client)
    assert body["success"] is False and body["error"]["type"] == "no_session"


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_password_change_logs_the_session_out(client):
    _listing(client)
    user = User.objects.get(is_superuser=False)
    user.set_password("a-new-password-ř")
    user.save()
    body = _listing(client)
    assert body["success"] is False and body["error"]["type"] == "no_session"


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_each_request_gets_its_own_copy_of_the_user(db):
    user = User.objects.create_user("petr", password="x-1")
    first = principals.session_users.get(user.pk, lambda: User.objects.get(pk=user.pk))
    first.some_request_state = "mine"
    second = principals.session_users.get(user.pk, lambda: pytest.fail("loaded again"))
    assert second == first and second is not first
    assert not hasattr(second, "some_request_state")
