"""sql.php error shapes: every refusal is HTTP 200 JSON with ``error.type``/``error.descr`` and
``errors.reason`` (no_session has exactly the old GUI's shape); never a traceback."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from api.legacy import sql_listing
from tests.api.legacy.test_sql_php_support import URL, error, send, session_client
from tests.factories import make_call

LISTING = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27"}


@pytest.fixture
def client(db) -> Client:
    return session_client()


@pytest.mark.django_db
def test_a_failure_has_both_envelopes(client):
    body = send({**LISTING, "fdatefrom": "yesterday"}, client=client)
    reason = (
        "fdatefrom: cannot read 'yesterday' as a date/time "
        "(use YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339)"
    )
    assert body == {
        "success": False,
        "error": {"type": "params", "descr": reason},
        "errors": {"reason": reason},
    }


@pytest.mark.django_db
def test_no_session_has_exactly_the_old_shape():
    response = Client().get(URL, LISTING)
    assert response.status_code == 200
    assert json.loads(response.content) == {"success": False, "error": {"type": "no_session"}}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields,reason",
    [
        (
            {"task": "DELETE", "module": "CDR"},
            "unsupported request (task=DELETE module=CDR); supported: module=bypass_login, "
            "module=logout, task=LISTING&module=CDR, task=TOTAL, task=LISTING&module=CDR_stats",
        ),
        (
            {**LISTING, "fcallerd_type": 2},
            "fcallerd_type: 0 (caller OR called) or 1 (caller AND called)",
        ),
        ({**LISTING, "fsensor_id": "edge"}, "fsensor_id: expected a whole number, got 'edge'"),
        (
            {**LISTING, "fsipcallerip": "10.0.0.300"},
            "'10.0.0.300' is not an IP address or CIDR network",
        ),
        ({**LISTING, "fdurationgt": "long"}, "fdurationgt: expected a number, got 'long'"),
        ({**LISTING, "limit": 0}, "limit: -1 (all rows) or at least 1"),
        ({**LISTING, "start": -5}, "start: must be at least 0"),
        ({**LISTING, "sort": "[{bad"}, "sort is not valid JSON (expected ':' at character 6)"),
        (
            {**LISTING, "fcustom_header_x": "1"},
            "fcustom_header_x: use fcustom_header_<table>_<column> (dynamic headers) or fcustom_header__<Header-Name> (fixed headers)",
        ),
        ({**LISTING, "fcustom_header_11_1": "1"}, "unknown custom header 'custom_header_11_1'"),
        ({**LISTING, "fcustom_header_1_11": "1"}, "unknown custom header 'custom_header_1_11'"),
        ({**LISTING, "fcustom_header__X-Nope": "1"}, "unknown custom header 'X-Nope'"),
    ],
)
def test_bad_requests_are_explained(client, fields, reason):
    assert error(send(fields, client=client)) == ("params", reason)


@pytest.mark.django_db
def test_the_module_and_task_may_be_in_any_case(client):
    make_call("2026-11-27 10:00:00")
    body = send({**LISTING, "task": "listing", "module": "cdr"}, client=client)
    assert body["success"] is True and body["total"] == 1


@pytest.mark.django_db
def test_an_unsupported_method_is_refused(client):
    body = json.loads(client.put(URL, b"").content)
    assert body["error"]["type"] == "params"
    assert body["error"]["descr"] == "method PUT is not supported; use GET or POST"


@pytest.mark.django_db
def test_an_unexpected_failure_is_answered_without_a_traceback(client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(sql_listing.query, "cdr_queryset", boom)  # every count and page uses it
    response = client.get(URL, {"task": "TOTAL", **LISTING})
    assert response.status_code == 200
    assert b"secret internals" not in response.content and b"Traceback" not in response.content
    assert error(json.loads(response.content)) == (
        "internal",
        "internal error while answering the request (the server log has the details)",
    )


@pytest.mark.django_db(transaction=True)
def test_a_database_without_sniffer_tables_is_explained(empty_sniffer_db):
    client = session_client()
    kind, reason = error(send({**LISTING, "suppress_results": 0}, client=client))
    assert kind == "params"
    assert reason == "this database has no cdr table (run manage.py create_sniffer_schema)"
