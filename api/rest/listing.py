"""The CDR list of the REST API: filters from the one declaration, keyset cursor, CSV."""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

from django.conf import settings
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter

from api.rest.problems import BadParameter
from api.rest.rows import cdr_json
from cdr.query import engine
from cdr.query.engine import CdrFilter
from cdr.query.filterspec import ALL_PARAMS, FilterValueError, parse
from cdr.query.scope import CdrScope

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


def encode_cursor(row: dict, descending: bool) -> str:
    calldate = row["calldate"]
    raw = json.dumps([calldate.isoformat(), row["ID"], descending]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, descending: bool) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) if len(text) < 200 else b""
        calldate, last_id, direction = json.loads(raw)
        when = parse_datetime(calldate)
        if when is None or not isinstance(last_id, int) or direction is not descending:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadParameter(
            {"cursor": ["cursor: not a cursor of this listing (take `next`)"]}
        ) from None
    return when, last_id


def page(request, f: CdrFilter, scope: CdrScope, headers: list[str]) -> dict:
    """One cursor page: ``results``, ``next`` (URL or null) and, on ``count=true``, ``count``."""
    descending = descending_of(request)
    limit = limit_of(request)
    cursor = request.query_params.get("cursor")
    after = decode_cursor(cursor, descending) if cursor else None
    rows = engine.fetch_after(
        f, scope, after=after, descending=descending, limit=limit + 1, custom_headers=headers
    )
    more = len(rows) > limit
    rows = rows[:limit]
    out: dict = {"results": [cdr_json(r) for r in rows], "next": None}
    if more:
        query = request.query_params.copy()
        query["cursor"] = encode_cursor(rows[-1], descending)
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

    Rows are read in keyset pages of ``CSV_CHUNK`` (the cursor pages of the list): each page
    is its own small query, so neither the database driver (mysqlclient buffers a whole
    result set) nor Python ever holds more than one page. The first page is read now, so a
    bad filter is a problem JSON answer, not a broken download.
    """
    first = engine.fetch_after(
        f, scope, descending=descending, limit=CSV_CHUNK, custom_headers=headers
    )

    def pages() -> Iterator[dict]:
        page = first
        while page:
            yield from page
            if len(page) < CSV_CHUNK:
                return
            last = page[-1]
            page = engine.fetch_after(
                f,
                scope,
                after=(last["calldate"], last["ID"]),
                descending=descending,
                limit=CSV_CHUNK,
                custom_headers=headers,
            )

    return _csv(pages())


def _csv(rows) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = None
    for row in rows:
        flat = _flat(row)
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(flat), extrasaction="ignore")
            writer.writeheader()
        writer.writerow(flat)
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if writer is None:
        yield b""
    elif buffer.tell():
        yield buffer.getvalue().encode()


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
