"""The login page with local accounts: sign-in, wrong password, blocked reason, throttling,
safe redirects, the admin's login sent here; every outcome audited with its method."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.accounts.login.conftest import (
    error_kind,
    error_of,
    events,
    make_local_user,
    session_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


def test_the_login_page_shows_a_form_without_provider_buttons_when_none_is_enabled():
    page = Client().get("/login/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert "Sign in with Microsoft" not in body and "Sign in with Google" not in body


def test_a_local_user_signs_in_and_is_redirected_to_next():
    make_local_user("carol", "carol-pw-123")
    client = Client()
    response = sign_in(client, "carol", "carol-pw-123", next="/audit/")
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert session_user(client) == "carol"
    (ok,) = events(AuditEvent.Action.LOGIN_OK, username="carol")
    assert ok.face == "gui" and ok.details["method"] == "local"


def test_it_refuses_a_wrong_password_and_audits_it():
    make_local_user("carol", "carol-pw-123")
    client = Client()
    response = sign_in(client, "carol", "wrong")
    assert error_of(response) == "wrong user name or password"
    assert session_user(client) is None
    (failed,) = events(AuditEvent.Action.LOGIN_FAILED, username="carol")
    assert failed.details["method"] == "local" and not failed.success


def test_an_unknown_user_gets_the_same_message_as_a_wrong_password():
    response = sign_in(Client(), "nobody", "whatever")
    assert error_of(response) == "wrong user name or password"


def test_a_blocked_user_sees_the_blocked_reason():
    make_local_user("dave", "dave-pw-123", blocked=True, blocked_reason="left the company")
    client = Client()
    response = sign_in(client, "dave", "dave-pw-123")
    assert error_of(response) == "user is blocked: left the company"
    assert error_kind(response) == "blocked"
    assert session_user(client) is None
    (blocked,) = events(AuditEvent.Action.LOGIN_BLOCKED, username="dave")
    assert blocked.details["method"] == "local"


def test_it_throttles_after_too_many_failures(settings):
    settings.LOGIN_MAX_FAILURES_USER = 3
    make_local_user("erin", "erin-pw-123")
    client = Client()
    for _ in range(3):
        sign_in(client, "erin", "bad")
    response = sign_in(client, "erin", "erin-pw-123")
    assert "too many failed logins for this account" in error_of(response)
    assert error_kind(response) == "throttled"
    assert session_user(client) is None
    assert events(AuditEvent.Action.LOGIN_THROTTLED, username="erin")


def test_it_never_redirects_to_another_site_after_sign_in():
    make_local_user("carol", "carol-pw-123")
    response = sign_in(Client(), "carol", "carol-pw-123", next="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_admin_login_is_sent_to_the_login_page_and_back():
    response = Client().get("/admin/login/?next=/admin/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2Faccounts%2F"
    make_local_user("root", "root-pw-123", admin=True)
    client = Client()
    response = sign_in(client, "root", "root-pw-123", next="/admin/")
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_overlong_input_is_refused_with_a_message_not_an_error():
    response = sign_in(Client(), "u" * 5000, "p" * 5000)
    assert response.status_code == 200
    assert error_of(response) == "enter your user name and password"


def test_the_admin_login_form_posts_through_the_same_sign_in():
    make_local_user("root", "root-pw-123", admin=True)
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "root", "password": "root-pw-123", "next": "/admin/"}
    )
    assert response["Location"] == "/admin/" and session_user(client) == "root"
    assert error_of(Client().post("/admin/login/", {"username": "root", "password": "x"})) == (
        "wrong user name or password"
    )
