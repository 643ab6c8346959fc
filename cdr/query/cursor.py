"""Keyset positions in the CDR list (calldate, ID) as opaque URL-safe cursors, and streaming.

A cursor names the last row a page showed, and the direction of the listing; the next page is
``engine.fetch_after`` that position: an index range on ``calldate``, as cheap at page 10,000
as at page 1, and stable while the sniffer inserts calls. Faces that page through the CDR list
(the REST API's ``next`` links, the GUI's older/newer links) and every export that streams a
whole listing (REST and GUI CSV) share this module.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator, Sequence

from django.utils.dateparse import parse_datetime

from cdr.query import engine
from cdr.query.engine import CdrFilter
from cdr.query.scope import CdrScope

# Longer text cannot be a cursor of ours (a calldate, an id and a flag); refused unread.
MAX_CURSOR_LENGTH = 200


class CursorError(ValueError):
    """Text that is not a cursor of this listing (or one of the other direction)."""


def encode_cursor(row: dict, descending: bool) -> str:
    """The position just after ``row`` (an engine row: ``calldate``, ``ID``) in one direction."""
    raw = json.dumps([row["calldate"].isoformat(), row["ID"], descending]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, descending: bool) -> tuple[dt.datetime, int]:
    """(calldate, ID) of a cursor made for ``descending``; CursorError for anything else."""
    try:
        if len(text) >= MAX_CURSOR_LENGTH:
            raise ValueError
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        calldate, last_id, direction = json.loads(raw)
        when = parse_datetime(calldate)
        if (
            when is None
            or not isinstance(last_id, int)
            or isinstance(last_id, bool)
            or direction is not descending
        ):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise CursorError("not a cursor of this listing") from None
    return when, last_id


def keyset_rows(
    f: CdrFilter,
    scope: CdrScope,
    *,
    descending: bool = True,
    chunk: int = 2000,
    custom_headers: Sequence[str] = (),
) -> Iterator[dict]:
    """Every matching CDR in calldate order, read in keyset pages of ``chunk`` rows.

    For exports of any size with flat memory: each page is its own small query, so neither
    the database driver (mysqlclient buffers a whole result set) nor Python ever holds more
    than one page. The first page is read at the call, so a bad filter (an unknown custom
    header, a missing column) raises here, before a response starts.
    """
    first = engine.fetch_after(
        f, scope, descending=descending, limit=chunk, custom_headers=custom_headers
    )

    def pages() -> Iterator[dict]:
        page = first
        while page:
            yield from page
            if len(page) < chunk:
                return
            last = page[-1]
            page = engine.fetch_after(
                f,
                scope,
                after=(last["calldate"], last["ID"]),
                descending=descending,
                limit=chunk,
                custom_headers=custom_headers,
            )

    return pages()
