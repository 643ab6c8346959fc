"""Unique ids: a second username returning an id bound to another is refused, audited naming
both accounts, and the admin resolves it (unbind, or rename the bound user)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, ExternalIdentity, UserSetting
from tests.accounts.login.conftest import error_of, events, make_local_user, session_user, sign_in
from tests.accounts.login.hooks import directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(with_hook, support_group):
    sign_in(Client(), "alice", "alice-secret")
    user = get_user_model().objects.get(username="alice")
    UserSetting.objects.create(user=user, key="timezone", value={"tz": "Europe/Prague"})
    return user


def test_a_second_username_with_a_bound_id_is_refused_and_audited_naming_both(alice):
    client = Client()
    response = sign_in(client, "mallory", "mallory-secret")
    message = error_of(response)
    assert "already used by another account" in message and "alice" not in message
    assert session_user(client) is None
    assert not get_user_model().objects.filter(username="mallory").exists()
    (event,) = events(AuditEvent.Action.LOGIN_COLLISION, username="mallory")
    assert event.details["bound_username"] == "alice" and event.details["external_id"] == 1001
    assert "'mallory'" in event.details["reason"] and "'alice'" in event.details["reason"]
    assert not event.success
    # alice is unaffected
    assert session_user(_signed_in("alice", "alice-secret")) == "alice"


def _signed_in(username, password):
    client = Client()
    sign_in(client, username, password)
    return client


def test_a_bound_username_returning_another_id_is_refused(alice, monkeypatch):
    monkeypatch.setitem(
        directory.USERS["alice"], "answer", dict(directory.USERS["alice"]["answer"], id=2002)
    )
    response = sign_in(Client(), "alice", "alice-secret")
    assert "already used by another account" in error_of(response)
    (event,) = events(AuditEvent.Action.LOGIN_COLLISION, username="alice")
    assert "bound to id 1001" in event.details["reason"]


def test_an_external_sign_in_never_takes_over_a_local_account(with_hook, monkeypatch):
    make_local_user("mallory2", "local-pw-123")
    monkeypatch.setitem(
        directory.USERS, "mal", {"password": "x", "answer": {"username": "mallory2", "id": 77}}
    )
    response = sign_in(Client(), "mal", "x")
    assert "belongs to a local vmgui account" in error_of(response)
    assert events(AuditEvent.Action.LOGIN_COLLISION, username="mallory2")


def test_the_admin_resolves_a_collision_by_unbinding_the_id(alice, capsys):
    sign_in(Client(), "mallory", "mallory-secret")
    call_command("custom_login", "--unbind", "1001")
    assert "unbound from 'alice'" in capsys.readouterr().out
    assert session_user(_signed_in("mallory", "mallory-secret")) == "mallory"
    assert ExternalIdentity.objects.get(external_id=1001).user.username == "mallory"
    # mallory does not inherit alice's settings (a new user, a new auth_user id)
    mallory = get_user_model().objects.get(username="mallory")
    assert not UserSetting.objects.filter(user=mallory).exists()
    # and alice, whose id now belongs to mallory, is refused until the admin decides
    assert "already used by another account" in error_of(sign_in(Client(), "alice", "alice-secret"))
    assert events(AuditEvent.Action.PERMISSION_CHANGE, object_id="external_id:1001")


def test_a_renamed_directory_user_keeps_their_settings_after_the_admin_renames_them(
    alice, monkeypatch
):
    renamed = dict(directory.USERS["alice"]["answer"], username="alice.smith")
    monkeypatch.setitem(
        directory.USERS, "alice.smith", {"password": "alice-secret", "answer": renamed}
    )
    assert "already used" in error_of(sign_in(Client(), "alice.smith", "alice-secret"))
    alice.username = "alice.smith"
    alice.save()
    assert session_user(_signed_in("alice.smith", "alice-secret")) == "alice.smith"
    assert UserSetting.objects.get(user__username="alice.smith").value == {"tz": "Europe/Prague"}
