"""sql.php sessions: bypass_login, the PHPSESSID cookie (with and without a URL prefix),
expiry, refusals, "disable authorization", and a dozen concurrent requests on one session."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import urllib.request
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import UserProfile
from tests.api.legacy.test_api_php_support import PASSWORD, USER, make_api_user
from tests.api.legacy.test_sql_php_support import URL, error, ids, login, ok, send
from tests.factories import make_call
from vmgui.settings import session_cookie_name, url_prefix

LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}
LOGIN = {"module": "bypass_login", "user": USER, "pass": PASSWORD}


@pytest.fixture
def user(db):
    return make_api_user()


@pytest.fixture
def call(db):
    return make_call("2026-11-27 10:00:00")


# --- bypass_login ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["get", "query_post", "form", "multipart"])
def test_it_logs_in_by_every_transport(user, transport):
    body = send(LOGIN, transport=transport)
    assert set(body) == {"SID", "cookie_name", "success", "_vm_version"}
    assert body["success"] is True and body["cookie_name"] == "PHPSESSID"
    assert body["_vm_version"] == settings.VM_VERSION
    assert isinstance(body["SID"], str) and len(body["SID"]) == 32


@pytest.mark.django_db
def test_the_sid_is_the_value_of_the_session_cookie(user):
    client = Client()
    response = client.post(f"{URL}?{urlencode(LOGIN)}", b"", content_type="text/plain")
    sid = json.loads(response.content)["SID"]
    assert response.cookies["PHPSESSID"].value == sid
    assert Session.objects.filter(session_key=sid).exists()


@pytest.mark.django_db
def test_a_client_sending_only_the_cookie_header_is_authenticated(user, call):
    sid = login(Client())
    fresh = Client()  # no cookie jar: the header alone
    body = send(LISTING, client=fresh, Cookie=f"PHPSESSID={sid}")
    assert ids(body) == [call.ID]


@pytest.mark.django_db
def test_pass_may_be_sent_as_password_too(user):
    body = send({"module": "bypass_login", "user": USER, "password": PASSWORD})
    assert body["success"] is True


@pytest.mark.django_db
def test_each_login_opens_its_own_session(user):
    assert login(Client()) != login(Client())


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_reason(user):
    assert error(send({**LOGIN, "pass": "nope"})) == ("login", "wrong user name or password")


@pytest.mark.django_db
def test_an_unknown_user_gets_the_same_reason(user):
    assert error(send({**LOGIN, "user": "ghost"})) == ("login", "wrong user name or password")


@pytest.mark.django_db
def test_missing_credentials_are_refused(user):
    assert error(send({"module": "bypass_login"})) == ("login", "missing user or password")


@pytest.mark.django_db
def test_an_ldap_account_cannot_log_in_here(db):
    make_api_user("ldapuser", "pw-ldap-12", source=UserProfile.Source.LDAP)
    kind, reason = error(send({**LOGIN, "user": "ldapuser", "pass": "pw-ldap-12"}))
    assert kind == "login" and "local accounts only" in reason


@pytest.mark.django_db
def test_a_blocked_user_cannot_log_in(db):
    make_api_user("blocked", "pw-blocked-1", blocked=True, blocked_reason="left the company")
    assert error(send({**LOGIN, "user": "blocked", "pass": "pw-blocked-1"})) == (
        "login",
        "user is blocked: left the company",
    )


@pytest.mark.django_db
def test_a_user_blocked_after_login_loses_the_session(user, call):
    client = Client()
    login(client)
    UserProfile.objects.filter(user=user).update(blocked=True, blocked_reason="audit")
    body = json.loads(client.get(URL, LISTING).content)
    assert body["success"] is False and "user is blocked: audit" in json.dumps(body)
    assert send(LISTING, client=client) == {"success": False, "error": {"type": "no_session"}}


# --- no session ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_session_it_answers_no_session(call):
    assert send(LISTING) == {"success": False, "error": {"type": "no_session"}}


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["TOTAL", "LISTING"])
def test_every_cdr_task_needs_the_session(call, task):
    module = "CDR_stats" if task == "LISTING" else "CDR"
    body = send({**LISTING, "task": task, "module": module})
    assert body == {"success": False, "error": {"type": "no_session"}}


@pytest.mark.django_db
def test_an_unknown_sid_is_no_session(user, call):
    body = send(LISTING, Cookie="PHPSESSID=0123456789abcdef0123456789abcdef")
    assert body["error"] == {"type": "no_session"}


@pytest.mark.django_db
def test_an_expired_session_is_no_session(user, call):
    sid = login(Client())
    Session.objects.filter(session_key=sid).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert send(LISTING, Cookie=f"PHPSESSID={sid}")["error"] == {"type": "no_session"}


@pytest.mark.django_db
def test_a_session_an_hour_old_still_works(user, call):
    sid = login(Client())
    # An hour after the login, the session has one hour less to live.
    Session.objects.filter(session_key=sid).update(
        expire_date=timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 3600)
    )
    for _ in range(3):  # and keeps working when reused
        assert ids(send(LISTING, Cookie=f"PHPSESSID={sid}")) == [call.ID]


def test_sessions_last_at_least_an_hour():
    assert settings.SESSION_COOKIE_AGE >= 3600


# --- disable authorization -------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_with_authorization_disabled_no_session_is_needed(call):
    assert ids(send(LISTING)) == [call.ID]
    assert send({**LISTING, "task": "TOTAL"}) == {"success": True, "total": 1}


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_with_authorization_disabled_a_session_still_acts_as_its_user(db, call):
    make_api_user("nocdr", "pw-nocdr-1", can_cdr=False)
    client = Client()
    login(client, "nocdr", "pw-nocdr-1")
    assert error(send(LISTING, client=client))[0] == "permission"


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_with_authorization_disabled_login_still_checks_credentials(user):
    assert error(send({**LOGIN, "pass": "nope"}))[0] == "login"


# --- URL prefix ------------------------------------------------------------------------------


def test_the_cookie_name_follows_the_url_prefix():
    assert session_cookie_name("") == "PHPSESSID"
    assert session_cookie_name("/demo") == "PHPSESSID-demo"
    assert session_cookie_name("/voip/gui") == "PHPSESSID-voip-gui"
    assert url_prefix("demo/") == "/demo" and url_prefix(" /demo ") == "/demo"
    assert url_prefix("") == "" and url_prefix("/") == ""


def _settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SESSION_COOKIE_NAME, getattr(settings, 'FORCE_SCRIPT_NAME', None))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "vmgui.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_vmgui_url_prefix_sets_the_script_name_and_the_cookie_name():
    result = _settings_in_subprocess({"VMGUI_URL_PREFIX": "/demo"})
    assert result.stdout.split() == ["PHPSESSID-demo", "/demo"], result.stderr
    result = _settings_in_subprocess({"VMGUI_URL_PREFIX": ""})
    assert result.stdout.split() == ["PHPSESSID", "None"], result.stderr


def test_a_bad_url_prefix_stops_the_app_with_a_message():
    result = _settings_in_subprocess({"VMGUI_URL_PREFIX": "/de mo?"})
    assert result.returncode != 0 and "VMGUI_URL_PREFIX" in result.stderr


@pytest.mark.django_db
@override_settings(FORCE_SCRIPT_NAME="/demo", SESSION_COOKIE_NAME="PHPSESSID-demo")
def test_under_a_prefix_the_session_cookie_is_phpsessid_prefix(user, call):
    client = Client()
    response = client.get(URL, LOGIN)
    body = json.loads(response.content)
    assert body["cookie_name"] == "PHPSESSID-demo"
    assert response.cookies["PHPSESSID-demo"].value == body["SID"]
    assert "PHPSESSID" not in response.cookies
    sid = body["SID"]
    assert ids(send(LISTING, Cookie=f"PHPSESSID-demo={sid}")) == [call.ID]
    assert send(LISTING, Cookie=f"PHPSESSID={sid}")["error"] == {"type": "no_session"}


# --- concurrency on one session ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dozen_concurrent_requests_share_one_session(live_server):
    make_api_user()
    calls = [make_call(f"2026-11-27 10:00:{n:02d}").ID for n in range(5)]
    with urllib.request.urlopen(f"{live_server.url}{URL}?{urlencode(LOGIN)}") as response:
        cookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie"):
            cookie.load(header)
        sid = json.loads(response.read())["SID"]
    assert cookie["PHPSESSID"].value == sid
    query = urlencode({**LISTING, "sort": '[{"property":"calldate","direction":"ASC"}]'})
    results: list = [None] * 12

    def fetch(slot: int) -> None:
        request = urllib.request.Request(
            f"{live_server.url}{URL}?{query}", headers={"Cookie": f"PHPSESSID={sid}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                results[slot] = json.loads(response.read())
        except Exception as exc:  # reported by the assertion below
            results[slot] = repr(exc)

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for body in results:
        assert isinstance(body, dict) and body["success"] is True, body
        assert [row["ID"] for row in body["results"]] == calls and body["total"] == 5
    # and the session is still valid afterwards
    request = urllib.request.Request(
        f"{live_server.url}{URL}?{query}", headers={"Cookie": f"PHPSESSID={sid}"}
    )
    with urllib.request.urlopen(request) as response:
        assert ok(json.loads(response.read()))["total"] == 5
