"""Logging out on every face: sql.php ``module=logout``, ``/logout`` (any user, staff or not)
and the admin's ``/admin/logout/``; each ends the session on the server, so the SID stops
working on every face at once, and is audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import AuditEvent
from tests.api.legacy.test_api_php_support import FAST_HASHERS, make_api_user
from tests.api.legacy.test_sql_php_support import error, ids, login, ok, send
from tests.factories import make_call

LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def user(db):
    return make_api_user()


@pytest.fixture
def call(db):
    return make_call("2026-11-27 10:00:00")


def _assert_dead(sid: str) -> None:
    assert not Session.objects.filter(session_key=sid).exists()
    # A client that kept the SID (a script, another tab) is logged out too.
    stale = Client()
    assert error(send(LISTING, client=stale, Cookie=f"PHPSESSID={sid}")) == ("no_session", "")


@pytest.mark.parametrize(
    ("fields", "transport"),
    [
        ({"module": "logout"}, "get"),
        ({"module": "LOGOUT"}, "query_post"),
        ({"task": "logout"}, "form"),
    ],
)
def test_sql_php_logout_ends_the_session_on_the_server(user, call, fields, transport):
    client = Client()
    sid = login(client)
    assert ids(send(LISTING, client=client)) == [call.ID]
    body = ok(send(fields, client=client, transport=transport))
    assert body["loggedOut"] is True
    _assert_dead(sid)
    assert error(send(LISTING, client=client)) == ("no_session", "")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (event.username, event.face) == (user.username, "sql.php")


def test_sql_php_logout_without_a_session_is_still_a_success(db):
    body = ok(send({"module": "logout"}))
    assert body["loggedOut"] is False
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT).exists()


def test_sql_php_logout_clears_the_cookie(user):
    client = Client()
    login(client)
    response = client.get("/php/model/sql.php", {"module": "logout"})
    assert response.cookies["PHPSESSID"].value == ""
    assert response.cookies["PHPSESSID"]["max-age"] == 0


def test_logout_page_asks_before_logging_out_on_get(user, call):
    client = Client()
    sid = login(client)
    page = client.get("/logout")
    assert page.status_code == 200
    assert b'<form method="post"' in page.content and b"csrfmiddlewaretoken" in page.content
    assert user.username.encode() in page.content
    # The GET changed nothing: the session still works.
    assert Session.objects.filter(session_key=sid).exists()
    assert ids(send(LISTING, client=client)) == [call.ID]


@pytest.mark.parametrize("path", ["/logout", "/logout/"])
def test_logout_page_post_logs_a_non_staff_user_out(user, path):
    assert not user.is_staff
    client = Client()
    sid = login(client)
    response = client.post(path)
    assert response.status_code == 200
    assert b"Your session has ended on the server" in response.content
    _assert_dead(sid)
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (event.username, event.face) == (user.username, "gui")


def test_logout_page_post_needs_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    sid = login(client)
    assert client.post("/logout").status_code == 403
    assert Session.objects.filter(session_key=sid).exists()
    page = client.get("/logout")
    token = page.context["csrf_token"]
    assert client.post("/logout", {"csrfmiddlewaretoken": str(token)}).status_code == 200
    assert not Session.objects.filter(session_key=sid).exists()


def test_logout_page_refuses_other_methods(db):
    assert Client().put("/logout").status_code == 405


def test_admin_logout_still_works_for_staff_and_ends_the_sql_php_sid(db):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client = Client()
    sid = login(client, "root", "pw-12345678")
    assert client.get("/admin/").status_code == 200  # one session for both faces
    assert client.post("/admin/logout/").status_code == 200
    _assert_dead(sid)
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT).face == "admin"
