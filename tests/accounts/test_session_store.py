"""accounts.sessionstore: Django's session stores with the read sent as one statement.

Each test runs on the configured database (SQLite, then the MariaDB pass) against Django's
own store on the same rows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as DjangoCachedDb
from django.contrib.sessions.backends.db import SessionStore as DjangoDb
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.sessionstore import cached_db, db

pytestmark = pytest.mark.django_db

DATA = {"_auth_user_id": "7", "sql_php": {"žluťoučký": "日本 ☎️", "n": 3}}


def _saved(store_class=DjangoDb, data=DATA, expiry: int | None = None) -> str:
    store = store_class()
    store.update(data)
    if expiry is not None:
        store.set_expiry(expiry)
    store.save()
    return store.session_key


def test_the_engine_is_the_direct_store():
    expected = (
        "accounts.sessionstore.cached_db" if settings.REDIS_URL else "accounts.sessionstore.db"
    )
    assert settings.SESSION_ENGINE == expected


def test_it_reads_what_djangos_store_wrote_in_one_statement():
    key = _saved()
    store = db.SessionStore(session_key=key)
    with CaptureQueriesContext(connection) as queries:
        assert store.load() == DATA == DjangoDb(session_key=key).load()
    ours = [q["sql"] for q in queries.captured_queries]
    assert len(ours) == 2  # ours, then Django's own for the comparison
    assert "LIMIT" not in ours[0] and "LIMIT" in ours[1]


def test_djangos_store_reads_what_it_wrote():
    store = db.SessionStore()
    store.update(DATA)
    store.save()
    assert DjangoDb(session_key=store.session_key).load() == DATA


def test_an_expired_session_reads_as_none_and_drops_its_key():
    key = _saved()
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    store = db.SessionStore(session_key=key)
    assert store.load() == {}
    assert store.session_key is None
    assert DjangoDb(session_key=key).load() == {}


def test_an_unknown_or_malformed_key_reads_as_an_empty_session():
    assert db.SessionStore(session_key="x" * 32).load() == {}
    assert db.SessionStore(session_key="' OR 1=1 -- x").load() == {}  # not even a valid key
    _saved()
    assert db.SessionStore(session_key="' OR 1=1 -- xxxxxxxxxxxxxxx").load() == {}


def test_the_expiry_it_reads_is_the_stored_one_in_the_right_zone():
    key = _saved(expiry=3600)
    ours = db.SessionStore(session_key=key)._get_session_from_db()
    theirs = DjangoDb(session_key=key)._get_session_from_db()
    assert ours.expire_date == theirs.expire_date
    assert timezone.is_aware(ours.expire_date)
    assert abs((ours.expire_date - timezone.now()).total_seconds() - 3600) < 60


def test_the_cached_store_fills_the_cache_with_the_session_and_its_expiry():
    key = _saved(DjangoCachedDb, expiry=3600)
    cache = caches[settings.SESSION_CACHE_ALIAS]
    cache.delete(DjangoCachedDb.cache_key_prefix + key)
    stored = {**DATA, "_session_expiry": 3600}
    store = cached_db.SessionStore(session_key=key)
    assert store.load() == stored
    assert store.get_expiry_age() == 3600
    assert cache.get(DjangoCachedDb.cache_key_prefix + key) == stored
    with CaptureQueriesContext(connection) as queries:  # the next read is the cache's
        assert cached_db.SessionStore(session_key=key).load() == stored
    assert queries.captured_queries == []


def test_a_request_reads_its_session_with_one_statement(settings):
    from tests.api.legacy.test_hostile_support import superuser_session

    client = superuser_session(settings)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/php/model/sql.php", {"task": "getCurrentUser"})
    assert response.status_code == 200
    session_reads = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(session_reads) == 1
    assert "session_data" in session_reads[0] and "LIMIT" not in session_reads[0]
