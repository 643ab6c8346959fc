"""Custom SIP headers: which column holds a header's value.

Two storage kinds exist (sniffer-schema §3.1): fixed columns ``cdr_next.custom_header__<Name>``
and dynamic tables ``cdr_next_<table>.custom_header_<column>``, both described by the GUI-owned
``cdr_custom_headers`` table. Headers configured only in the sniffer's ``custom_headers_cdr``
have a fixed column and no row; they are found by introspection.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.db import connections, router

from cdr import schema
from cdr.models import CDR_NEXT_MAX, CdrCustomHeader


@dataclass(frozen=True)
class CustomHeader:
    """Where one custom header is stored. ``column`` is the fixed column, or the dynamic one."""

    name: str
    column: str
    dynamic_table: int | None = None
    dynamic_column: int | None = None


@dataclass(frozen=True)
class _Definition:
    """The columns of a ``cdr_custom_headers`` row that say where a header is stored."""

    name: str | None = None
    header_field: str | None = None
    type: str | None = None
    dynamic_table: int | None = None
    dynamic_column: int | None = None
    state: str | None = None


_DEFINITION_FIELDS = tuple(f.name for f in fields(_Definition))


def _read_definitions() -> list[_Definition]:
    """Every definition, in id order, read with one plain statement: the ORM's query and
    model instances of all ~20 columns cost ~0.5 ms, this ~0.1 ms, on every request that
    shows or filters custom headers (issue 19). A column an older table lacks reads as None,
    as the ORM's deferred fields did."""
    if not schema.has_table("cdr_custom_headers"):
        return []
    present = set(schema.present_fields(CdrCustomHeader))
    names = [name for name in _DEFINITION_FIELDS if name in present]
    if not names:  # a table without these columns locates no header
        return []
    using = router.db_for_read(CdrCustomHeader)
    qn = connections[using].ops.quote_name
    meta = CdrCustomHeader._meta
    select = ", ".join(qn(meta.get_field(name).column) for name in names)
    order = f" ORDER BY {qn(meta.pk.column)}" if "id" in present else ""
    # Identifiers come from the model and introspection; nothing from a request.
    sql = f"SELECT {select} FROM {qn(meta.db_table)}{order}"  # noqa: S608
    with connections[using].cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [_Definition(**dict(zip(names, row, strict=True))) for row in rows]


# The definitions are read at most once per request: a list that shows every header names
# them (``header_names``) and then resolves them (``resolve_custom_headers``), which read the
# same table twice. The memo lives from Django's request_started to request_finished and is
# dropped when a definition is saved or deleted, so a change shows in the next request, as
# before; outside a request (commands, tests between requests) every call reads the table.
_request = threading.local()
_UNREAD = object()


def begin_request(**_: Any) -> None:
    _request.definitions = _UNREAD


def end_request(**_: Any) -> None:
    _request.definitions = None


def forget_definitions(**_: Any) -> None:
    if getattr(_request, "definitions", None) is not None:
        _request.definitions = _UNREAD


def _defined_headers() -> list[_Definition]:
    memo = getattr(_request, "definitions", None)
    if memo is None:  # not in a request
        return _read_definitions()
    if memo is _UNREAD:
        memo = _request.definitions = _read_definitions()
    return memo


def _fixed_columns() -> dict[str, str]:
    return {h.lower(): column for h, column in schema.fixed_custom_header_columns().items()}


def resolve_custom_header(name: str) -> CustomHeader | None:
    """Find the storage of a header by its SIP header name (or its GUI name), case-insensitive."""
    return _resolve(name, _defined_headers(), _fixed_columns())


def resolve_custom_headers(names: Sequence[str]) -> list[CustomHeader | None]:
    """``resolve_custom_header`` of each name, the definitions read once for all of them."""
    if not names:
        return []
    rows, fixed = _defined_headers(), _fixed_columns()
    return [_resolve(name, rows, fixed) for name in names]


def _resolve(name: str, rows: list[_Definition], fixed: dict[str, str]) -> CustomHeader | None:
    wanted = name.strip().lower()
    if not wanted:
        return None
    for row in rows:
        if (row.state or "active") == "delete":
            continue
        names = [
            n.strip().lower() for n in (row.header_field or "").replace("\r", "\n").split("\n")
        ]
        if wanted not in names and wanted != (row.name or "").strip().lower():
            continue
        if row.type == "fixed" or row.type is None:
            header = (row.header_field or "").split("\n")[0].strip().replace(" ", "_").lower()
            if header in fixed:
                return CustomHeader(name, fixed[header])
            continue
        table, column = row.dynamic_table, row.dynamic_column
        if not (table and column and 1 <= table <= CDR_NEXT_MAX and 1 <= column <= 10):
            continue
        if schema.has_column(f"cdr_next_{table}", f"custom_header_{column}"):
            return CustomHeader(name, f"custom_header_{column}", table, column)
    key = wanted.replace(" ", "_")
    if key in fixed:
        return CustomHeader(name, fixed[key])
    return None


def dynamic_header(table: int, column: int, name: str | None = None) -> CustomHeader | None:
    """A dynamic header addressed by position (sql.php's ``fcustom_header_<table>_<column>``)."""
    if not (1 <= table <= CDR_NEXT_MAX and 1 <= column <= 10):
        return None
    if not schema.has_column(f"cdr_next_{table}", f"custom_header_{column}"):
        return None
    return CustomHeader(
        name or f"custom_header_{table}_{column}", f"custom_header_{column}", table, column
    )


def header_names() -> list[str]:
    """Every custom header this database defines (first SIP name of each active definition,
    then the fixed columns' names), for faces that show "all custom headers"."""
    names: list[str] = []
    rows, fixed = _defined_headers(), _fixed_columns()  # read once, not once per header
    for row in rows:
        if (row.state or "active") == "delete":
            continue
        first = (row.header_field or "").replace("\r", "\n").split("\n")[0].strip()
        if first and _resolve(first, rows, fixed) is not None:
            names.append(first)
    known = {n.lower().replace(" ", "_") for n in names}
    names += [h for h in schema.fixed_custom_header_columns() if h.lower() not in known]
    return names
