"""Every search is a URL: the form sends GET, the page shows the search it was given, a bad
value is a message on the page (400) with the form kept, the time windows are relative."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qsl, urlencode

import pytest
from django.utils import timezone

from accounts.preferences import save_preferences
from gui.cdrs import listing
from tests.gui.cdrs.listsupport import ALL_DAY, DAY, errors_of, ids_of, world
from tests.gui.support import signed_in

__all__ = ["world"]

_INPUT = re.compile(r"<input ([^>]*)>")
_SELECT = re.compile(r'<select name="([^"]+)"[^>]*>(.*?)</select>', re.S)
_ATTR = re.compile(r'(\w[\w-]*)(?:="([^"]*)")?')


def form_submission(body: str) -> list[tuple[str, str]]:
    """What a browser sends for the search form as the page shows it (GET, every field)."""
    start = body.index('<form method="get"')
    form = body[start : body.index("</form>", start)]
    pairs = []
    for raw in _INPUT.findall(form):
        attrs = {k: html.unescape(v or "") for k, v in _ATTR.findall(raw)}
        if "name" not in attrs or "disabled" in attrs:
            continue
        if attrs.get("type") == "checkbox" and "checked" not in attrs:
            continue
        pairs.append((attrs["name"], attrs.get("value", "")))
    for name, options in _SELECT.findall(form):
        for value in re.findall(r'<option value="([^"]*)" selected', options):
            pairs.append((name, html.unescape(value)))
    return pairs


@pytest.fixture
def client(world):
    return signed_in("bookmarker", ("can_cdr",))


def test_a_search_round_trips_through_its_url(client, world):
    search = {
        **ALL_DAY,
        "caller": "山%,1001",
        "sip_response": "4xx,200",
        "sensor": "2",
        "header.X-Account": "OTHER%",
        "duration_max": "10.5",
        "page_size": "25",
    }
    first = client.get("/cdrs/", search)
    assert ids_of(first) == [world["busy"]]
    # Submitting the page's own form (as a browser would) repeats exactly the same search.
    sent = form_submission(first.content.decode())
    again = client.get(f"/cdrs/?{urlencode(sent)}")
    assert again.status_code == 200 and ids_of(again) == ids_of(first)
    assert [p for p in sent if p[1]] == [p for p in form_submission(again.content.decode()) if p[1]]
    for name, value in search.items():
        assert (name, value) in sent, name


def test_dates_are_the_users_local_times(client, world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bookmarker")
    save_preferences(user, time_zone="Asia/Tokyo", date_format="d.m.Y H:i:s")
    # 17:00-19:00 in Tokyo is 08:00-10:00 UTC (the sniffer's zone in the tests)
    response = client.get("/cdrs/", {"date_from": f"{DAY}T17:00", "date_to": f"{DAY}T18:59:59"})
    assert set(ids_of(response)) == {world["ok"], world["busy"], world["fail"], world["poor"]}
    body = response.content.decode()
    assert "26.11.2026 17:00:00" in body  # the ok call's time, in the user's zone and format
    assert 'value="2026-11-26T17:00:00"' in body  # the form shows the local time sent
    # an instant with an offset keeps its meaning and is shown as the local time
    response = client.get("/cdrs/", {"date_from": f"{DAY}T22:00:00Z"})
    assert ids_of(response) == [world["late"]]
    assert 'value="2026-11-27T07:00:00"' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "yesterday-ish"}, "date_from: expected an ISO 8601 date-time"),
        ({"caller_ip": "10.0.0.300"}, "caller_ip: '10.0.0.300' is not an IP address"),
        ({"duration_min": "-5"}, "duration_min: expected a number from 0"),
        ({"mos_f1_max": "7"}, "mos_f1_max: expected a number from 0 to 5"),
        ({"sip_response": "4yy"}, "sip_response: expected SIP codes"),
        ({"typo_param": "x"}, "unknown parameter 'typo_param'"),
        ({"header.X-Secret": "x"}, "unknown custom header 'X-Secret'"),
        ({"window": "forever"}, "window: one of 1h, 24h"),
        ({"page_size": "13"}, "page_size: one of 25, 50, 100, 200"),
        ({"sort": "password"}, "sort: one of"),
        ({"after": "not-a-cursor"}, "after: this page link does not belong"),
    ],
)
def test_a_bad_value_is_a_message_on_the_page_with_the_form_kept(client, params, message):
    query = {"caller": "山田", **params}
    response = client.get("/cdrs/", query)
    assert response.status_code == 400
    errors = errors_of(response)
    assert len(errors) == 1 and message in errors[0], errors
    body = response.content.decode()
    assert 'value="山田"' in body  # the search as sent, to correct it
    assert 'id="cdr-table"' not in body


@pytest.fixture
def pinned(monkeypatch):
    """The clock at 2026-11-26 22:30 UTC (the sniffer's zone): 'now' for the windows."""
    now = timezone.make_aware(dt.datetime(2026, 11, 26, 22, 30))
    monkeypatch.setattr(listing, "now", lambda: now)
    return now


def test_the_default_window_is_the_last_24_hours(client, world, pinned):
    from tests.factories import make_call

    old = make_call("2026-11-25 21:00:00", caller="1001").ID  # 25.5 hours before "now"
    response = client.get("/cdrs/")
    ids = ids_of(response)
    assert world["late"] in ids and world["ok"] in ids and old not in ids
    assert 'aria-current="true">Last 24 hours' in response.content.decode()
    # a Call-ID is looked for in all time
    response = client.get("/cdrs/", {"call_id": "call-%"})
    assert old in ids_of(response)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("1h", {"late"}),
        ("today", {"ok", "busy", "fail", "poor", "late"}),
        ("yesterday", set()),
        ("7d", {"ok", "busy", "fail", "poor", "late"}),
        ("all", {"ok", "busy", "fail", "poor", "late"}),
    ],
)
def test_a_preset_window_is_relative_and_kept_in_the_url(client, world, pinned, window, expected):
    response = client.get("/cdrs/", {"window": window, "called": "%"})
    names = {v: k for k, v in world.ids.items()}
    assert {names[i] for i in ids_of(response)} == expected
    sent = dict(form_submission(response.content.decode()))
    assert sent["window"] == window and sent["called"] == "%"  # the form keeps both
    body = html.unescape(response.content.decode())
    # each preset link keeps the other filters and drops explicit dates
    for key in ("1h", "today", "yesterday", "7d", "all"):
        link = re.search(rf'href="\?([^"]*window={key}[^"]*)"', body).group(1)
        assert dict(parse_qsl(link)) == {"called": "%", "window": key}


def test_explicit_dates_win_over_a_window(client, world, pinned):
    response = client.get("/cdrs/", {"window": "1h", "date_from": f"{DAY}T08:00:00"})
    assert world["ok"] in ids_of(response)


def test_the_page_without_can_cdr_is_refused(world):
    client = signed_in("no-cdr", ("can_activecalls",))
    for url in ("/cdrs/", "/cdrs/export.csv", '/admin.php?cdr_filter={fcaller:"1"}'):
        response = client.get(url)
        assert response.status_code == 403 and b"can_cdr" in response.content
    assert b'href="/cdrs/"' not in client.get("/settings/").content  # no link to it either
