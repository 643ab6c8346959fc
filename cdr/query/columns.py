"""Engine rows → a face's answer rows, converted a column at a time.

A face declares its answer once, as a list of ``Out(key, source, convert)``: the answer's key
(in answer order), the engine row key it comes from (``cdr.query.rows``) and an optional
converter of a whole column of a page. ``shape`` reads each source column of the page once,
converts it with one comprehension, and builds the answer's dicts in one pass: per row that
is a fraction of the cost of building each answer row key by key (issue 19: ~20 → ~6 µs for
api.php's 54 keys, docs/benchmarks.md).

The converters give exactly the values of the per-value helpers in ``cdr.query.rows``
(``number``, ``scaled``, ``received_packets``, ``codec_name``), which stay the one definition
of each rule: the hot branch is inlined and every other value goes to the helper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from cdr.query.rows import codec_name, number, received_packets, scaled

Column = Callable[[Sequence[Any]], list]


@dataclass(frozen=True)
class Out:
    """One key of an answer row: ``key`` ← engine row ``source`` (converted by ``convert``)."""

    key: str
    source: str
    convert: Column | None = None


def shape(
    rows: Sequence[dict], spec: Sequence[Out], tail: Sequence[tuple[str, list]] = ()
) -> list[dict]:
    """``rows`` in the answer shape ``spec``, then the ready columns ``tail`` [(key, values)].

    A source the rows lack (a column an older sniffer does not have) gives None.
    """
    if not rows:
        return []
    first = rows[0]
    sources = [s for s in dict.fromkeys(o.source for o in spec) if s in first]
    columns: dict[str, Sequence[Any]] = {}
    if len(sources) == 1:
        columns[sources[0]] = [row[sources[0]] for row in rows]
    elif sources:
        get = itemgetter(*sources)
        columns = dict(zip(sources, zip(*map(get, rows), strict=True), strict=True))
    nones = [None] * len(rows)
    converted: dict[tuple[str, Column | None], Sequence[Any]] = {}
    values: list[Sequence[Any]] = []
    for o in spec:
        key = (o.source, o.convert)
        if key not in converted:
            column = columns.get(o.source, nones)
            converted[key] = o.convert(column) if o.convert is not None else column
        values.append(converted[key])
    keys = [o.key for o in spec]
    for key, column in tail:
        keys.append(key)
        values.append(column)
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


def numbers(column: Sequence[Any]) -> list:
    """``number`` of each value (decimals → JSON numbers)."""
    return [number(v) if v.__class__ is Decimal else v for v in column]


def scaled_by(divisor: int) -> Column:
    """``scaled(value, divisor)`` of each value (``*_multN`` columns)."""
    if divisor not in _SCALED:
        _SCALED[divisor] = lambda column: _scale(column, divisor)
    return _SCALED[divisor]


_SCALED: dict[int, Column] = {}
# Within ±2**53 every int is exact as a float: then ``v / divisor`` of an int that the
# divisor does not divide is what ``scaled`` returns (its rounding to 4 places keeps it as is
# for divisors up to 10**4). The sniffer's ``*_multN`` columns are 8- to 32-bit.
_EXACT = 1 << 53


def _scale(column: Sequence[Any], divisor: int) -> list:
    if divisor > 10_000:
        return [scaled(v, divisor) for v in column]
    return [
        (v // divisor if not v % divisor else v / divisor)
        if v.__class__ is int and -_EXACT < v < _EXACT
        else scaled(v, divisor)
        for v in column
    ]


def packets(column: Sequence[Any]) -> list:
    """``received_packets`` of each value."""
    return [received_packets(v) for v in column]


def codec_names(column: Sequence[Any]) -> list:
    """``codec_name`` of each payload number."""
    return [codec_name(v) for v in column]
