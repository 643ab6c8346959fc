"""/admin.php?cdr_filter={...}: the old GUI's deep link is a browser link, served by the GUI's
CDR list now (its translation: tests/gui/cdrs/test_cdr_deeplink.py). What the legacy face
promises about it: a sql.php session opens it (one session for every face), sql.php's field
names work in it, and it no longer answers JSON (scripts list CDRs through sql.php)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.test import Client, override_settings

from tests.api.legacy.test_sql_php_support import DEEP_LINK, session_client
from tests.factories import make_call


@pytest.fixture
def client(db) -> Client:
    return session_client()


@pytest.fixture
def calls(client) -> dict[str, int]:
    return {
        "abc": make_call("2026-11-27 10:00:00", caller="1001", call_id="abc123").ID,
        "def": make_call("2026-11-25 10:00:00", caller="2002", call_id="def456").ID,
        "hdr": make_call("2026-11-28 10:00:00", caller="1001", called="3003").ID,
    }


def open_link(client: Client, cdr_filter: str, **headers):
    return client.get(f"{DEEP_LINK}?cdr_filter={quote(cdr_filter)}", headers=headers)


def listed(client: Client, cdr_filter: str) -> list[int]:
    """The CDR ids the GUI's list shows after following the link."""
    response = client.get(f"{DEEP_LINK}?cdr_filter={quote(cdr_filter)}", follow=True)
    assert response.status_code == 200, response.content[:500]
    assert response.redirect_chain[0][0].startswith("/cdrs/?")
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


@pytest.mark.django_db
def test_a_sql_php_session_opens_the_spec_example_in_the_gui(client, calls):
    response = open_link(client, '{fcallid:"abc123"}')
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    assert parts.path == "/cdrs/"
    assert parse_qsl(parts.query) == [("call_id", "abc123"), ("window", "all")]  # no date needed
    assert listed(client, '{fcallid:"abc123"}') == [calls["abc"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cdr_filter",
    [
        '{"fcallid":"def456"}',
        "{'fcallid':'def456'}",
        "{fcallid: 'def456',}",
        '{ fcallid : "def%" }',
    ],
)
def test_keys_may_be_quoted_or_bare(client, calls, cdr_filter):
    assert listed(client, cdr_filter) == [calls["def"]]


@pytest.mark.django_db
def test_any_listing_filter_works_in_the_link(client, calls):
    link = '{fdatefrom:"2026-11-26",fdateto:"2026-11-28T23:00:00",fcaller:1001,fcalled:"3003",fcallerd_type:0}'
    assert sorted(listed(client, link)) == [calls["abc"], calls["hdr"]]
    link = '{fdatefrom:"2026-11-26",fcaller:"1001",fcalled:"3003",fcallerd_type:1}'
    assert listed(client, link) == [calls["hdr"]]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/html,*/*;q=0.8", "*/*"])
def test_without_a_session_the_link_leads_to_the_login_page(calls, accept):
    cdr_filter = '{fcallid:"abc123"}'
    response = open_link(Client(), cdr_filter, Accept=accept)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/login/"
    assert parse_qsl(location.query) == [("next", f"{DEEP_LINK}?cdr_filter={quote(cdr_filter)}")]


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_disabled_api_authorization_does_not_open_the_browser_link(calls):
    # the setting is about scripts on api.php/sql.php; the GUI always needs a user
    assert urlsplit(open_link(Client(), '{fcallid:"abc123"}')["Location"]).path == "/login/"


@pytest.mark.django_db
def test_after_an_admin_login_the_browser_session_opens_the_link(db, calls):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    browser = Client()
    assert browser.login(username="boss", password="pw-boss-123")
    assert listed(browser, '{fcallid:"abc123"}') == [calls["abc"]]


@pytest.mark.django_db
def test_a_link_without_cdr_filter_opens_the_list(client):
    response = client.get(DEEP_LINK)
    assert response.status_code == 302 and response["Location"] == "/cdrs/"


@pytest.mark.django_db
def test_an_unreadable_cdr_filter_is_explained_on_the_list_page(client):
    response = client.get(f"{DEEP_LINK}?{urlencode({'cdr_filter': '{fcallid'})}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "cdr_filter is not valid JSON" in response.content.decode()
