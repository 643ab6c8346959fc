"""The CDR list of the REST API: filters from the one declaration, keyset cursor, CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter

from api.rest.problems import BadParameter
from api.rest.rows import cdr_json, cdr_json_rows
from cdr.query import cursor as keyset
from cdr.query import engine
from cdr.query.cursor import CursorError, encode_cursor
from cdr.query.engine import CdrFilter
from cdr.query.filterspec import ALL_PARAMS, FilterValueError, parse
from cdr.query.scope import CdrScope
from vmgui.csvstream import csv_chunks

ORDERINGS = {"-calldate": True, "calldate": False}
DEFAULT_LIMIT = 100
CSV_CHUNK = 2000


def filter_of(request) -> CdrFilter:
    try:
        return parse(dict(request.query_params.lists()))
    except FilterValueError as exc:
        raise BadParameter({str(exc).split(":", 1)[0]: [str(exc)]}) from None


def limit_of(request) -> int:
    raw = request.query_params.get("limit", "")
    maximum = settings.REST_MAX_PAGE
    if raw == "":
        return min(DEFAULT_LIMIT, maximum)
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= maximum:
        raise BadParameter({"limit": [f"limit: a whole number from 1 to {maximum}"]})
    return int(raw)


def descending_of(request) -> bool:
    ordering = request.query_params.get("ordering", "-calldate")
    if ordering not in ORDERINGS:
        raise BadParameter({"ordering": [f"ordering: one of {', '.join(ORDERINGS)}"]})
    return ORDERINGS[ordering]


def decode_cursor(text: str, descending: bool) -> tuple[dt.datetime, int]:
    """The cursor parameter's position (cdr.query.cursor), or a 400 problem naming it."""
    try:
        return keyset.decode_cursor(text, descending)
    except CursorError:
        raise BadParameter(
            {"cursor": ["cursor: not a cursor of this listing (take `next`)"]}
        ) from None


def page(request, f: CdrFilter, scope: CdrScope, headers: list[str]) -> dict:
    """One cursor page: ``results``, ``next`` (URL or null) and, on ``count=true``, ``count``."""
    descending = descending_of(request)
    limit = limit_of(request)
    cursor = request.query_params.get("cursor")
    after = decode_cursor(cursor, descending) if cursor else None
    rows = engine.page_after(
        f, scope, after=after, descending=descending, limit=limit + 1, custom_headers=headers
    )
    more = len(rows) > limit
    rows = rows[:limit]
    out: dict = {"results": cdr_json_rows(rows), "next": None}
    if more:
        query = request.query_params.copy()
        last = {"calldate": rows.column("calldate")[-1], "ID": rows.column("ID")[-1]}
        query["cursor"] = encode_cursor(last, descending)
        out["next"] = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    if request.query_params.get("count", "").lower() in ("1", "true", "yes"):
        out["count"] = engine.count(f, scope)
    return out


def _flat(row: dict) -> dict:
    out = cdr_json(row)
    for name, value in (out.pop("custom_headers", None) or {}).items():
        out[f"header.{name}"] = value
    return out


def csv_rows(
    f: CdrFilter, scope: CdrScope, headers: list[str], descending: bool
) -> Iterator[bytes]:
    """Every matching CDR as CSV, streamed with flat memory whatever the size.

    Rows are read in keyset pages of ``CSV_CHUNK`` (cdr.query.cursor.keyset_rows, the cursor
    pages of the list). The first page is read now, so a bad filter is a problem JSON answer,
    not a broken download.
    """
    rows = keyset.keyset_rows(
        f, scope, descending=descending, chunk=CSV_CHUNK, custom_headers=headers
    )
    return csv_chunks(_flat(row) for row in rows)


def openapi_parameters() -> list[OpenApiParameter]:
    """The CDR list's query parameters, generated from the filter declaration."""
    params = [
        OpenApiParameter(
            p.name if not p.name.startswith("header.") else "header.X-Header-Name",
            str,
            description=p.help,
        )
        for p in ALL_PARAMS
    ]
    params += [
        OpenApiParameter("cursor", str, description="the `next` link's cursor"),
        OpenApiParameter("limit", int, description="rows per page (default 100)"),
        OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
        OpenApiParameter("count", bool, description="also count every matching CDR (slower)"),
        OpenApiParameter("format", str, enum=["json", "csv"], description="or Accept: text/csv"),
    ]
    return params
