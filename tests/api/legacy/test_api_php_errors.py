"""api.php errors and authentication: every failure is the error envelope with a clear reason."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from accounts.models import UserProfile
from tests.api.legacy.test_api_php_support import (
    FAST_HASHERS,
    PASSWORD,
    USER,
    call_api,
    cdr_ids,
    decode,
    make_api_user,
    ok,
    reason,
)
from tests.factories import make_call

START = {"startTime": "2026-11-27"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def api_user(db):
    return make_api_user()


@pytest.mark.django_db
def test_it_refuses_a_request_without_task(api_user):
    assert "missing task" in reason(call_api(START, task=None))


@pytest.mark.django_db
def test_it_refuses_an_empty_request():
    assert "missing task" in reason(decode(Client().get("/php/api.php")))


@pytest.mark.django_db
def test_it_refuses_an_unknown_task_and_lists_the_known_ones(api_user):
    text = reason(call_api(START, task="getEverything"))
    assert "unknown task 'getEverything'" in text
    assert "getVoipCalls" in text and "listCdrIds" in text


@pytest.mark.django_db
def test_it_matches_task_names_case_insensitively(api_user):
    make_call("2026-11-27 10:00:00")
    assert len(cdr_ids(call_api(START, task="getvoipcalls"))) == 1


@pytest.mark.django_db
def test_it_checks_credentials_before_running_a_task(api_user):
    assert "wrong user name or password" in reason(
        call_api({"cdrId": 1}, task="getShareURL", password="nope")
    )


@pytest.mark.django_db
def test_it_refuses_getvoipcalls_without_params(api_user):
    assert "missing params" in reason(call_api(None))


@pytest.mark.django_db
def test_it_refuses_empty_params_text(api_user):
    assert "missing params" in reason(call_api("   "))


@pytest.mark.django_db
@pytest.mark.parametrize("params", ["{startTime:", "{'a': }", "not json", '{"a": 1} trailing'])
def test_it_refuses_params_that_are_not_json(api_user, params):
    assert "params is not valid JSON" in reason(call_api(params))


@pytest.mark.django_db
@pytest.mark.parametrize("params", ["[1, 2]", "123", '"text"'])
def test_it_refuses_params_that_are_not_an_object(api_user, params):
    assert "params must be a JSON object" in reason(call_api(params))


@pytest.mark.django_db
def test_it_refuses_getvoipcalls_without_starttime(api_user):
    text = reason(call_api({"caller": "1001"}))
    assert "params.startTime is required" in text


@pytest.mark.django_db
def test_it_refuses_a_blank_starttime(api_user):
    assert "params.startTime is required" in reason(call_api({"startTime": ""}))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"startTime": "yesterday"}, "params.startTime"),
        ({"startTime": "2026-13-45"}, "params.startTime"),
        ({"startTime": "2026-11-27", "startTimeTo": "soon"}, "params.startTimeTo"),
        ({"startTime": "2026-11-27", "endTime": "2026-11-99"}, "params.endTime"),
        ({"startTime": "2026-11-27", "callEnd": "31/31/2026"}, "params.callEnd"),
    ],
)
def test_it_refuses_a_bad_date_naming_the_parameter(api_user, params, name):
    text = reason(call_api(params))
    assert text.startswith(f"{name}: cannot read")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"cdrId": "abc"}, "params.cdrId: expected a whole number"),
        ({"cdrId": 0}, "params.cdrId: must be at least 1"),
        ({"id_sensor": "one"}, "params.id_sensor: expected a whole number"),
        ({"onlyConnected": "maybe"}, "params.onlyConnected: expected 1/0 or true/false"),
        ({"caller": {"a": 1}}, "params.caller: expected a string or a number"),
        ({"customHeaders": "X-Nope"}, "unknown custom header 'X-Nope'"),
        ({"msisdn": "123", "caller": "456"}, "do not combine it with caller/called"),
    ],
)
def test_it_refuses_invalid_parameter_values(api_user, params, fragment):
    assert fragment in reason(call_api({**START, **params}))


@pytest.mark.django_db
def test_it_refuses_a_wrong_password(api_user):
    assert reason(call_api(START, password="wrong")) == "wrong user name or password"


@pytest.mark.django_db
def test_it_refuses_an_unknown_user_with_the_same_reason(api_user):
    assert reason(call_api(START, user="nobody")) == "wrong user name or password"


@pytest.mark.django_db
def test_it_refuses_missing_credentials(api_user):
    assert reason(call_api(START, user=None, password=None)) == "missing user or password"


@pytest.mark.django_db
def test_it_refuses_a_blocked_user_with_the_reason(db):
    make_api_user(blocked=True, blocked_reason="unpaid invoice")
    assert reason(call_api(START)) == "user is blocked: unpaid invoice"


@pytest.mark.django_db
def test_it_refuses_an_inactive_user(api_user):
    api_user.is_active = False
    api_user.save()
    assert reason(call_api(START)).startswith("user is blocked")


@pytest.mark.django_db
def test_it_refuses_an_ldap_user(db):
    make_api_user(source=UserProfile.Source.LDAP)
    text = reason(call_api(START))
    assert "authenticates through LDAP" in text and "local accounts only" in text


@pytest.mark.django_db
def test_it_accepts_pass_as_an_alias_of_password(api_user):
    make_call("2026-11-27 10:00:00")
    assert len(cdr_ids(call_api(START, password=None, **{"pass": PASSWORD}))) == 1


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_it_allows_anonymous_use_when_auth_is_disabled(db):
    call = make_call("2026-11-27 10:00:00")
    assert cdr_ids(call_api(START, user=None, password=None)) == [call.ID]


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=True)
def test_it_still_checks_credentials_that_are_sent_when_auth_is_disabled(api_user):
    assert reason(call_api(START, password="wrong")) == "wrong user name or password"
    assert reason(call_api(START, user=USER, password=None)) == "missing user or password"


@pytest.mark.django_db
@override_settings(API_DISABLE_AUTH=False)
def test_it_requires_credentials_when_auth_is_enabled(db):
    assert reason(call_api(START, user=None, password=None)) == "missing user or password"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_points_api_php_at_the_right_path(method):
    response = getattr(Client(enforce_csrf_checks=True), method)(
        "/api.php", {"task": "getVoipCalls"}
    )
    assert "/php/api.php" in reason(decode(response))


@pytest.mark.django_db
def test_it_is_csrf_exempt(api_user):
    make_call("2026-11-27 10:00:00")
    client = Client(enforce_csrf_checks=True)
    body = call_api(START, transport="form", client=client)
    assert len(cdr_ids(body)) == 1


@pytest.mark.django_db
def test_it_refuses_other_http_methods(api_user):
    assert "use GET or POST" in reason(decode(Client().put("/php/api.php", b"")))


@pytest.mark.django_db
def test_it_hides_unexpected_errors_behind_a_generic_reason(api_user, monkeypatch, caplog):
    from api.legacy import tasks_cdr

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tasks_cdr.query, "iter_pages", boom)
    text = reason(call_api(START))
    assert "internal error" in text and "secret" not in text
    assert "secret internals" in caplog.text


@pytest.mark.django_db
def test_a_failure_between_streamed_pages_is_an_error_answer_and_frees_the_connection(
    api_user, monkeypatch
):
    """The rows are read a page at a time from a cursor that holds the connection: a failure
    after the first page answers the error envelope (no half answer), and the next request
    reads every row on the same connection."""
    from api.legacy import tasks_cdr

    for minute in range(3):
        make_call(f"2026-11-27 10:0{minute}:00")
    shape = tasks_cdr.voip_call_rows
    pages = []

    def second_page_fails(rows, headers=()):
        pages.append(len(rows))
        if len(pages) == 2:
            raise RuntimeError("secret internals")
        return shape(rows, headers)

    monkeypatch.setattr(tasks_cdr, "VOIP_CALLS_CHUNK", 1)
    monkeypatch.setattr(tasks_cdr, "voip_call_rows", second_page_fails)
    assert "internal error" in reason(call_api(START))
    monkeypatch.setattr(tasks_cdr, "voip_call_rows", shape)
    assert len(cdr_ids(call_api(START))) == 3


@pytest.mark.django_db
def test_it_ignores_extra_top_level_fields(api_user):
    make_call("2026-11-27 10:00:00")
    body = call_api(START, auditReason="ticket 42", foo="bar")
    assert len(cdr_ids(body)) == 1


@pytest.mark.django_db
def test_it_ignores_unknown_params_keys(api_user):
    make_call("2026-11-27 10:00:00")
    assert len(cdr_ids(call_api({**START, "somethingElse": 1}))) == 1


@pytest.mark.django_db
def test_success_envelope_has_success_true_and_cdr_list(api_user):
    body = ok(call_api(START))
    assert body == {"success": True, "cdr": []}
