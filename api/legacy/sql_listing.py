"""sql.php's CDR tasks: LISTING (module CDR), TOTAL and LISTING of module CDR_stats.

Parameters are translated by api.legacy.sql_filters; rows come from the CDR query engine with
the caller's scope. A task returns a payload dict (the view wraps it in JSON) or, for
``limit=-1`` and other large pages, a StreamingHttpResponse that writes the JSON row by row.

``total``: a COUNT(*) over weeks of a large table costs many times the page itself
(docs/benchmarks.md, "sql.php total"), so like the old GUI the total may be deferred: the
page answers ``"deferTotal": true`` with a provisional total (enough for the pager to offer
a next page) and the client asks ``task=TOTAL`` for the exact count. When it happens is in
``total_for`` and docs/legacy-sql.md. A page that ends before its limit needs no count at all
(``engine.known_total``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.http import StreamingHttpResponse

from accounts.services import ApiPrincipal
from api.legacy.params import ParamError, bool_value, is_blank, json_text
from api.legacy.sql_filters import Page, listing_filter, order_of, page_of
from api.legacy.tasks_cdr import VOIP_CALL
from cdr.query import engine as query
from cdr.query.columns import Out, scaled_by, shape
from cdr.query.engine import CdrFilter
from cdr.query.page import Capped
from vmgui.legacyjson import dumps

logger = logging.getLogger("api.legacy.sql_php")

# Pages up to this many rows are built in memory; larger ones (and limit=-1) are streamed.
STREAM_ABOVE = 1000
# Rows shaped and written at a time by a streamed listing.
BATCH = 200

STREAM_FAILED = "the listing was cut short by a server error (the server log has the details)"


# sql.php's LISTING row: the GUI's column names (ID / cdr_ID / fbasename instead of api.php's
# cdrId / callId), otherwise the same values and display conversions as api.php, then RTCP.
LISTING: tuple[Out, ...] = (
    Out("ID", "ID"),
    Out("cdr_ID", "ID"),
    *(o for o in VOIP_CALL if o.key not in ("cdrId", "ID", "callId")),
    Out("fbasename", "fbasename"),
    *(
        o
        for side in ("a", "b")
        for o in (
            Out(f"{side}_rtcp_maxjitter", f"{side}_rtcp_maxjitter"),
            Out(f"{side}_rtcp_avgjitter", f"{side}_rtcp_avgjitter_mult10", scaled_by(10)),
            Out(f"{side}_rtcp_maxfr", f"{side}_rtcp_maxfr"),
            Out(f"{side}_rtcp_avgfr", f"{side}_rtcp_avgfr_mult10", scaled_by(10)),
        )
    ),
)


def listing_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Engine rows in sql.php's LISTING shape (``LISTING``)."""
    return shape(rows, LISTING)


def _flag(fields: dict[str, Any], name: str) -> bool | None:
    value = fields.get(name)
    return None if is_blank(value) else bool_value(value, name)


def total_for(f: CdrFilter, principal: ApiPrincipal, defer: bool | None) -> int | None:
    """The exact total, or None when it is deferred.

    ``deferTotal=1`` from the client always defers, ``deferTotal=0`` always counts. Without
    it the count runs under a time budget (settings.SQL_TOTAL_BUDGET_MS, MySQL's own
    statement timeout): exact when cheap, deferred when the server would need longer.
    """
    if defer is True:
        return None
    if defer is False:
        return query.count(f, principal.scope)
    budget = settings.SQL_TOTAL_BUDGET_MS
    return query.count_within(f, principal.scope, budget)


def _provisional(page: Page, shown: int, more: bool) -> int:
    """A deferred total: the rows up to this page, plus one when another row exists."""
    return page.offset + shown + (1 if more else 0)


