"""Engine rows → JSON values of the REST API (ISO 8601 times with offset, plain numbers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cdr.codecnumbers import codec_name
from cdr.query.columns import codec_names
from cdr.query.page import Page


def value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return timezone.localtime(v).isoformat() if timezone.is_aware(v) else v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    return v


def cdr_json(row: dict) -> dict:
    """One engine row as the REST API shows a CDR: sniffer column names, plus codec names."""
    out = {k: value(v) for k, v in row.items()}
    for side in ("a", "b"):
        payload = row.get(f"{side}_payload")
        if payload is not None:
            out[f"{side}_codec"] = codec_name(payload)
    return out


# Values JSON writes as they are: a column of only these needs no conversion.
_PLAIN = frozenset({int, str, float, bool, type(None)})


def cdr_json_rows(rows: Sequence[dict]) -> list[dict]:
    """``[cdr_json(row) for row in rows]``, a column at a time for an engine ``Page``.

    A column whose values JSON writes as they are (numbers, texts, NULL: most of a CDR) is
    taken as it is; the others (dates, decimals) go through ``value`` (issue 19).
    """
    if not isinstance(rows, Page) or not rows:
        return [cdr_json(row) for row in rows]
    keys = rows.keys()
    columns = [_json_column(rows.column(key)) for key in keys]
    names = rows.header_names()
    keys = [*keys, "custom_headers"]
    if names:
        found = zip(*(rows.header(name) for name in names), strict=True)
        columns.append([{n: value(v) for n, v in zip(names, row, strict=True)} for row in found])
    else:
        columns.append([{} for _ in range(len(rows))])
    out = [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
    for side in ("a", "b"):
        payloads = rows.column(f"{side}_payload")
        if payloads is None:
            continue
        key = f"{side}_codec"
        for row, payload, name in zip(out, payloads, codec_names(payloads), strict=True):
            if payload is not None:
                row[key] = name
    return out


def _json_column(column: Sequence[Any]) -> Sequence[Any]:
    """``value`` of each value of a column, by the column's kind of values."""
    kinds = set(map(type, column))
    if kinds <= _PLAIN:
        return column
    kinds.discard(type(None))
    if kinds == {dt.datetime}:
        zone = timezone.get_current_timezone()  # timezone.localtime's zone
        return [
            v if v is None else (v.astimezone(zone) if v.utcoffset() is not None else v).isoformat()
            for v in column
        ]
    if kinds == {Decimal}:
        return [v if v is None else float(v) for v in column]
    return [value(v) for v in column]
