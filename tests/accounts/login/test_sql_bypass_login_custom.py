"""sql.php's bypass_login consults the custom login hook / LDAP only behind
VMGUI_SQL_BYPASS_LOGIN_CUSTOM (off by default: the spec's APIs take local accounts only)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.accounts.login.conftest import events, make_local_user
from tests.api.legacy.test_sql_php_support import error, ok, send

pytestmark = pytest.mark.django_db


def bypass(user: str, password: str, client: Client | None = None) -> dict:
    return send({"module": "bypass_login", "user": user, "pass": password}, client=client)


def test_hook_users_are_refused_by_default(with_hook, support_group):
    kind, reason = error(bypass("alice", "alice-secret"))
    assert reason == "wrong user name or password"


def test_with_the_setting_a_hook_user_gets_a_session(with_hook, support_group, settings):
    settings.SQL_BYPASS_LOGIN_CUSTOM = True
    client = Client()
    body = ok(bypass("alice", "alice-secret", client))
    assert body["SID"]
    (event,) = events(AuditEvent.Action.LOGIN_OK, username="alice")
    assert event.face == "sql.php" and event.details["method"] == "hook"
    assert ok(send({"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}, client=client))


def test_with_the_setting_local_users_and_collisions_behave_as_on_the_login_page(
    with_hook, support_group, settings
):
    settings.SQL_BYPASS_LOGIN_CUSTOM = True
    make_local_user("local", "local-pw-123")
    ok(bypass("local", "local-pw-123"))
    ok(bypass("alice", "alice-secret"))
    _, reason = error(bypass("mallory", "mallory-secret"))
    assert "already used by another account" in reason
    assert events(AuditEvent.Action.LOGIN_COLLISION, username="mallory", face="sql.php")


def test_a_user_needing_2fa_cannot_use_bypass_login(with_hook, settings):
    settings.SQL_BYPASS_LOGIN_CUSTOM = True
    _, reason = error(bypass("secure", "secure-secret"))
    assert "requires two-factor authentication" in reason
