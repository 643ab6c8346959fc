"""Local-account authentication used by the legacy APIs (accounts.services)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from accounts.models import UserProfile
from accounts.services import AuthRefused, authenticate_local, profile_of


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="s3cret-pass")


def test_it_accepts_a_local_user_with_the_right_password(alice):
    assert authenticate_local("alice", "s3cret-pass") == alice


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("alice", "wrong", "wrong user name or password"),
        ("nobody", "s3cret-pass", "wrong user name or password"),
        ("", "x", "missing user or password"),
        ("alice", "", "missing user or password"),
    ],
)
def test_it_refuses_bad_credentials(alice, user, password, reason):
    with pytest.raises(AuthRefused) as refused:
        authenticate_local(user, password)
    assert refused.value.reason == reason


def test_it_refuses_blocked_users_with_their_reason(alice):
    profile = profile_of(alice)
    profile.blocked, profile.blocked_reason = True, "left the company"
    profile.save()
    with pytest.raises(AuthRefused, match="blocked: left the company"):
        authenticate_local("alice", "s3cret-pass")


def test_it_refuses_ldap_accounts_on_the_api(alice):
    profile = profile_of(alice)
    profile.source = UserProfile.Source.LDAP
    profile.save()
    with pytest.raises(AuthRefused, match="local accounts only"):
        authenticate_local("alice", "s3cret-pass")


def test_remembered_credentials_die_with_a_password_change(alice):
    assert authenticate_local("alice", "s3cret-pass") == alice  # now remembered
    alice.set_password("new-pass-123")
    alice.save()
    with pytest.raises(AuthRefused):
        authenticate_local("alice", "s3cret-pass")
    assert authenticate_local("alice", "new-pass-123") == alice


def test_blocking_applies_even_to_remembered_credentials(alice):
    authenticate_local("alice", "s3cret-pass")
    profile = profile_of(alice)
    profile.blocked = True
    profile.save()
    with pytest.raises(AuthRefused, match="blocked"):
        authenticate_local("alice", "s3cret-pass")


@pytest.mark.parametrize(("ttl", "hashings"), [(300, 1), (0, 2)])
def test_the_password_hasher_runs_once_per_ttl(alice, ttl, hashings):
    User = get_user_model()
    with (
        override_settings(API_AUTH_CACHE_SECONDS=ttl),
        mock.patch.object(
            User, "check_password", autospec=True, side_effect=User.check_password
        ) as check,
    ):
        authenticate_local("alice", "s3cret-pass")
        authenticate_local("alice", "s3cret-pass")
    assert check.call_count == hashings
