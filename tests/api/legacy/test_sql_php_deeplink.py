"""/admin.php?cdr_filter={...}: the GUI's deep link, answered as a JSON CDR listing until the
browser GUI exists."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client, override_settings

from tests.api.legacy.test_sql_php_support import DEEP_LINK, decode, error, ids, session_client
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


@pytest.mark.django_db
def test_the_spec_example_lists_the_call_without_a_date(client, calls):
    body = decode(open_link(client, '{fcallid:"abc123"}'))
    assert ids(body) == [calls["abc"]] and body["total"] == 1
    assert body["results"][0]["fbasename"] == "abc123"


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
    assert ids(decode(open_link(client, cdr_filter))) == [calls["def"]]


@pytest.mark.django_db
def test_any_listing_filter_works_in_the_link(client, calls):
    link = '{fdatefrom:"2026-11-26",fdateto:"2026-11-28T23:00:00",fcaller:1001,fcalled:"3003",fcallerd_type:0}'
    assert sorted(ids(decode(open_link(client, link)))) == [calls["abc"], calls["hdr"]]
    link = '{fdatefrom:"2026-11-26",fcaller:"1001",fcalled:"3003",fcallerd_type:1}'
    assert ids(decode(open_link(client, link))) == [calls["hdr"]]


@pytest.mark.django_db
def test_without_a_session_a_browser_is_sent_to_the_login_page(calls):
    response = open_link(Client(), '{fcallid:"abc123"}', Accept="text/html,*/*;q=0.8")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/admin/login/?next=")
    assert "admin.php" in location and "cdr_filter" in location


@pytest.mark.django_db
def test_without_a_session_a_script_gets_no_session(calls):
    response = open_link(Client(), '{fcallid:"abc123"}')
    assert json.loads(response.content) == {"success": False, "error": {"type": "no_session"}}


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_with_authorization_disabled_the_link_needs_no_session(calls):
    assert ids(decode(open_link(Client(), '{fcallid:"abc123"}'))) == [calls["abc"]]


@pytest.mark.django_db
def test_after_an_admin_login_the_browser_session_opens_the_link(db, calls):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    browser = Client()
    assert browser.login(username="boss", password="pw-boss-123")
    assert ids(decode(open_link(browser, '{fcallid:"abc123"}'))) == [calls["abc"]]


@pytest.mark.django_db
def test_a_link_without_cdr_filter_is_explained(client):
    kind, reason = error(decode(client.get(DEEP_LINK)))
    assert kind == "params" and reason.startswith("admin.php needs cdr_filter")


@pytest.mark.django_db
def test_an_unreadable_cdr_filter_is_refused(client):
    kind, reason = error(decode(client.get(f"{DEEP_LINK}?{urlencode({'cdr_filter': '{fcallid'})}")))
    assert kind == "params" and reason.startswith("cdr_filter is not valid JSON")
