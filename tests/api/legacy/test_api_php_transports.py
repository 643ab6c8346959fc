"""api.php reads the same request from every transport real clients use (legacy-api-formats §1)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.legacy.params import ParamError, params_object, parse_loose_json, php_fields
from tests.api.legacy.test_api_php_support import (
    FAST_HASHERS,
    PASSWORD,
    URL,
    USER,
    call_api,
    cdr_ids,
    decode,
    make_api_user,
    reason,
)
from tests.factories import make_call

PARAMS = {"startTime": "2026-11-27", "caller": "1001"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def target(db) -> int:
    """One call that PARAMS selects, and one that it does not."""
    make_api_user()
    make_call("2026-11-27 11:00:00", caller="1002")
    return make_call("2026-11-27 10:00:00", caller="1001").ID


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["get", "form", "query_post", "multipart", "json"])
def test_it_reads_every_transport(target, transport):
    assert cdr_ids(call_api(PARAMS, transport=transport)) == [target]


@pytest.mark.django_db
def test_it_reads_a_raw_json_body_with_a_json_content_type(target):
    body = json.dumps(
        {"task": "getVoipCalls", "user": USER, "password": PASSWORD, "params": PARAMS}
    )
    response = Client().post(URL, body, content_type="application/json")
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
def test_it_reads_a_raw_json_body_without_a_content_type(target):
    body = json.dumps(
        {"task": "getVoipCalls", "user": USER, "password": PASSWORD, "params": PARAMS}
    )
    response = Client().generic("POST", URL, body.encode(), content_type="")
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
def test_it_reads_params_as_json_text_inside_a_json_body(target):
    assert cdr_ids(call_api(json.dumps(PARAMS), transport="json")) == [target]


@pytest.mark.django_db
def test_it_reads_a_json_body_that_carries_only_params_with_fields_in_the_query(target):
    query = urlencode({"task": "getVoipCalls", "user": USER, "password": PASSWORD})
    response = Client().post(
        f"{URL}?{query}", json.dumps({"params": PARAMS}), content_type="application/json"
    )
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
def test_body_fields_win_over_query_string_fields(target):
    query = urlencode({"task": "getVoipCalls", "user": USER, "password": "wrong"})
    response = Client().post(
        f"{URL}?{query}",
        urlencode({"password": PASSWORD, "params": json.dumps(PARAMS)}),
        content_type="application/x-www-form-urlencoded",
    )
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["get", "form", "multipart"])
def test_it_reads_single_quoted_pseudo_json_params(target, transport):
    params = "{'startTime': '2026-11-27', 'caller': '1001'}"
    assert cdr_ids(call_api(params, transport=transport)) == [target]


@pytest.mark.django_db
def test_it_reads_single_quoted_params_with_a_number(target):
    assert cdr_ids(call_api(f"{{'startTime': '2026-11-27', 'cdrId': {target}}}")) == [target]


@pytest.mark.django_db
def test_it_reads_javascript_style_params_with_bare_keys(target):
    assert cdr_ids(call_api("{startTime: '2026-11-27', caller: 1001,}")) == [target]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "form"])
def test_it_reads_php_bracket_params(target, method):
    fields = {
        "task": "getVoipCalls",
        "user": USER,
        "password": PASSWORD,
        "params[startTime]": "2026-11-27",
        "params[caller]": "1001",
    }
    client = Client()
    if method == "get":
        response = client.get(URL, fields)
    else:
        response = client.post(
            URL, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
def test_it_reads_php_bracket_lists(target):
    other = make_call("2026-11-27 12:00:00", caller="1003").ID
    query = (
        f"task=getVoipCalls&user={USER}&password={PASSWORD}&params[startTime]=2026-11-27"
        f"&params[cdrId][]={target}&params[cdrId][]={other}"
    )
    assert cdr_ids(decode(Client().get(f"{URL}?{query}"))) == [target, other]


@pytest.mark.django_db
def test_it_reads_params_uploaded_as_a_multipart_file(target):
    upload = SimpleUploadedFile("params.json", json.dumps(PARAMS).encode(), "application/json")
    response = Client().post(
        URL, {"task": "getVoipCalls", "user": USER, "password": PASSWORD, "params": upload}
    )
    assert cdr_ids(decode(response)) == [target]


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["get", "json"])
def test_numbers_may_come_as_strings_and_strings_as_numbers(target, transport):
    params = {"startTime": "2026-11-27", "cdrId": str(target), "caller": 1001, "onlyConnected": "1"}
    assert cdr_ids(call_api(params, transport=transport)) == [target]


@pytest.mark.django_db
def test_a_json_body_that_is_not_an_object_is_an_error(target):
    response = Client().post(URL, "[1, 2]", content_type="application/json")
    assert "missing task" in reason(decode(response))


@pytest.mark.django_db
def test_a_plus_lost_in_an_unencoded_query_string_still_reads_as_an_offset(target):
    # curl 'http://../php/api.php?...&params={"startTime":"2026-11-27T11:00:00+01:00"}' sends
    # a raw "+", which URL decoding turns into a space.
    query = (
        f"task=getVoipCalls&user={USER}&password={PASSWORD}"
        '&params={"startTime":"2026-11-27T11:00:00+01:00","caller":"1001"}'
    )
    assert cdr_ids(decode(Client().get(f"{URL}?{query}"))) == [target]


# --- the parsing functions (reused by sql.php) -----------------------------------------------


def test_php_fields_builds_nested_dicts_and_lists():
    items = [
        ("task", ["getVoipCalls"]),
        ("params[startTime]", ["2026-11-27"]),
        ("params[cdrId][]", ["6", "7"]),
        ("params[deep][x][y]", ["1"]),
        ("plain[", ["odd"]),
        ("twice", ["1", "2"]),
    ]
    assert php_fields(items) == {
        "task": "getVoipCalls",
        "params": {"startTime": "2026-11-27", "cdrId": ["6", "7"], "deep": {"x": {"y": "1"}}},
        "plain[": "odd",
        "twice": "2",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{'cdrId': 123}", {"cdrId": 123}),
        ("{\"a\": \"x\\\"y\", 'b': 'it\\'s'}", {"a": 'x"y', "b": "it's"}),
        (
            '{fcallid:"abc", n: -1.5e2, t: true, f: False, z: null}',
            {"fcallid": "abc", "n": -150.0, "t": True, "f": False, "z": None},
        ),
        ("{'list': [1, '2', [3],], }", {"list": [1, "2", [3]]}),
        ("{'u': '\\u00e9'}", {"u": "é"}),
    ],
)
def test_parse_loose_json_reads_what_clients_send(text, expected):
    assert parse_loose_json(text) == expected


@pytest.mark.parametrize("text", ["{'a': }", "{'a' 1}", "{'a': 'open", "{a: b}", "{} x", "[" * 40])
def test_parse_loose_json_rejects_garbage(text):
    with pytest.raises(ParamError):
        parse_loose_json(text)


def test_params_object_accepts_dicts_text_and_absence():
    assert params_object(None) is None
    assert params_object("  ") is None
    assert params_object({"a": 1}) == {"a": 1}
    assert params_object('{"a": 1}') == {"a": 1}
    with pytest.raises(ParamError, match="must be a JSON object"):
        params_object("[1]")
