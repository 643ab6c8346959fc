"""Accounts and permissions: flags, groups, row restrictions, validation, commands, audit."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts import audit
from accounts.flags import FLAGS, UnknownFlag
from accounts.models import AuditEvent, UserProfile, VmGroup
from accounts.permissions import PermissionRefused, effective, has_flag, require_flag
from accounts.services import AuthRefused, authenticate_local, profile_of, scope_for
from cdr.query.engine import CdrFilter, cdr_queryset
from tests.factories import make_call

User = get_user_model()


def user_in(group: VmGroup | None, name: str = "op", **profile_fields):
    user = User.objects.create_user(name, password="pw-12345678")
    profile = profile_of(user)
    profile.group = group
    for key, value in profile_fields.items():
        setattr(profile, key, value)
    profile.full_clean()
    profile.save()
    return User.objects.get(pk=user.pk)  # fresh: no cached profile


def visible(user) -> set[int]:
    return set(cdr_queryset(CdrFilter(), scope_for(user)).values_list("ID", flat=True))


@pytest.mark.django_db
def test_a_user_inherits_group_flags_and_may_override_them():
    group = VmGroup.objects.create(name="ops", can_pcap=True, can_play_audio=True)
    plain = user_in(group, "plain")
    assert has_flag(plain, "can_pcap") and has_flag(plain, "can_cdr")  # can_cdr is on by default
    restricted = user_in(group, "nopcap", can_pcap=False)
    assert not has_flag(restricted, "can_pcap")
    assert has_flag(restricted, "can_play_audio")
    extra = user_in(None, "extra", can_audit=True)
    assert has_flag(extra, "can_audit") and not has_flag(extra, "can_cdr")


@pytest.mark.django_db
def test_unknown_flags_are_errors_not_false():
    user = user_in(None)
    with pytest.raises(UnknownFlag, match="can_fly"):
        has_flag(user, "can_fly")


@pytest.mark.django_db
def test_admins_and_anonymous_api_use_have_every_allowing_flag():
    admin = User.objects.create_superuser("root", "r@x", "pw-12345678")
    for who in (admin, None):
        eff = effective(who)
        assert all(eff.flags[f] for f in FLAGS if f != "hide_license_information")
        assert not eff.flags["hide_license_information"]
        assert eff.scope.sensors == () and not eff.scope.deny_all


@pytest.mark.django_db
def test_require_flag_names_the_missing_flag():
    user = user_in(None)
    with pytest.raises(PermissionRefused, match="needs the can_pcap permission"):
        require_flag(user, "can_pcap", "downloading a PCAP")


@pytest.mark.django_db
def test_restrictions_compile_into_the_cdr_scope():
    s1 = make_call(
        id_sensor=1,
        caller="420601000001",
        called="1001",
        sipcallerip="10.1.0.5",
        caller_domain="a.example.com",
        called_domain="b.example.com",
        vlan=10,
    )
    s2 = make_call(
        id_sensor=2,
        caller="4312345",
        called="1002",
        sipcallerip="192.168.0.9",
        caller_domain="c.example.org",
        called_domain="d.example.org",
        vlan=20,
    )
    assert visible(user_in(None, "sens", enable_sensors="1")) == {s1.ID}
    assert visible(user_in(None, "num", number="420%")) == {s1.ID}
    assert visible(user_in(None, "net", ip="192.168.0.0/16")) == {s2.ID}
    assert visible(user_in(None, "dom", domain="%.example.org")) == {s2.ID}
    assert visible(user_in(None, "vlan", vlan="20")) == {s2.ID}
    assert visible(user_in(None, "both", enable_sensors="1,2", number="1002")) == {s2.ID}


@pytest.mark.django_db
def test_a_users_restriction_replaces_the_groups():
    a = make_call(id_sensor=1)
    b = make_call(id_sensor=2)
    group = VmGroup.objects.create(name="brno", enable_sensors="2")
    assert visible(user_in(group, "member")) == {b.ID}
    assert visible(user_in(group, "override", enable_sensors="1")) == {a.ID}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ip", "10.0.0.0/33"),
        ("ip", "not-an-ip"),
        ("number", "12'drop"),
        ("vlan", "5000"),
        ("enable_sensors", "one"),
        ("domain", "%"),
    ],
)
@pytest.mark.django_db
def test_bad_restrictions_are_refused_with_a_message(field, value):
    group = VmGroup(name="bad", **{field: value})
    with pytest.raises(ValidationError) as refused:
        group.full_clean()
    assert field in refused.value.message_dict


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_cidr_on_save(client):
    admin = User.objects.create_superuser("root", "r@x", "pw-12345678")
    client.force_login(admin)
    form = {"name": "net-ops", "description": "", "ip": "10.0.0.0/99"}
    response = client.post("/admin/accounts/vmgroup/add/", form)
    assert response.status_code == 200
    assert b"is not an IP address or CIDR network" in response.content
    assert not VmGroup.objects.filter(name="net-ops").exists()
    form["ip"] = "10.0.0.0/8"
    response = client.post("/admin/accounts/vmgroup/add/", form)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="permission_change", face="admin").exists()


@pytest.mark.django_db
def test_the_admin_shows_users_with_their_profile(client):
    admin = User.objects.create_superuser("root", "r@x", "pw-12345678")
    client.force_login(admin)
    response = client.get(f"/admin/auth/user/{admin.pk}/change/")
    assert response.status_code == 200
    assert b"Permission overrides" in response.content and b"can_pcap" in response.content


@pytest.mark.django_db
def test_the_commands_provision_groups_and_users():
    out = io.StringIO()
    call_command(
        "vmgroup", "set", "support", "--flag", "can_pcap=on", "--sensors", "1,2", stdout=out
    )
    call_command(
        "vmuser",
        "set",
        "bob",
        "--password",
        "bob-pass-123",
        "--group",
        "support",
        "--flag",
        "can_play_audio=on",
        "--number",
        "420%",
        "--email",
        "bob@example.com",
        stdout=out,
    )
    bob = User.objects.get(username="bob")
    assert bob.check_password("bob-pass-123") and bob.email == "bob@example.com"
    eff = effective(bob)
    assert eff.has("can_pcap") and eff.has("can_play_audio")
    assert eff.scope.sensors == (1, 2) and eff.scope.numbers == ("420%",)
    out = io.StringIO()
    call_command("vmuser", "show", "bob", stdout=out)
    shown = json.loads(out.getvalue())
    assert shown["group_name"] == "support" and shown["effective_flags"]["can_pcap"] is True
    call_command("vmuser", "set", "bob", "--flag", "can_pcap=off", "--block", "audit", stdout=out)
    assert not has_flag(User.objects.get(username="bob"), "can_pcap")
    with pytest.raises(AuthRefused, match="blocked: audit"):
        authenticate_local("bob", "bob-pass-123")
    with pytest.raises(CommandError, match="unknown permission flag"):
        call_command("vmuser", "set", "bob", "--flag", "can_fly=on")
    with pytest.raises(CommandError, match="not an IP address"):
        call_command("vmgroup", "set", "support", "--ip", "300.1.1.1")
    assert AuditEvent.objects.filter(action="permission_change", face="cli").count() >= 3


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=3, LOGIN_MAX_FAILURES_IP=100)
def test_failed_logins_are_throttled_per_account():
    User.objects.create_user("carol", password="right-pass-1")
    for _ in range(3):
        with pytest.raises(AuthRefused, match="wrong user name or password"):
            authenticate_local("carol", "wrong")
    with pytest.raises(AuthRefused, match="too many failed logins for this account"):
        authenticate_local("carol", "right-pass-1")
    assert AuditEvent.objects.filter(action="login_failed", username="carol").count() == 3
    assert AuditEvent.objects.filter(action="login_throttled").count() == 1
    # The window passes: old failures no longer count.
    AuditEvent.objects.update(time=timezone.now() - dt.timedelta(hours=1))
    assert authenticate_local("carol", "right-pass-1").username == "carol"


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=100, LOGIN_MAX_FAILURES_IP=4)
def test_failed_logins_are_throttled_per_ip_on_the_admin_login(client):
    User.objects.create_superuser("root", "r@x", "pw-12345678")
    for n in range(4):
        client.post("/admin/login/", {"username": f"guess{n}", "password": "x"})
    response = client.post("/admin/login/", {"username": "root", "password": "pw-12345678"})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 403)
    assert AuditEvent.objects.filter(action="login_throttled", face="gui").exists()


@pytest.mark.django_db
def test_a_blocked_users_open_session_is_refused(client):
    user = User.objects.create_user("dave", password="pw-12345678")
    client.force_login(user)
    profile = profile_of(user)
    profile.blocked, profile.blocked_reason = True, "fraud investigation"
    profile.save()
    response = client.get("/php/model/sql.php?task=LISTING&module=CDR&fdatefrom=2026-11-27")
    assert (
        json.loads(response.content)["errors"]["reason"] == "user is blocked: fraud investigation"
    )
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_audit_page_needs_can_audit(client):
    audit.record(AuditEvent.Action.LOGIN_FAILED, username="mallory", face="api.php", success=False)
    nobody = user_in(None, "nobody")
    client.force_login(nobody)
    assert client.get("/audit/").status_code == 403
    auditor = user_in(None, "auditor", can_audit=True)
    client.force_login(auditor)
    response = client.get("/audit/?action=login_failed")
    assert response.status_code == 200 and b"mallory" in response.content


@pytest.mark.django_db
@override_settings(AUDIT_RETENTION_DAYS=30)
def test_old_audit_events_are_pruned():
    old = audit.record(AuditEvent.Action.LOGIN_OK, username="x")
    AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=31))
    audit.record(AuditEvent.Action.LOGIN_OK, username="y")
    out = io.StringIO()
    call_command("prune_audit", stdout=out)
    assert "deleted 1" in out.getvalue()
    assert list(AuditEvent.objects.values_list("username", flat=True)) == ["y"]


@pytest.mark.django_db
def test_api_php_failures_are_audited_with_the_face(client):
    client.get(
        "/php/api.php",
        {
            "task": "getVoipCalls",
            "user": "eve",
            "password": "nope",
            "params": '{"startTime":"2026-11-27"}',
        },
    )
    event = AuditEvent.objects.get(action="login_failed")
    assert event.username == "eve" and event.face == "api.php" and event.ip == "127.0.0.1"


@pytest.mark.django_db
def test_profiles_default_to_local_unblocked():
    user = User.objects.create_user("fresh", password="pw-12345678")
    profile = profile_of(user)
    assert profile.source == UserProfile.Source.LOCAL and not profile.blocked
