"""Blocked accounts are counted by account, never by client address (a blocked script behind a
shared NAT address must not lock out its neighbours), and the admin login shows the throttle
or blocked reason instead of Django's generic message."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory, override_settings

from accounts.forms import VmAdminAuthenticationForm
from accounts.models import AuditEvent
from accounts.services import AuthRefused, authenticate_local, profile_of
from tests.api.legacy.test_api_php_support import FAST_HASHERS, call_api, make_api_user, reason

NAT = "198.51.100.7"  # one public address shared by a whole office
User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


class _Request:
    """The part of a request the authentication service reads: the client address."""

    def __init__(self, ip: str) -> None:
        self.META = {"REMOTE_ADDR": ip}


def _block(user, why: str = "contract ended") -> None:
    profile = profile_of(user)
    profile.blocked, profile.blocked_reason = True, why
    profile.save()


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=5, LOGIN_MAX_FAILURES_IP=5)
def test_a_blocked_script_behind_nat_does_not_lock_out_its_neighbours():
    make_api_user("oldscript", "old-pass-123", blocked=True, blocked_reason="retired")
    make_api_user("neighbour", "good-pass-123")
    for _ in range(20):  # the retired script keeps polling with its (right) password
        with pytest.raises(AuthRefused) as refused:
            authenticate_local("oldscript", "old-pass-123", request=_Request(NAT))
        assert refused.value.reason == "user is blocked: retired"
    assert authenticate_local("neighbour", "good-pass-123", request=_Request(NAT)).username == (
        "neighbour"
    )
    counted = AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN_BLOCKED, username="oldscript"
    )
    assert counted.count() == 20 and not AuditEvent.objects.filter(action="login_failed").exists()


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=3, LOGIN_MAX_FAILURES_IP=100, API_AUTH_CACHE_SECONDS=0)
def test_a_blocked_accounts_refusals_count_against_the_account():
    make_api_user("oldscript", "old-pass-123", blocked=True, blocked_reason="retired")
    for _ in range(3):
        with pytest.raises(AuthRefused, match="user is blocked: retired"):
            authenticate_local("oldscript", "old-pass-123", request=_Request(NAT))
    # Over the account's limit: refused before any password hash is computed.
    with pytest.raises(AuthRefused, match="too many failed logins for this account"):
        authenticate_local("oldscript", "old-pass-123", request=_Request(NAT))


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=3, LOGIN_MAX_FAILURES_IP=3, API_AUTH_CACHE_SECONDS=300)
def test_a_proven_pair_of_a_blocked_account_keeps_getting_the_blocking_reason():
    """The worker that verified the script's password keeps telling it why (no hash)."""
    make_api_user("oldscript", "old-pass-123", blocked=True, blocked_reason="retired")
    for _ in range(8):
        with pytest.raises(AuthRefused, match="^user is blocked: retired$"):
            authenticate_local("oldscript", "old-pass-123", request=_Request(NAT))
    # A guess is still throttled for the account.
    with pytest.raises(AuthRefused, match="too many failed logins for this account"):
        authenticate_local("oldscript", "guess", request=_Request(NAT))


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=100, LOGIN_MAX_FAILURES_IP=3)
def test_wrong_passwords_still_count_against_the_address():
    make_api_user("neighbour", "good-pass-123")
    for n in range(3):
        with pytest.raises(AuthRefused, match="wrong user name or password"):
            authenticate_local(f"guess{n}", "x", request=_Request(NAT))
    with pytest.raises(AuthRefused, match="too many failed logins from this address"):
        authenticate_local("neighbour", "good-pass-123", request=_Request(NAT))


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=4, LOGIN_MAX_FAILURES_IP=4)
def test_api_php_blocked_script_behind_nat_leaves_neighbours_working():
    make_api_user("oldscript", "old-pass-123", blocked=True, blocked_reason="retired")
    make_api_user("neighbour", "good-pass-123")
    for _ in range(10):
        refused = call_api({"startTime": "2026-11-27"}, user="oldscript", password="old-pass-123")
        assert refused["success"] is False
    answer = call_api({"startTime": "2026-11-27"}, user="neighbour", password="good-pass-123")
    assert answer["success"] is True, reason(answer)


# --- the admin login form ------------------------------------------------------------------
# (accounts.forms; /admin/login/ may hand over to the sign-in page, which shows the same
# reasons: these tests post to the admin's form itself.)


def _admin_login(username: str, password: str, ip: str = NAT) -> str:
    """The admin login form's error text, or "" when it accepted the login."""
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=ip)
    form = VmAdminAuthenticationForm(request, data={"username": username, "password": password})
    if form.is_valid():
        return ""
    return " ".join(form.non_field_errors())


def test_the_admin_site_uses_the_form_that_shows_reasons():
    assert admin.site.login_form is VmAdminAuthenticationForm


@pytest.mark.django_db
def test_the_admin_login_shows_the_blocked_reason():
    root = User.objects.create_superuser("root", "r@x", "pw-12345678")
    _block(root, "left the company")
    assert _admin_login("root", "pw-12345678") == "user is blocked: left the company"
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_BLOCKED)
    assert (event.username, event.face, event.success) == ("root", "gui", False)


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=2, LOGIN_MAX_FAILURES_IP=100)
def test_the_admin_login_shows_the_throttle_reason():
    User.objects.create_superuser("root", "r@x", "pw-12345678")
    for _ in range(2):
        assert "correct username and password" in _admin_login("root", "wrong")
    shown = _admin_login("root", "pw-12345678")
    assert shown == "too many failed logins for this account; try again in 15 minutes"


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES_USER=100, LOGIN_MAX_FAILURES_IP=3)
def test_the_admin_login_of_a_blocked_user_does_not_count_against_the_address():
    root = User.objects.create_superuser("root", "r@x", "pw-12345678")
    User.objects.create_superuser("other", "o@x", "pw-12345678")
    _block(root)
    for _ in range(6):
        assert _admin_login("root", "pw-12345678").startswith("user is blocked")
    assert _admin_login("other", "pw-12345678") == ""


@pytest.mark.django_db
def test_the_admin_login_keeps_the_generic_message_for_a_wrong_password():
    User.objects.create_superuser("root", "r@x", "pw-12345678")
    shown = _admin_login("root", "nope")
    assert "Please enter the correct username and password" in shown
    assert AuditEvent.objects.filter(action="login_failed", username="root").count() == 1
