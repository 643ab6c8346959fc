"""``/admin.php?cdr_filter={...}``: the old GUI's deep link opens the CDR list with its
filters (sql.php names translated through the filter declaration), after a sign-in if needed."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from accounts.preferences import save_preferences
from tests.gui.cdrs.listsupport import errors_of, ids_of, world
from tests.gui.support import PASSWORD, gui_user, signed_in

__all__ = ["world"]


def link(cdr_filter: str) -> str:
    return f"/admin.php?cdr_filter={quote(cdr_filter)}"


def target(response) -> tuple[str, list[tuple[str, str]]]:
    assert response.status_code == 302, response.content[:300]
    parts = urlsplit(response["Location"])
    return parts.path, parse_qsl(parts.query)


@pytest.fixture
def client(world):
    return signed_in("linker", ("can_cdr",))


def test_the_documented_example_opens_the_list_with_the_call(client, world):
    path, query = target(client.get(link('{fcallid:"late,1@example.com"}')))
    assert path == "/cdrs/" and query == [("call_id", "late,1@example.com"), ("window", "all")]
    response = client.get(link('{fcallid:"late,1@example.com"}'), follow=True)
    assert ids_of(response) == [world["late"]]


@pytest.mark.parametrize(
    "cdr_filter",
    ['{"fcaller":"山田"}', "{'fcaller':'山田'}", "{fcaller: '山田',}", '{ fcaller : "山%" }'],
)
def test_keys_may_be_quoted_or_bare(client, world, cdr_filter):
    assert ids_of(client.get(link(cdr_filter), follow=True)) == [world["busy"]]


def test_every_kind_of_listing_field_is_translated(client, world):
    cdr_filter = (
        '{fdatefrom:"2026-11-26 08:00:00", fdateto:"2026-11-26", fcaller:1001, fcalled:"3003",'
        ' fcallerd_type:1, fcaller_domain:"", fsipcallerip:["10.0.0.0/8"], fsensor_id:[2],'
        ' fsipresponse:"2xx", fdurationgt:100, fcodec:9, fmosf1:3.5,'
        ' fcustom_header__X-Account:"", limit:50, sort:"duration", fcustom_header_1_1:null}'
    )
    path, query = target(client.get(link(cdr_filter)))
    assert query == [
        ("date_from", "2026-11-26T08:00:00"),
        ("date_to", "2026-11-26T23:59:59.999999"),
        ("caller", "1001"),
        ("called", "3003"),
        ("numbers_or", "false"),
        ("caller_ip", "10.0.0.0/8"),
        ("sensor", "2"),
        ("sip_response", "2xx"),
        ("duration_min", "100"),
        ("codec", "9"),
        ("mos_f1_max", "3.5"),
    ]
    assert ids_of(client.get(link(cdr_filter), follow=True)) == [world["poor"]]


def test_caller_or_called_and_custom_headers(client, world):
    query = target(client.get(link('{fcaller:"1001",fcalled:"2002",fcallerd_type:0}')))[1]
    assert ("numbers_or", "true") in query
    found = client.get(link('{fcaller:"1001",fcalled:"2002",fcallerd_type:0}'), follow=True)
    assert set(ids_of(found)) == {world["poor"], world["ok"], world["busy"]}
    found = client.get(link('{fcustom_header__X-Account:"ACME%"}'), follow=True)
    assert ids_of(found) == [world["ok"]]
    found = client.get(link('{fcustom_header_1_1:"T-1"}'), follow=True)
    assert ids_of(found) == [world["ok"]]


def test_dates_are_the_sniffers_and_land_in_the_users_zone(client, world):
    user = get_user_model().objects.get(username="linker")
    save_preferences(user, time_zone="Asia/Tokyo", date_format="Y-m-d H:i:s")
    with override_settings(TIME_ZONE="Europe/Prague"):
        # 09:00 Prague (CET, +01:00) is 17:00 in Tokyo
        query = target(client.get(link('{fdatefrom:"2026-11-26 09:00:00"}')))[1]
    assert query == [("date_from", "2026-11-26T17:00:00")]
    query = target(client.get(link('{fdatefrom:"2026-11-26T08:00:00Z"}')))[1]
    assert query == [("date_from", "2026-11-26T17:00:00")]


@pytest.mark.parametrize(
    ("cdr_filter", "message"),
    [
        ('{fcallid:"abc", fnonsense:1}', "'fnonsense' is not a filter of the CDR list"),
        ("{fcallid", "cdr_filter is not valid JSON"),
        ("[1,2]", "cdr_filter must be a JSON object"),
        ('{fdatefrom:"27.11.2026"}', "fdatefrom: expected a date such as 2026-11-26"),
        ("{fcallerd_type:7}", "fcallerd_type: 0 (caller OR called) or 1"),
        ("{fcaller:{a:1}}", "fcaller: expected a text or a number"),
    ],
)
def test_a_link_that_cannot_be_followed_explains_itself_on_the_list_page(
    client, cdr_filter, message
):
    response = client.get(link(cdr_filter))
    assert response.status_code == 400
    errors = errors_of(response)
    assert len(errors) == 1 and message in errors[0], errors
    assert errors[0].startswith("This link cannot be opened:")
    assert 'id="cdr-search"' in response.content.decode()  # the form, to search by hand


def test_a_bad_value_is_shown_by_the_list_page(client):
    response = client.get(link('{fsipcallerip:"10.0.0.999"}'), follow=True)
    assert response.status_code == 400
    assert "caller_ip: '10.0.0.999' is not an IP address" in errors_of(response)[0]
    body = response.content.decode()
    assert 'value="10.0.0.999"' in body  # kept in the form


def test_the_fields_that_translate_stay_in_the_form_after_an_error(client):
    body = client.get(link('{fcaller:"山田", fbogus:1}')).content.decode()
    assert 'name="caller" id="f-caller" value="山田"' in body


def test_a_link_without_cdr_filter_opens_the_list(client):
    assert target(client.get("/admin.php")) == ("/cdrs/", [])


def test_an_anonymous_visitor_signs_in_and_comes_back_to_the_link(world):
    gui_user("returning", ("can_cdr",))
    browser = Client()
    deep = link('{fcaller:"山田"}')
    response = browser.get(deep)
    assert response.status_code == 302
    login = response["Location"]
    assert urlsplit(login).path == "/login/"
    assert parse_qsl(urlsplit(login).query) == [("next", deep)]
    page = browser.get(login).content.decode()
    assert 'name="next"' in page  # the sign-in form carries the link
    answer = browser.post("/login/", {"username": "returning", "password": PASSWORD, "next": deep})
    assert answer.status_code == 302 and answer["Location"] == deep
    response = browser.get(deep, follow=True)
    assert response.redirect_chain[-1][0].startswith("/cdrs/?caller=")
    assert ids_of(response) == [world["busy"]]