def listing(
    fields: dict[str, Any], principal: ApiPrincipal, *, require_date: bool = True
) -> dict[str, Any] | StreamingHttpResponse:
    """task=LISTING&module=CDR (and the admin.php deep link, which needs no date)."""
    f = listing_filter(fields, require_date=require_date)
    head = {"success": True, "deferTotal": False, "_vm_version": settings.VM_VERSION}
    if _flag(fields, "suppress_results"):
        return {**head, "total": query.count(f, principal.scope), "results": []}
    page, order = page_of(fields), order_of(fields)
    if page.limit is None:
        # Every row is streamed: the total is counted on the way, exact and free.
        return _streamed(f, principal, page, order, head, total=None, provisional=False)
    defer = _flag(fields, "deferTotal")
    if page.limit <= STREAM_ABOVE:
        # One row more than the page tells whether a next page exists; a page that ends
        # before its limit tells the exact total too, without a count.
        rows = query.fetch_page(
            f, principal.scope, order=order, offset=page.offset, limit=page.limit + 1
        )
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        total = None if defer else query.known_total(page.offset, len(rows), more)
        if total is None:
            total = total_for(f, principal, defer)
        head["deferTotal"] = total is None
        if total is None:
            total = _provisional(page, len(rows), more)
        return {**head, "total": total, "results": listing_rows(rows)}
    total = total_for(f, principal, defer)
    head["deferTotal"] = total is None
    return _streamed(f, principal, page, order, head, total=total, provisional=total is None)


def _streamed(
    f: CdrFilter,
    principal: ApiPrincipal,
    page: Page,
    order: list[str],
    head: dict[str, Any],
    *,
    total: int | None,
    provisional: bool,
) -> StreamingHttpResponse:
    """The listing as a streamed JSON document (see ``_write``)."""
    extra = 1 if provisional and page.limit is not None else 0
    limit = None if page.limit is None else page.limit + extra
    pages = query.iter_pages(
        f, principal.scope, order=order, offset=page.offset, limit=limit, chunk=BATCH
    )
    if total is not None:
        head = {**head, "total": total}

    def final_total(shown: int, more: bool) -> int:
        if provisional:
            return _provisional(page, shown, more)
        # every row from the offset on was streamed; unless the offset was past the end
        known = query.known_total(page.offset, shown, more)
        return query.count(f, principal.scope) if known is None else known

    body = _write(head, pages, page.limit, None if total is not None else final_total)
    return StreamingHttpResponse(body, content_type="application/json")


def _write(
    head: dict[str, Any],
    pages: Iterable[Sequence[dict]],
    limit: int | None,
    final_total: Callable[[int, bool], int] | None,
) -> Iterator[bytes]:
    """``head`` + ``"results": [...]`` written incrementally, in chunks of about 64 KiB.

    ``final_total(shown, more)``, when given, adds ``"total"`` after the rows. A failure
    while streaming cannot change the HTTP status any more: the document is closed with
    ``"success": false`` and an ``error`` after the rows (JSON readers keep the last value
    of a repeated key), and the failure is logged.
    """
    buffer = [dumps(head)[:-1] + b',"results":[']
    size = 0
    # Rows left unread (the page's look-ahead row) are discarded when the loop ends, and
    # the whole stream when it fails: the engine streams them from a cursor that holds the
    # connection, and the total and the next request need it.
    try:
        # Rows are shaped and written a page at a time (one comprehension per column, one
        # JSON call per page); the engine reads BATCH rows a page, so memory stays bounded.
        with Capped(pages, limit) as rows:
            for batch in rows:
                text = dumps(listing_rows(batch))[1:-1]  # the rows without their brackets
                buffer.append(b"," + text if rows.shown > len(batch) else text)
                size += len(text)
                if size >= 65536:
                    yield b"".join(buffer)
                    buffer, size = [], 0
        tail = b"]"
        if final_total is not None:
            tail += b',"total":%d' % int(final_total(rows.shown, rows.more))
        yield b"".join(buffer) + tail + b"}"
    except Exception:
        logger.exception("sql.php listing failed while streaming")
        error = {"type": "internal", "descr": STREAM_FAILED}
        yield b"".join(buffer) + b'],"success":false,"error":' + dumps(error) + b"}"


def total(fields: dict[str, Any], principal: ApiPrincipal) -> dict[str, Any]:
    """task=TOTAL: the exact number of calls of the same filters (never deferred)."""
    f = listing_filter(fields)
    return {"success": True, "total": query.count(f, principal.scope)}


