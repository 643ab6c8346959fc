"""The api.php credential cache (VMGUI_API_AUTH_CACHE_SECONDS) against login lockouts.

Decision (docs/permissions.md, docs/security.md): the cache is a speed-up, never a different
answer. A lockout is checked before the cache, so a pair remembered before the lockout is
refused during it, on every worker alike, and works again when the window has passed.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import AuthRefused, authenticate_local

User = get_user_model()
LOCKED = "too many failed logins for this account; try again in 15 minutes"


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="s3cret-pass")


def _fail(times: int, username: str = "alice") -> None:
    for _ in range(times):
        with pytest.raises(AuthRefused, match="wrong user name or password"):
            authenticate_local(username, "guess")


@override_settings(API_AUTH_CACHE_SECONDS=300, LOGIN_MAX_FAILURES_USER=3)
def test_a_lockout_ends_remembered_credentials_too(alice):
    assert authenticate_local("alice", "s3cret-pass") == alice  # verified and remembered
    _fail(3)  # someone guesses: the account is locked
    with pytest.raises(AuthRefused) as refused:
        authenticate_local("alice", "s3cret-pass")
    assert refused.value.reason == LOCKED
    assert AuditEvent.objects.filter(action="login_throttled", username="alice").count() == 1


@override_settings(API_AUTH_CACHE_SECONDS=300, LOGIN_MAX_FAILURES_USER=3)
def test_remembered_credentials_work_again_after_the_window_without_a_new_hash(alice):
    authenticate_local("alice", "s3cret-pass")
    _fail(3)
    AuditEvent.objects.update(time=timezone.now() - dt.timedelta(hours=1))
    with mock.patch.object(User, "check_password", autospec=True) as check:
        assert authenticate_local("alice", "s3cret-pass") == alice
    check.assert_not_called()  # still remembered: the lockout did not cost a re-hash


@override_settings(API_AUTH_CACHE_SECONDS=300, LOGIN_MAX_FAILURES_USER=100, LOGIN_MAX_FAILURES_IP=2)
def test_an_address_lockout_also_applies_to_remembered_credentials(alice):
    class Request:
        META = {"REMOTE_ADDR": "203.0.113.9"}

    assert authenticate_local("alice", "s3cret-pass", request=Request()) == alice
    _fail_from = [("mallory", Request()), ("eve", Request())]
    for name, request in _fail_from:
        with pytest.raises(AuthRefused, match="wrong user name or password"):
            authenticate_local(name, "guess", request=request)
    with pytest.raises(AuthRefused, match="too many failed logins from this address"):
        authenticate_local("alice", "s3cret-pass", request=Request())


@override_settings(API_AUTH_CACHE_SECONDS=300, LOGIN_MAX_FAILURES_USER=3)
def test_without_a_lockout_the_cache_still_saves_the_hash(alice):
    authenticate_local("alice", "s3cret-pass")
    _fail(2)  # below the limit
    with mock.patch.object(User, "check_password", autospec=True) as check:
        assert authenticate_local("alice", "s3cret-pass") == alice
    check.assert_not_called()
