"""Answer rows built a column at a time (cdr.query.columns, issue 19).

The column converters must give exactly what the per-value rules in cdr.query.rows give:
faces switched from one to the other without a byte of their answers changing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cdr.query.columns import Out, codec_names, numbers, packets, scaled_by, shape
from cdr.query.rows import codec_name, number, received_packets, scaled

# The sniffer's *_multN columns are 8- to 32-bit; the edges of exact float arithmetic and
# values that are not ints at all go through the per-value rule.
VALUES = [
    None, 0, 1, 5, 9, 10, 11, 45, 99, 100, 101, 999, 1000, 1001, 4095, 65535, 99999,
    2**32 - 1, -1, -10, -15, 2**53 - 1, 2**53, 2**53 + 1, 2**60 + 3, -(2**53) - 7,
    Decimal("4.5"), Decimal("45"), Decimal("0.0001"), 3.25, 7.0,
]  # fmt: skip


@pytest.mark.parametrize("divisor", [1, 10, 100, 1000, 10_000, 100_000])
def test_scaled_columns_equal_the_per_value_rule(divisor):
    got = scaled_by(divisor)(VALUES)
    want = [scaled(v, divisor) for v in VALUES]
    assert got == want
    assert [type(v) for v in got] == [type(v) for v in want]  # 4 stays int, 4.5 stays float


def test_every_int_a_mult10_column_can_hold_scales_as_the_rule_does():
    column = list(range(0, 65536))
    assert scaled_by(10)(column) == [scaled(v, 10) for v in column]
    column = list(range(0, 2_000_000, 7))
    assert scaled_by(1000)(column) == [scaled(v, 1000) for v in column]


def test_numbers_packets_and_codec_names_equal_their_rules():
    values = [None, 0, 5, Decimal("12"), Decimal("12.5"), 2.5, 1]
    assert numbers(values) == [number(v) for v in values]
    assert [type(v) for v in numbers(values)] == [type(number(v)) for v in values]
    received = [None, 0, 1, 2, 3, 1500]
    assert packets(received) == [received_packets(v) for v in received]
    payloads = [None, 0, 8, 18, 9, 96, 12345]
    assert codec_names(payloads) == [codec_name(v) for v in payloads]


def test_shape_follows_the_spec_order_and_repeats_a_source():
    rows = [{"ID": 7, "x": 45, "y": "a"}, {"ID": 8, "x": None, "y": "b"}]
    spec = [Out("first", "y"), Out("id", "ID"), Out("again", "ID"), Out("x", "x", scaled_by(10))]
    got = shape(rows, spec, tail=[("h", ["one", None])])
    assert got == [
        {"first": "a", "id": 7, "again": 7, "x": 4.5, "h": "one"},
        {"first": "b", "id": 8, "again": 8, "x": None, "h": None},
    ]
    assert [list(r) for r in got] == [["first", "id", "again", "x", "h"]] * 2


def test_a_column_the_rows_lack_is_none():
    """An older sniffer's table has fewer columns: the engine rows lack the key."""
    rows = [{"ID": 1}, {"ID": 2}]
    got = shape(rows, [Out("cdrId", "ID"), Out("a_mos_adapt", "a_mos_adapt_mult10", scaled_by(10))])
    assert got == [{"cdrId": 1, "a_mos_adapt": None}, {"cdrId": 2, "a_mos_adapt": None}]


def test_no_rows_shape_to_no_rows():
    assert shape([], [Out("cdrId", "ID")]) == []


def test_one_source_column_is_read_as_a_column():
    assert shape([{"ID": 1}, {"ID": 2}], [Out("cdrId", "ID")]) == [{"cdrId": 1}, {"cdrId": 2}]


# --- the engine's column converters (cdr.query.rows) -------------------------------------------


def test_address_columns_decode_as_decode_ip_does():
    from cdr.fields import decode_ip
    from cdr.query.rows import _addresses

    ints = [None, 0, 1, 2130706443, 0xFFFFFFFF, 3232235777, 3232235777]
    assert _addresses(ints) == [decode_ip(v) for v in ints]
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    binary = [None, b"\x7f\x00\x00\x0b", v6, v6, b"\x7f\x00\x00\x0b", b""]
    assert _addresses(binary) == [decode_ip(v) for v in binary]
    assert _addresses([memoryview(b"\x7f\x00\x00\x0b")]) == ["127.0.0.11"]  # unhashable


@pytest.mark.parametrize("bad", [2**32, -1])
def test_an_address_out_of_range_fails_as_decode_ip_fails(bad):
    from cdr.fields import decode_ip
    from cdr.query.rows import _addresses

    with pytest.raises(ValueError) as want:
        decode_ip(bad)
    with pytest.raises(ValueError) as got:
        _addresses([1, bad])
    assert type(got.value) is type(want.value)


def test_datetime_columns_become_aware_as_replace_makes_them():
    import datetime as dt
    import zoneinfo

    from cdr.query.rows import _aware

    zone = zoneinfo.ZoneInfo("Europe/Prague")
    column = [
        None,
        dt.datetime(2026, 10, 25, 2, 30),  # the hour that happens twice
        dt.datetime(2026, 10, 25, 2, 30, fold=1),
        dt.datetime(2026, 3, 29, 2, 30),  # the hour that does not exist
        dt.datetime(2026, 11, 27, 4, 3, 38, 631000),
    ]
    got = _aware(column, zone)
    want = [v if v is None else v.replace(tzinfo=zone) for v in column]
    assert got == want
    assert [v and (v.fold, v.utcoffset(), v.tzinfo) for v in got] == [
        v and (v.fold, v.utcoffset(), v.tzinfo) for v in want
    ]


def test_map_distinct_calls_once_per_value_and_maps_unhashable_values_too():
    from cdr.query.page import map_distinct

    calls = []

    def upper(v):
        calls.append(v)
        return v.upper()

    column = ["a", "b", "a", "a"] * 10
    assert map_distinct(upper, column) == ["A", "B", "A", "A"] * 10
    assert calls == ["a", "b"]
    assert map_distinct(len, [[1], [1, 2]] * 10) == [1, 2] * 10
    calls.clear()
    assert map_distinct(upper, ["a", "a"]) == ["A", "A"]  # a short column: value by value
    assert calls == ["a", "a"]


def test_a_mixed_column_is_scaled_value_by_value():
    """45 and Decimal("45") are equal keys but scale to a float and a Decimal."""
    column = [45, Decimal("45"), 45]
    assert [type(v) for v in scaled_by(10)(column)] == [type(scaled(v, 10)) for v in column]