# group_by: the names clients send → the engine's group names (cdr.query.engine.GROUPS).
GROUP_NAMES = {
    "lastsipresponse": "lastSIPresponse",
    "lastsipresponsenum": "lastSIPresponse",
    "sipresponse": "lastSIPresponse",
    "sensor": "sensor",
    "sensors": "sensor",
    "id_sensor": "sensor",
    "sensor_id": "sensor",
    "fsensor_id": "sensor",
}
# The GUI group panel's numeric codes. Only the codes a real client shows are accepted:
# 4 = last SIP response (monitoring exporters send group_by=4 and read lastSIPresponse,
# lastSIPresponseNum, cnt_all). Other codes are refused with this list rather than guessed.
GROUP_CODES = {"4": "lastSIPresponse"}
ACCEPTED_GROUPS = (
    "codes: "
    + ", ".join(f"{code} = {name}" for code, name in GROUP_CODES.items())
    + "; names: lastSIPresponse (lastSIPresponseNum, sipresponse), id_sensor (sensor, sensor_id)"
)
# Bounds on what is read from group_by / needColumns (any longer input is cut, not parsed).
MAX_GROUP_ITEMS = 8
MAX_COLUMNS_TEXT = 4096
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _group_items(value: Any) -> list[Any]:
    if isinstance(value, str) and value.strip().startswith("["):
        value = json_text(value, "group_by")  # bounded depth (a deep list is refused)
    if isinstance(value, list):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    return str(value).split(",")


def group_names(value: Any) -> list[str]:
    """``group_by``: a name or numeric code, a comma list or a JSON list; default: last SIP
    response. An unknown item is refused with the accepted codes and names."""
    if is_blank(value):
        return ["lastSIPresponse"]
    groups: list[str] = []
    for item in _group_items(value)[:MAX_GROUP_ITEMS]:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        name = str(item).strip()
        if not name:
            continue
        group = GROUP_CODES.get(name) or GROUP_NAMES.get(name.lower())
        if group is None:
            raise ParamError(f"group_by: cannot group by {name[:40]!r} ({ACCEPTED_GROUPS})")
        if group not in groups:
            groups.append(group)
    return groups or ["lastSIPresponse"]


def need_columns(value: Any) -> list[str]:
    """``needColumns`` read leniently, never an error: a JSON list, the same URL-encoded, or
    broken text such as ``%5B%22lastSIPresponse%22%2C%22cnt_ok%22%lastSIPresponseNum%22%``
    (what a deployed exporter sends): the column names found in it, in order."""
    if is_blank(value):
        return []
    if isinstance(value, list):
        value = ",".join(str(v) for v in value[:64])
    text = unquote(str(value)[:MAX_COLUMNS_TEXT])
    return list(dict.fromkeys(_COLUMN_NAME.findall(text)))


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def stats(fields: dict[str, Any], principal: ApiPrincipal) -> dict[str, Any]:
    """task=LISTING&module=CDR_stats: counts per group (cnt_all, cnt_ok) over the filters.

    Every group is answered (``limit``, ``page``, ``start`` and the GUI's bookkeeping fields
    are ignored). ``needColumns`` does not narrow the rows: every row has its group keys,
    ``cnt_all`` and ``cnt_ok``. ``needPercentile`` (true) adds ``cnt_all_percent``: the
    group's share of all matching calls, 0-100. Docs: docs/legacy-sql.md, "CDR_stats".
    """
    f = listing_filter(fields)
    groups = group_names(fields.get("group_by"))
    need_columns(fields.get("needColumns"))  # read (bounded, lenient) and accepted
    rows = query.aggregate(f, principal.scope, groups)
    if _lenient_flag(fields.get("needPercentile")):
        whole = sum(row["cnt_all"] for row in rows)
        for row in rows:
            row["cnt_all_percent"] = _percent(row["cnt_all"], whole)
    return {"success": True, "total": len(rows), "results": rows}


def _lenient_flag(value: Any) -> bool:
    """A GUI flag that must never refuse a request: true for 1/true/yes/on, else false."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
