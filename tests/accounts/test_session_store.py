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
from django.core import signing
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import sessionstore
from accounts.sessionstore import cached_db, db

pytestmark = pytest.mark.django_db

_SECRET_OF_THE_TEST_RUN = settings.SECRET_KEY
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


# --- the decoded data, remembered per text ----------------------------------------------------

LOGGED_IN = {"_auth_user_id": "7", "_auth_user_backend": "x.Backend", "_auth_user_hash": "abc"}


@pytest.fixture
def signature_checks(monkeypatch) -> list:
    """The signature checks (Django's ``signing.loads``) made from now on; no text remembered."""
    monkeypatch.setattr(sessionstore, "_decoded", {})
    checks: list = []
    real = signing.loads

    def loads(*args, **kwargs):
        checks.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(signing, "loads", loads)
    return checks


def test_the_same_session_text_is_checked_once(signature_checks):
    text = db.SessionStore().encode(LOGGED_IN)
    first = db.SessionStore().decode(text)
    second = db.SessionStore().decode(text)
    assert first == second == LOGGED_IN == DjangoDb().decode(text)
    assert first is not second
    assert len(signature_checks) == 2  # ours once, Django's own for the comparison
    first["_auth_user_id"] = "8"  # a request changes its copy only
    assert db.SessionStore().decode(text) == LOGGED_IN


def test_a_changed_session_text_is_checked_again(signature_checks):
    db.SessionStore().decode(db.SessionStore().encode(LOGGED_IN))
    changed = {**LOGGED_IN, "_auth_user_id": "8"}
    assert db.SessionStore().decode(db.SessionStore().encode(changed)) == changed
    assert len(signature_checks) == 2


def test_a_tampered_text_is_refused_and_logged_every_time(signature_checks, caplog):
    text = db.SessionStore().encode(LOGGED_IN)
    tampered = text.replace("7", "8", 1) if "7" in text else "x" + text
    assert db.SessionStore().decode(tampered) == {} == db.SessionStore().decode(tampered)
    corrupted = [r for r in caplog.records if r.getMessage() == "Session data corrupted"]
    assert len(corrupted) == 2 and len(signature_checks) == 2


def test_a_remembered_text_is_refused_under_another_secret(signature_checks, settings):
    text = db.SessionStore().encode(LOGGED_IN)
    assert db.SessionStore().decode(text) == LOGGED_IN
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    assert db.SessionStore().decode(text) == {}
    settings.SECRET_KEY_FALLBACKS = [_SECRET_OF_THE_TEST_RUN]
    assert db.SessionStore().decode(text) == LOGGED_IN  # a rotated key still signs in


def test_a_session_holding_lists_or_dicts_is_decoded_every_time(signature_checks):
    text = db.SessionStore().encode(DATA)
    first = db.SessionStore().decode(text)
    first["sql_php"]["n"] = 4
    assert db.SessionStore().decode(text) == DATA
    assert len(signature_checks) == 2


def test_the_memory_is_bounded(signature_checks, monkeypatch):
    monkeypatch.setattr(sessionstore, "MAX_DECODED", 2)
    for n in range(5):
        db.SessionStore().decode(db.SessionStore().encode({**LOGGED_IN, "n": n}))
    assert 1 <= len(sessionstore._decoded) <= 2


def test_the_cached_store_remembers_its_decoding_too(signature_checks):
    text = cached_db.SessionStore().encode(LOGGED_IN)
    assert cached_db.SessionStore().decode(text) == cached_db.SessionStore().decode(text)
    assert len(signature_checks) == 1
