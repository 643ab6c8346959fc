"""listCdrIds: pages of CDR ids (ID ascending) with the total count."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.api.legacy.test_api_php_support import FAST_HASHERS, call_api, make_api_user, ok, reason
from tests.factories import make_call


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def ids(db) -> list[int]:
    """Five calls; IDs ascend while calldates descend (the order must follow ID)."""
    make_api_user()
    return [
        make_call(f"2026-11-{27 - n:02d} 10:00:00", caller=f"10{n}", duration=10 + n).ID
        for n in range(5)
    ]


def listed(params=None, **kwargs) -> dict:
    return ok(call_api(params, task="listCdrIds", **kwargs))


@pytest.mark.django_db
def test_it_lists_every_cdr_by_id_ascending_without_params(ids):
    body = listed()
    assert body["total"] == 5
    assert [row["cdrId"] for row in body["cdr"]] == ids


@pytest.mark.django_db
def test_rows_carry_the_identifying_fields(ids):
    row = listed({"size": 1})["cdr"][0]
    assert row == {
        "cdrId": ids[0],
        "calldate": "2026-11-27 10:00:00",
        "caller": "100",
        "called": "2001",
        "callId": f"call-{ids[0]}@example.com",
        "duration": 10,
        "lastSIPresponseNum": 200,
    }


@pytest.mark.django_db
def test_it_pages_with_offset_and_size(ids):
    body = listed({"offset": 1, "size": 2})
    assert body["total"] == 5
    assert [row["cdrId"] for row in body["cdr"]] == ids[1:3]
    assert [row["cdrId"] for row in listed({"offset": "4", "size": "2"})["cdr"]] == ids[4:]
    assert listed({"offset": 10})["cdr"] == []


@pytest.mark.django_db
def test_size_zero_gives_only_the_total(ids):
    assert listed({"size": 0}) == {"success": True, "total": 5, "cdr": []}


@pytest.mark.django_db
@override_settings(API_MAX_ROWS=3)
def test_size_is_capped_at_api_max_rows(ids):
    body = listed({"size": 1000})
    assert len(body["cdr"]) == 3 and body["total"] == 5


@pytest.mark.django_db
def test_the_default_size_is_100(db):
    make_api_user()
    for n in range(101):
        make_call("2026-11-27 10:00:00", caller=str(n))
    body = listed()
    assert len(body["cdr"]) == 100 and body["total"] == 101


@pytest.mark.django_db
def test_it_filters_by_time_range_through_the_engine(ids):
    body = listed({"startTime": "2026-11-24", "startTimeTo": "2026-11-25"})
    assert body["total"] == 2
    assert [row["cdrId"] for row in body["cdr"]] == [ids[2], ids[3]]


@pytest.mark.django_db
def test_it_takes_the_other_getvoipcalls_filters_too(ids):
    body = listed({"caller": "10%", "cdrId": [ids[1], ids[4]]})
    assert [row["cdrId"] for row in body["cdr"]] == [ids[1], ids[4]]


@pytest.mark.django_db
def test_total_is_a_json_number(ids):
    assert isinstance(listed()["total"], int)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"offset": -1}, "params.offset: must be at least 0"),
        ({"size": "many"}, "params.size: expected a whole number"),
        ({"startTime": "garbage"}, "params.startTime: cannot read"),
    ],
)
def test_it_refuses_bad_paging_values(ids, params, fragment):
    assert fragment in reason(call_api(params, task="listCdrIds"))


@pytest.mark.django_db
def test_the_total_of_a_short_page_needs_no_count_and_is_still_exact(ids):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counted(params) -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            body = listed(params)
        cdr = [q["sql"] for q in queries.captured_queries if "auditevent" not in q["sql"]]
        return body, sum("COUNT(" in sql.upper() for sql in cdr)  # not the login throttle's

    assert counted({"size": 10}) == (listed({"size": 10}), 0)
    assert counted({"size": 10})[0]["total"] == 5
    assert counted({"offset": 3, "size": 10})[0]["total"] == 5
    body, count_statements = counted({"size": 2})  # more rows exist: counted
    assert body["total"] == 5 and count_statements == 1
    body, count_statements = counted({"offset": 9, "size": 2})  # past the end: counted
    assert (body["total"], body["cdr"], count_statements) == (5, [], 1)
