"""manage.py custom_login: debug a hook like the spec's ``php custom_login.php`` (prints the
returned array and what vmgui would do, writing nothing), list/unbind ids, reset 2FA."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import ExternalIdentity
from tests.accounts.login.conftest import sign_in

pytestmark = pytest.mark.django_db


def run(*args, stdin: str = "") -> str:
    out = io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("custom_login", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_it_prints_the_returned_array_and_what_vmgui_would_do(with_hook, support_group):
    out = run("alice", "--password-stdin", stdin="alice-secret\n")
    array = out[out.index("{") : out.index("}\n") + 1]
    assert json.loads(array)["id"] == 1001
    assert "vmgui would: create user 'alice' (id 1001)" in out
    assert "bind id 1001 to user 'alice'" in out
    assert "group = support" in out and "can_pcap = True" in out and "enable_sensors = 1,2" in out
    assert "alice-secret" not in out
    assert not get_user_model().objects.filter(username="alice").exists()  # a dry run


def test_it_shows_a_collision_before_anyone_signs_in_with_it(with_hook, support_group):
    sign_in(Client(), "alice", "alice-secret")
    out = run("mallory", "--password-stdin", stdin="mallory-secret\n")
    assert "vmgui would: REFUSE" in out and "bound to 'alice'" in out


def test_it_shows_a_refusal_and_an_invalid_answer(with_hook):
    assert "REFUSE (wrong user name or password)" in run("alice", "--password-stdin", stdin="bad\n")
    out = run("noid", "--password-stdin", stdin="noid-secret\n")
    assert "REFUSE" in out and "whole number" in out
    out = run("blocked", "--password-stdin", stdin="blocked-secret\n")
    assert "REFUSE: blocked (contract ended)" in out


def test_it_lists_bindings_and_says_when_nothing_is_configured(with_hook, support_group):
    sign_in(Client(), "alice", "alice-secret")
    assert run("--list").startswith("1001\talice\thook")
    with pytest.raises(CommandError, match="not bound"):
        run("--unbind", "999")


def test_it_refuses_to_test_when_no_method_is_configured():
    with pytest.raises(CommandError, match="not configured"):
        run("alice", "--password-stdin", stdin="x\n")
    assert not ExternalIdentity.objects.exists()


def test_it_tests_ldap_with_the_array_built_from_the_directory(with_ldap, support_group):
    out = run("jan", "--method", "ldap", "--password-stdin", stdin="jan-secret\n")
    assert '"external_id": 5001' in out and '"group_name": "support"' in out
    assert "vmgui would: create user 'jan' (id 5001)" in out and "can_pcap = True" in out
    assert "wrong user name or password" in run(
        "jan", "--method", "ldap", "--password-stdin", stdin="x\n"
    )
    assert not get_user_model().objects.filter(username="jan").exists()
