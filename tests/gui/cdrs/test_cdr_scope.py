"""A restricted user never sees another sensor's (or number's) call: not in the table, the
chart, the count, the CSV, the sensor list or through a search that names it."""

from __future__ import annotations

import pytest

from tests.gui.cdrs.listsupport import ALL_DAY, ids_of, world
from tests.gui.support import signed_in

__all__ = ["world"]

SENSOR_ONE = {"ok", "fail", "late"}


def names(world, ids) -> set[str]:
    by_id = {v: k for k, v in world.ids.items()}
    return {by_id[i] for i in ids}


def test_a_sensor_restricted_user_sees_only_that_sensor_everywhere(world):
    client = signed_in("praha-only", ("can_cdr",), enable_sensors="1")
    response = client.get("/cdrs/", ALL_DAY)
    assert names(world, ids_of(response)) == SENSOR_ONE
    body = response.content.decode()
    assert '<span id="cdr-total">3</span> calls' in body
    assert "Brno-2" not in body and "山田" not in body  # not even in the sensor choices
    assert ">3</td>" not in body.split('id="chart-table"', 1)[1]  # no hour holds 3 of them
    # asking for the other sensor finds nothing rather than its calls
    response = client.get("/cdrs/", {**ALL_DAY, "sensor": "2"})
    assert ids_of(response) == [] and '<span id="cdr-total">0</span>' in response.content.decode()
    csv = b"".join(
        client.get("/cdrs/export.csv", {**ALL_DAY, "columns": "caller"}).streaming_content
    )
    assert csv.decode().splitlines()[1:] == ["2026-11-26 22:10:00,jiří.novák,alpha.example.com",
                                             "2026-11-26 09:15:00,😀bot,例え.jp",
                                             "2026-11-26 08:00:00,+420601111111,žluťoučký.cz"]  # fmt: skip
    # a column sort and a deep link keep the scope
    sorted_page = client.get("/cdrs/", {**ALL_DAY, "sort": "-duration"})
    assert names(world, ids_of(sorted_page)) == SENSOR_ONE
    linked = client.get('/admin.php?cdr_filter={fcaller:"山田"}', follow=True)
    assert ids_of(linked) == []


def test_a_number_restricted_user_sees_only_matching_numbers(world):
    client = signed_in("czech-only", ("can_cdr",), number="+420%")
    response = client.get("/cdrs/", {**ALL_DAY, "window": "all"})
    assert names(world, ids_of(response)) == {"ok"}
    assert '<span id="cdr-total">1</span> calls' in response.content.decode()


@pytest.mark.parametrize("flags", [("can_activecalls",), ()])
def test_without_can_cdr_no_page_no_export_no_deep_link(world, flags):
    client = signed_in(f"no-cdr-{len(flags)}", flags)
    for url in ("/cdrs/", "/cdrs/export.csv?window=all", '/admin.php?cdr_filter={fcaller:"1001"}'):
        response = client.get(url)
        assert response.status_code == 403
        assert b"1001" not in response.content and b"can_cdr" in response.content
