"""The CDR list's search form: generated from the filter declaration, every kind of filter
finds exactly its calls (Czech, Japanese and emoji text included)."""

from __future__ import annotations

import html
import re

import pytest

from cdr.query.filterspec import ALL_PARAMS, FILTERS
from tests.gui.cdrs.listsupport import ALL_DAY, DAY, errors_of, ids_of, world
from tests.gui.support import signed_in

__all__ = ["world"]


@pytest.fixture
def client(world):
    return signed_in("operator", ("can_cdr",))


def found(client, world, **params) -> set[str]:
    """The names of the world's calls the list shows for these filters (within the day)."""
    response = client.get("/cdrs/", {**ALL_DAY, **params})
    assert response.status_code == 200, errors_of(response)
    names = {v: k for k, v in world.ids.items()}
    return {names[i] for i in ids_of(response)}


def test_the_form_offers_every_declared_filter_with_its_label_from_the_help(client):
    body = client.get("/cdrs/", ALL_DAY).content.decode()
    names = set(re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', body))
    for param in ALL_PARAMS:
        if param.kind == "custom_header":
            continue
        assert param.name in names, param.name
    # the custom headers the database defines
    assert {"header.X-Account", "header.X-Ticket"} <= names
    assert "Caller number patterns" in body  # "Caller number patterns (comma list): ..."
    assert "Only calls that were answered" in body  # "true: only calls that were answered."
    # a kind decides the input: dates are local datetimes, thresholds numbers, flags checkboxes
    assert re.search(r'type="datetime-local" name="date_from"', body)
    assert re.search(r'type="number" name="mos_f1_max"[^>]*max="5"', body)
    assert re.search(r'type="checkbox" name="connected"', body)
    assert re.search(r'<select name="sensor"[^>]*multiple', body)
    assert "Praha-1 (#1)" in body and "Brno-2 (#2)" in body


def test_the_hint_of_a_date_names_the_users_time_zone(client):
    body = html.unescape(client.get("/cdrs/", ALL_DAY).content.decode())
    assert "in your time zone (UTC)" in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"caller": "山%"}, {"busy"}),  # prefix, Japanese
        ({"caller": "%bot"}, {"fail"}),  # suffix (the reverse column), emoji
        ({"caller": "jiří.novák"}, {"late"}),  # exact, Czech
        ({"caller": "%ří%"}, {"late"}),  # contains
        ({"caller": "1001,山田"}, {"poor", "busy"}),  # comma list
        ({"called": "2002"}, {"ok", "busy"}),
        ({"caller": "1001", "called": "2002"}, set()),  # AND by default
        ({"caller": "1001", "called": "2002", "numbers_or": "true"}, {"poor", "ok", "busy"}),
        ({"caller_domain": "例え.jp"}, {"fail"}),
        ({"caller_domain": "žluťoučký.cz"}, {"ok"}),
        ({"caller_ip": "192.0.2.0/24"}, {"fail"}),
        ({"sensor": "2"}, {"busy", "poor"}),
        ({"sensor": ["1", "2"]}, {"ok", "busy", "fail", "poor", "late"}),
        ({"sip_response": "4xx"}, {"busy"}),
        ({"sip_response": "5xx,486"}, {"busy", "fail"}),
        ({"duration_min": "60"}, {"ok", "poor"}),
        ({"duration_max": "10"}, {"busy"}),
        ({"connected": "true"}, {"ok", "poor", "late"}),
        ({"codec": "9"}, {"poor"}),
        ({"call_id": "late,1@example.com"}, {"late"}),  # a Call-ID may hold a comma
        ({"header.X-Account": "ACME%"}, {"ok"}),  # a fixed custom header column
        ({"header.X-Ticket": "T-1"}, {"ok"}),  # a dynamic one
        ({"mos_f1_max": "3"}, {"poor"}),  # a quality threshold (either side, at most)
    ],
)
def test_each_kind_of_filter_finds_exactly_its_calls(client, world, params, expected):
    assert found(client, world, **params) == expected


def test_ids_and_call_end_and_date_bounds(client, world):
    assert found(client, world, id=f"{world['ok']},{world['late']}") == {"ok", "late"}
    assert found(client, world, callend_to=f"{DAY}T08:01:10") == {"ok"}
    assert found(client, world, date_from=f"{DAY}T09:00:00", date_to=f"{DAY}T10:00:00") == {
        "fail",
        "poor",
    }


def test_caller_text_is_shown_as_sent(client, world):
    body = client.get("/cdrs/", {**ALL_DAY, "caller": "山田,😀bot,jiří.novák"}).content.decode()
    assert "山田" in body and "😀bot" in body and "jiří.novák" in body and "@例え.jp" in body


def test_a_filter_declared_later_appears_in_the_form_without_a_form_change(client, monkeypatch):
    from cdr.query import filterspec
    from gui.cdrs import form

    extra = filterspec.FilterParam(
        "vlan_probe", "ints", "cdr_ids", "Probe filter for the generated form (comma list)."
    )
    monkeypatch.setattr(form, "ALL_PARAMS", (*FILTERS, extra))
    body = client.get("/cdrs/", ALL_DAY).content.decode()
    assert 'name="vlan_probe"' in body and "Probe filter for the generated form" in body
