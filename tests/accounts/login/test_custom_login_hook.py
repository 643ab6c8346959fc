"""The custom_login hook: its return array provisions and updates the local user on every
sign-in; refusals, invalid answers and a failing hook are clear messages, never tracebacks."""

from __future__ import annotations

import zlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.login.answer import parse_answer
from accounts.login.errors import AnswerInvalid
from accounts.models import AuditEvent, ExternalIdentity, UserProfile, VmGroup
from accounts.permissions import effective
from tests.accounts.login.conftest import (
    HOOK,
    error_of,
    events,
    make_local_user,
    session_user,
    sign_in,
)
from tests.accounts.login.hooks import directory

pytestmark = pytest.mark.django_db


def test_the_hook_provisions_a_new_user_from_its_return_array(with_hook, support_group):
    client = Client()
    response = sign_in(client, "alice", "alice-secret")
    assert response.status_code == 302
    assert session_user(client) == "alice"
    user = get_user_model().objects.get(username="alice")
    assert (user.first_name, user.last_name, user.email) == (
        "Alice",
        "Nováková",
        "alice@example.com",
    )
    assert not user.has_usable_password() and not user.is_superuser
    profile = UserProfile.objects.get(user=user)
    assert profile.source == UserProfile.Source.CUSTOM and profile.group == support_group
    rights = effective(user)
    assert rights.has("can_cdr")  # from the group
    assert rights.has("can_pcap") and not rights.has("can_play_audio")  # the hook's overrides
    assert rights.scope.sensors == (1, 2) and rights.scope.numbers == ("420%",)
    assert ExternalIdentity.objects.get(external_id=1001).user == user
    (ok,) = events(AuditEvent.Action.LOGIN_OK, username="alice")
    assert ok.details["method"] == "hook"


def test_each_sign_in_updates_the_user_from_the_hook(with_hook, support_group, monkeypatch):
    sign_in(Client(), "alice", "alice-secret")
    VmGroup.objects.create(name="noc")
    changed = dict(directory.USERS["alice"]["answer"], group_name="noc", can_pcap=0, is_admin=1)
    del changed["enable_sensors"]
    monkeypatch.setitem(directory.USERS["alice"], "answer", changed)
    sign_in(Client(), "alice", "alice-secret")
    user = get_user_model().objects.get(username="alice")
    profile = UserProfile.objects.get(user=user)
    assert profile.group.name == "noc" and profile.can_pcap is False
    assert profile.can_play_audio is False and profile.enable_sensors == ""
    assert user.is_superuser and user.is_staff
    assert ExternalIdentity.objects.count() == 1


def test_a_numeric_string_id_and_crc32_ids_are_accepted(with_hook):
    sign_in(Client(), "bob", "bob-secret")
    bob = get_user_model().objects.get(username="bob")
    assert bob.is_superuser
    assert bob.vm_external_identity.external_id == zlib.crc32(b"bob@example.com")
    assert parse_answer({"id": "42"}, "x").external_id == 42


def test_a_hook_refusal_is_a_wrong_password(with_hook):
    client = Client()
    response = sign_in(client, "alice", "wrong")
    assert error_of(response) == "wrong user name or password"
    (failed,) = events(AuditEvent.Action.LOGIN_FAILED, username="alice")
    assert failed.details["method"] == "hook"
    assert not get_user_model().objects.filter(username="alice").exists()


@pytest.mark.parametrize("username", ["noid", "textid"])
def test_it_refuses_a_missing_or_non_numeric_id(with_hook, username):
    client = Client()
    response = sign_in(client, username, f"{username}-secret")
    assert "no unique numeric id" in error_of(response)
    assert session_user(client) is None
    assert not get_user_model().objects.filter(username=username).exists()
    (refused,) = events(AuditEvent.Action.LOGIN_REFUSED, username=username)
    assert "whole number" in refused.details["reason"] and refused.details["method"] == "hook"


@pytest.mark.parametrize("bad", [0, -5, 2**63, True, 1.5, None, "", "1e3", [1]])
def test_ids_outside_1_to_2_63_or_not_whole_numbers_are_invalid(bad):
    with pytest.raises(AnswerInvalid):
        parse_answer({"id": bad}, "x")


def test_a_user_the_hook_blocks_sees_the_blocked_reason(with_hook):
    response = sign_in(Client(), "blocked", "blocked-secret")
    assert error_of(response) == "user is blocked: contract ended"
    (event,) = events(AuditEvent.Action.LOGIN_BLOCKED, username="blocked")
    assert event.details["method"] == "hook"


def test_a_local_block_holds_for_a_hook_user(with_hook, support_group):
    sign_in(Client(), "alice", "alice-secret")
    UserProfile.objects.filter(user__username="alice").update(blocked=True, blocked_reason="audit")
    response = sign_in(Client(), "alice", "alice-secret")
    assert error_of(response) == "user is blocked: audit"


def test_an_invalid_restriction_is_refused_naming_the_key(with_hook):
    response = sign_in(Client(), "broken", "broken-secret")
    assert "invalid account description" in error_of(response)
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED, username="broken")
    assert event.details["reason"].startswith("ip:")


def test_an_unknown_group_is_refused(with_hook):
    response = sign_in(Client(), "alice", "alice-secret")  # no "support" group exists
    assert "group does not exist" in error_of(response)


def test_a_hook_that_raises_is_a_clear_error_and_local_admins_still_sign_in(settings):
    settings.CUSTOM_LOGIN = "tests.accounts.login.hooks.directory:exploding_login"
    make_local_user("root", "root-pw-123", admin=True)
    response = sign_in(Client(), "someone", "pw")
    assert (
        error_of(response) == "custom login is not available (misconfigured); ask an administrator"
    )
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED, username="someone")
    assert "directory timeout" in event.details["reason"]
    client = Client()
    assert sign_in(client, "root", "root-pw-123").status_code == 302
    assert session_user(client) == "root"


def test_a_missing_hook_module_is_reported_by_manage_py_check(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.CUSTOM_LOGIN = "no_such_package.hook:custom_login"
    with pytest.raises(SystemCheckError, match="was not found"):
        call_command("check")
    settings.CUSTOM_LOGIN = HOOK
    call_command("check")


def test_local_accounts_are_checked_locally_even_with_a_hook(with_hook):
    # "admin" is a local account; the hook also knows an "admin" (with another password).
    make_local_user("admin", "local-admin-pw", admin=True)
    assert error_of(sign_in(Client(), "admin", "hook-admin")) == "wrong user name or password"
    client = Client()
    sign_in(client, "admin", "local-admin-pw")
    assert session_user(client) == "admin"
    assert not ExternalIdentity.objects.exists()
