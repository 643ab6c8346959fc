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
