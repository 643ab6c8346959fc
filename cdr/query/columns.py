"""Engine rows → a face's answer rows, converted a column at a time.

A face declares its answer once, as a list of ``Out(key, source, convert)``: the answer's key
(in answer order), the engine row key it comes from (``cdr.query.rows``) and an optional
converter of a whole column of a page. ``shape`` reads each source column of the page once
(a ``cdr.query.page.Page`` is read as the columns it is), converts it with one pass, and
builds the answer's dicts in one pass: per row that is a fraction of the cost of building
each answer row key by key (issue 19, docs/benchmarks.md).

The converters give exactly the values of the per-value helpers in ``cdr.query.rows``
(``number``, ``scaled``, ``received_packets``, ``codec_name``), which stay the one definition
of each rule: a column of repeating values calls the helper once per distinct value
(``map_distinct``), and ``numbers`` inlines its hot branch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from cdr.query.page import Page, map_ints
from cdr.query.rows import codec_name, received_packets, scaled

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
    """``rows`` (a ``Page`` or row dicts) in the answer shape ``spec``, then the ready columns
    ``tail`` [(key, values)].

    A source the rows lack (a column an older sniffer does not have) gives None.
    """
    if not rows:
        return []
    plan = _plan_of(spec)
    columns = _source_columns(rows, plan.sources)
    nones = [None] * len(rows)
    converted = []
    for source, convert in plan.steps:
        column = columns.get(source, nones)
        converted.append(convert(column) if convert is not None else column)
    values = [converted[step] for step in plan.picks]
    keys = plan.keys
    if tail:
        keys = [*keys, *(key for key, _ in tail)]
        values += [column for _, column in tail]
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


@dataclass(frozen=True)
class _Plan:
    """A spec read once: its keys, its distinct sources and conversions, and which
    conversion gives each key."""

    keys: list[str]
    sources: list[str]
    steps: list[tuple[str, Column | None]]
    picks: list[int]


_PLANS: dict[int, tuple[Sequence[Out], _Plan]] = {}


def _plan_of(spec: Sequence[Out]) -> _Plan:
    """The plan of ``spec``, made once per spec object (the faces' specs are constants; a
    one-row answer otherwise spends more time reading its 54-key spec than its row)."""
    found = _PLANS.get(id(spec))
    if found is not None and found[0] is spec:
        return found[1]
    steps = list(dict.fromkeys((o.source, o.convert) for o in spec))
    index = {step: n for n, step in enumerate(steps)}
    plan = _Plan(
        keys=[o.key for o in spec],
        sources=list(dict.fromkeys(o.source for o in spec)),
        steps=steps,
        picks=[index[(o.source, o.convert)] for o in spec],
    )
    if len(_PLANS) >= 64:  # specs made on the fly (tests): keep the memory bounded
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, plan)  # the spec is kept alive, so its id is not reused
    return plan


def _source_columns(rows: Sequence[dict], sources: Sequence[str]) -> dict[str, Sequence[Any]]:
    """{source: its values} of the ``sources`` the rows have."""
    if isinstance(rows, Page):  # already columns
        return rows.columns_of(sources)
    first = rows[0]
    present = [s for s in sources if s in first]
    if len(present) == 1:
        return {present[0]: [row[present[0]] for row in rows]}
    if not present:
        return {}
    get = itemgetter(*present)
    return dict(zip(present, zip(*map(get, rows), strict=True), strict=True))


def numbers(column: Sequence[Any]) -> list:
    """``number`` of each value (decimals → JSON numbers)."""
    # ``number``'s rule inlined for decimals (durations in decimal(9,3) columns vary too much
    # to repeat): whole → int, else float.
    return [
        (int(v) if v == v.to_integral_value() else float(v)) if v.__class__ is Decimal else v
        for v in column
    ]


def scaled_by(divisor: int) -> Column:
    """``scaled(value, divisor)`` of each value (``*_multN`` columns)."""
    if divisor not in _SCALED:
        _SCALED[divisor] = lambda column: _scale(column, divisor)
    return _SCALED[divisor]


_SCALED: dict[int, Column] = {}


def _scale(column: Sequence[Any], divisor: int) -> list:
    # A *_multN column holds a few hundred distinct small ints: each is scaled once.
    return map_ints(lambda v: scaled(v, divisor), column)


def packets(column: Sequence[Any]) -> list:
    """``received_packets`` of each value."""
    return [received_packets(v) for v in column]


def codec_names(column: Sequence[Any]) -> list:
    """``codec_name`` of each payload number."""
    return map_ints(codec_name, column)
