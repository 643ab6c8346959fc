"""LDAP sign-in against a real OpenLDAP slapd (started by the test set-up): bind and search,
groups → vmgui group and flags, id from uidNumber, wrong password, a locked account, the
directory down (a clear error; local admins still sign in), id collisions inside the directory."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEvent, ExternalIdentity, UserProfile
from accounts.permissions import effective
from tests.accounts.login.conftest import (
    error_kind,
    error_of,
    events,
    make_local_user,
    session_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


def test_a_directory_user_signs_in_with_group_and_flags_mapped(with_ldap, support_group):
    client = Client()
    assert sign_in(client, "jan", "jan-secret").status_code == 302
    assert session_user(client) == "jan"
    jan = get_user_model().objects.get(username="jan")
    assert (jan.first_name, jan.last_name, jan.email) == ("Jan", "Novák", "jan@vmgui.test")
    assert not jan.is_superuser
    profile = UserProfile.objects.get(user=jan)
    assert profile.source == UserProfile.Source.LDAP and profile.group == support_group
    rights = effective(jan)
    assert rights.has("can_cdr") and rights.has("can_pcap") and rights.has("can_play_audio")
    identity = ExternalIdentity.objects.get(user=jan)
    assert identity.external_id == 5001 and identity.subject == "uid=jan,ou=people,dc=vmgui,dc=test"
    (ok,) = events(AuditEvent.Action.LOGIN_OK, username="jan")
    assert ok.details["method"] == "ldap"


def test_a_directory_admin_group_makes_a_vmgui_admin(with_ldap):
    client = Client()
    sign_in(client, "petra", "petra-secret")
    petra = get_user_model().objects.get(username="petra")
    assert petra.is_superuser and petra.is_staff
    assert UserProfile.objects.get(user=petra).group is None


def test_non_latin_names_come_through(with_ldap, support_group, settings):
    settings.LDAP_FLAG_MAP = {}
    sign_in(Client(), "yuki", "yuki-secret")
    assert get_user_model().objects.get(username="yuki").first_name == "山田"


def test_a_wrong_password_is_refused_and_audited(with_ldap):
    response = sign_in(Client(), "jan", "not-jan")
    assert error_of(response) == "wrong user name or password"
    (failed,) = events(AuditEvent.Action.LOGIN_FAILED, username="jan")
    assert failed.details["method"] == "ldap"
    assert not get_user_model().objects.filter(username="jan").exists()


def test_an_unknown_directory_user_is_a_wrong_password(with_ldap):
    assert error_of(sign_in(Client(), "ghost", "x")) == "wrong user name or password"


def test_a_locked_directory_account_is_refused_as_locked(with_ldap):
    response = sign_in(Client(), "locked", "locked-secret")
    assert "directory (LDAP) account is locked" in error_of(response)
    assert error_kind(response) == "blocked"
    (event,) = events(AuditEvent.Action.LOGIN_BLOCKED, username="locked")
    assert event.details["method"] == "ldap"


def test_a_directory_entry_without_uidnumber_is_refused(with_ldap):
    response = sign_in(Client(), "noid", "noid-secret")
    assert "no unique numeric id" in error_of(response)
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED, username="noid")
    assert "uid=noid" in event.details["reason"]


def test_two_directory_users_with_one_uidnumber_collide(with_ldap, support_group):
    sign_in(Client(), "jan", "jan-secret")
    response = sign_in(Client(), "twin", "twin-secret")
    assert "already used by another account" in error_of(response)
    (event,) = events(AuditEvent.Action.LOGIN_COLLISION, username="twin")
    assert event.details["bound_username"] == "jan" and event.details["external_id"] == 5001


def test_the_id_attribute_is_configurable(with_ldap, support_group, settings):
    settings.LDAP_ID_ATTR = "gidNumber"  # any numeric attribute (AD: employeeID, ...)
    sign_in(Client(), "jan", "jan-secret")
    assert ExternalIdentity.objects.get(user__username="jan").external_id == 100


def test_a_required_group_keeps_other_directory_users_out(with_ldap, support_group, settings):
    settings.LDAP_REQUIRE_GROUP = "cn=voip-support,ou=groups,dc=vmgui,dc=test"
    assert error_of(sign_in(Client(), "petra", "petra-secret")) == "wrong user name or password"
    assert sign_in(Client(), "jan", "jan-secret").status_code == 302


def test_a_wrong_service_account_password_is_reported_as_directory_unavailable(with_ldap, settings):
    settings.LDAP_BIND_PASSWORD = "wrong"
    response = sign_in(Client(), "jan", "jan-secret")
    assert error_kind(response) == "unavailable"


def test_ldap_down_is_a_clear_error_and_local_admins_still_sign_in(with_ldap, support_group):
    make_local_user("root", "root-pw-123", admin=True)
    with_ldap.terminate()
    with_ldap.wait()
    try:
        response = sign_in(Client(), "jan", "jan-secret")
        assert error_of(response) == (
            "the directory (LDAP) cannot be reached right now; try again later "
            "(local administrator accounts can still sign in)"
        )
        assert error_kind(response) == "unavailable"
        (event,) = events(AuditEvent.Action.LOGIN_REFUSED, username="jan")
        assert (
            event.details["method"] == "ldap" and "LDAP ldap://127.0.0.1" in event.details["reason"]
        )
        # not a guess: a directory outage does not lock accounts out
        assert not events(AuditEvent.Action.LOGIN_FAILED, username="jan")
        client = Client()
        assert sign_in(client, "root", "root-pw-123").status_code == 302
        assert session_user(client) == "root"
    finally:
        with_ldap.resume()
    assert sign_in(Client(), "jan", "jan-secret").status_code == 302


def test_a_hook_still_answers_while_ldap_is_down(with_ldap, with_hook, settings, support_group):
    settings.LDAP_URI = "ldap://127.0.0.1:9/"  # nothing listens there
    assert sign_in(Client(), "alice", "alice-secret").status_code == 302
    assert error_kind(sign_in(Client(), "jan", "jan-secret")) == "unavailable"


def test_a_directory_user_needing_2fa_goes_to_the_second_factor(with_ldap, support_group):
    client = Client()
    response = sign_in(client, "yuki", "yuki-secret")
    assert response.status_code == 302 and response["Location"] == "/login/2fa/"
    assert session_user(client) is None
