"""The CDR query engine: one typed filter → one index-friendly query, for every face.

``CdrFilter`` is what a face fills from its own parameters (api.php's getVoipCalls, sql.php's
LISTING filters, the REST API, the GUI). ``cdr_queryset`` turns it, together with the caller's
``CdrScope`` (cdr.query.scope, the one restriction point), into a queryset on ``cdr`` that:

- bounds ``calldate`` whenever a time range is known (partition pruning, calldate index);
- compares raw columns only (no functions on indexed columns; suffix searches use *_reverse);
- takes every user value as a query parameter, never as SQL text.

``fetch_rows`` runs it and enriches one page of rows with the lookup tables (SIP response
texts, user agents, sensor names) and cdr_next data (Call-ID, custom headers) in a few batched
queries, returning plain dicts (cdr.query.rows) that faces format as they need.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections, router
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncHour

from cdr import schema
from cdr.models import CDR_NEXT_MODELS, Cdr, CdrCustomHeader, CdrNext, CdrSipResponse, Sensor
from cdr.query.customheaders import (
    CustomHeader,
    dynamic_header,
    resolve_custom_headers,
)
from cdr.query.errors import QueryError
from cdr.query.ipfilter import ip_q
from cdr.query.page import Page
from cdr.query.patterns import Pattern, like_sql, patterns_q
from cdr.query.rows import fetch_joined, lookup_texts, stream_pages, window_conditions
from cdr.query.scope import CdrScope, header_visible, scope_q
from cdr.query.storedtext import search_value

# Exact Call-IDs are looked up in cdr_next this many at a time: a batch larger than one chunk
# (listCdrIds with thousands of Call-IDs) runs as several bounded queries instead of one
# giant IN list (one such request with 60k values drove MariaDB to 21 GB).
ID_CHUNK = 1000
# Offsets and limits beyond this are refused: 2**53 - 1 is the largest whole number every
# client (JavaScript) can send exactly, and offset + limit still fits a signed 64-bit LIMIT.
MAX_ROW_NUMBER = 2**53 - 1
_INT64 = (-(2**63), 2**63 - 1)

_T = TypeVar("_T")

NO_CDR_TABLE = "this database has no cdr table (run manage.py create_sniffer_schema)"


@dataclass
class CdrFilter:
    """Every CDR filter any face supports. Unset (None / empty) means "no condition".

    Datetimes are aware (faces convert user input from the user's zone). Number/domain values
    are patterns (cdr.query.patterns). ``numbers_or`` combines ``caller`` and ``called`` with OR
    instead of AND (api.php's ``msisdn``, sql.php's ``fcallerd_type=0``).
    """

    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    callend_to: dt.datetime | None = None
    cdr_ids: Sequence[int] = ()
    call_ids: Sequence[str] = ()
    caller: Sequence[str] = ()
    called: Sequence[str] = ()
    numbers_or: bool = False
    caller_domain: Sequence[str] = ()
    called_domain: Sequence[str] = ()
    sipcallerip: Sequence[str] = ()
    sipcalledip: Sequence[str] = ()
    sensors: Sequence[int | None] = ()
    sip_responses: Sequence[int] = ()
    duration_gt: float | None = None
    duration_lt: float | None = None
    only_connected: bool = False
    codecs: Sequence[int] = ()
    custom_headers: dict[str, str] = field(default_factory=dict)
    # Extra conditions on plain cdr columns, built by faces from declared filter tables
    # (e.g. sql.php's RTP quality filters): column lookup → value.
    column_conditions: dict[str, object] = field(default_factory=dict)


def _column_condition_q(key: str, value: object) -> Q:
    """One ``column_conditions`` entry: ``lookup`` or ``lookup|lookup|...`` (any of them).

    The ``|`` form compares the same value against several columns and matches when one of
    them does (e.g. the caller's OR the called party's MOS). Every column must exist: a
    column the sniffer skipped is a QueryError, never a silently ignored condition. NULL
    columns ("not measured") never match a comparison.
    """
    q = Q()
    for lookup in key.split("|"):
        column = lookup.split("__", 1)[0]
        if not schema.has_column("cdr", column):
            raise QueryError(f"this database has no column {column!r} (the sniffer skipped it)")
        q |= Q(**{lookup: value})
    return q


def check_bounds(f: CdrFilter) -> None:
    """Refuse a filter larger than the configured bounds (QueryError naming the setting).

    Faces check their own parameters first (with the parameter's name); this is the core's
    guarantee for every face: no list longer than settings.MAX_LIST_VALUES (Call-IDs and CDR
    ids: settings.MAX_ID_VALUES), no number SQL or SQLite cannot hold.
    """
    lists = {
        "caller": f.caller,
        "called": f.called,
        "caller_domain": f.caller_domain,
        "called_domain": f.called_domain,
        "sipcallerip": f.sipcallerip,
        "sipcalledip": f.sipcalledip,
        "sensors": f.sensors,
        "sip_responses": f.sip_responses,
        "codecs": f.codecs,
        "custom_headers": f.custom_headers,
        "column_conditions": f.column_conditions,
    }
    for name, values in lists.items():
        if len(values) > settings.MAX_LIST_VALUES:
            raise QueryError(
                f"{name}: at most {settings.MAX_LIST_VALUES} values (VMGUI_MAX_LIST_VALUES)"
            )
    for name, values in (("cdr_ids", f.cdr_ids), ("call_ids", f.call_ids)):
        if len(values) > settings.MAX_ID_VALUES:
            raise QueryError(
                f"{name}: at most {settings.MAX_ID_VALUES} values (VMGUI_MAX_ID_VALUES)"
            )
    for name, values in (
        ("cdr_ids", f.cdr_ids),
        ("sensors", f.sensors),
        ("sip_responses", f.sip_responses),
        ("codecs", f.codecs),
    ):
        for value in values:
            if value is not None and not _INT64[0] <= value <= _INT64[1]:
                raise QueryError(f"{name}: {str(value)[:30]} is out of range")
    numbers = [f.duration_gt, f.duration_lt, *f.column_conditions.values()]
    for value in numbers:
        if isinstance(value, float) and not math.isfinite(value):
            raise QueryError("a number filter must be finite")
        if isinstance(value, int | float) and not _INT64[0] <= value <= _INT64[1]:
            raise QueryError(f"a number filter is out of range ({str(value)[:30]})")


def _check_window(offset: int, limit: int | None) -> None:
    for name, value in (("offset", offset), ("limit", limit)):
        if value is not None and not 0 <= value <= MAX_ROW_NUMBER:
            raise QueryError(f"{name} must be between 0 and {MAX_ROW_NUMBER}")


def _next_ids(model, f: CdrFilter, column: str, op: str, values: Sequence[str]) -> tuple[str, list]:
    """(sql, params) selecting the cdr ids of ``model``'s table (``cdr_next`` or a
    ``cdr_next_N``) whose ``column`` matches ``values``: ``op`` "in" (any of the exact values)
    or "like" (any of the LIKE patterns, ``patterns.like_sql``). When cdr_next is partitioned, the
    filter's dates bound it too, so only the range's partitions are read (issue 19).

    Written as text around the values, not as a queryset: Django resolving a queryset into
    the outer query and compiling it whole cost ~0.5 ms of a one-row Call-ID search whose SQL
    takes ~1 ms (docs/benchmarks.md, "Seventh round"). The values are still converted by the
    model's own fields (``get_db_prep_value``, what the ORM's lookups do); ``column`` is a
    model column or an introspected one (``cdr.schema``), never text from a request.
    """
    if op not in ("in", "like") or not values:
        raise ValueError(f"_next_ids: op {op!r} with {len(values)} values")
    connection = connections[router.db_for_read(Cdr)]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    field = {field.column: field for field in model._meta.concrete_fields}.get(column)
    params = [v if field is None else field.get_db_prep_value(v, connection) for v in values]
    if op == "in":
        where = [f"{table}.{qn(column)} IN ({', '.join(['%s'] * len(params))})"]
    else:
        where = ["(" + " OR ".join([like_sql(f"{table}.{qn(column)}")] * len(params)) + ")"]
    if schema.cdr_is_partitioned():
        calldate = model._meta.get_field("calldate")
        operators, bounds = window_conditions(calldate, (f.date_from, f.date_to), connection)
        where += [f"{table}.{qn(calldate.column)} {operator} %s" for operator in operators]
        params += bounds
    # Identifiers come from the models and introspection; values are parameters.
    sql = f"SELECT {qn(model._meta.pk.column)} FROM {table} WHERE " + " AND ".join(where)  # noqa: S608
    return sql, params


def _ids_in(model, f: CdrFilter, column: str, op: str, values: Sequence[str]) -> Q:
    """``ID IN (<_next_ids>)``: the look-up as a sub-select of the query."""
    return Q(ID__in=RawSQL(*_next_ids(model, f, column, op, values)))


def _callid_q(f: CdrFilter) -> Q:
    """Call-IDs (exact values and LIKE patterns) → ``ID IN (...)`` conditions.

    Exact values are looked up as ``fbasename IN (...)`` (indexed): up to ID_CHUNK values as
    a sub-select of the query, more in ID_CHUNK-sized look-ups whose cdr ids the query then
    takes. LIKE patterns share one sub-select (one pass over cdr_next, not one per pattern).
    """
    exact: list[str] = []
    likes: list[str] = []
    for value in f.call_ids:
        pattern = Pattern.parse(value)
        if pattern.kind == "exact":
            exact.append(search_value("cdr_next", "fbasename", pattern.value))
        else:
            likes.append(search_value("cdr_next", "fbasename", pattern.like_text()))
    exact = list(dict.fromkeys(exact))
    q = Q()
    if likes:
        q |= _ids_in(CdrNext, f, "fbasename", "like", likes)
    if 0 < len(exact) <= ID_CHUNK:
        q |= _ids_in(CdrNext, f, "fbasename", "in", exact)
    elif exact:
        ids: set[int] = set()
        with connections[router.db_for_read(Cdr)].cursor() as cursor:
            for start in range(0, len(exact), ID_CHUNK):
                chunk = exact[start : start + ID_CHUNK]
                cursor.execute(*_next_ids(CdrNext, f, "fbasename", "in", chunk))
                ids.update(row[0] for row in cursor.fetchall())
        q |= Q(ID__in=sorted(ids)) if ids else Q(pk__in=[])
    return q


def _custom_header_q(f: CdrFilter, scope: CdrScope) -> Q:
    q = Q()
    for name, raw in f.custom_headers.items():
        header = _header_or_error(name, scope)
        pattern = Pattern.parse(raw)
        # A fixed header's column comes from introspection (schema), never from the request.
        model = CDR_NEXT_MODELS[header.dynamic_table] if header.dynamic_table else CdrNext
        if pattern.kind == "exact":
            op, value = "in", pattern.value
        else:
            op, value = "like", pattern.like_text()
        value = search_value(model._meta.db_table, header.column, value)
        # Header values have no index: bounded by the dates, the sub-select reads only the
        # range's partitions, not the whole child table (issue 19, query plans).
        q &= _ids_in(model, f, header.column, op, [value])
    return q


def calldate_window(f: CdrFilter) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The calldates every row ``f`` matches lies within: (from, to), either may be None
    (a call that ended by ``callend_to`` also started by it). The page statement repeats
    them on its partitioned joins so that MariaDB prunes those too (cdr.query.rows)."""
    upper = f.date_to
    if f.callend_to and (upper is None or f.callend_to < upper):
        upper = f.callend_to
    return f.date_from, upper


def cdr_queryset(f: CdrFilter, scope: CdrScope) -> QuerySet:
    """The filtered, restricted queryset on ``cdr`` (unordered, unsliced)."""
    if not schema.has_table("cdr"):
        raise QueryError(NO_CDR_TABLE)
    check_bounds(f)
    qs = Cdr.objects.all()
    q = Q()
    if f.date_from:
        q &= Q(calldate__gte=f.date_from)
    if f.date_to:
        q &= Q(calldate__lte=f.date_to)
    if f.callend_to:
        # A call that ended by T also started by T: the extra calldate bound keeps pruning.
        q &= Q(callend__lte=f.callend_to, calldate__lte=f.callend_to)
    if f.cdr_ids:
        q &= Q(ID__in=list(f.cdr_ids))
    caller_q = patterns_q("caller", f.caller, "caller_reverse") if f.caller else None
    called_q = patterns_q("called", f.called, "called_reverse") if f.called else None
    if caller_q is not None and called_q is not None:
        q &= (caller_q | called_q) if f.numbers_or else (caller_q & called_q)
    elif caller_q is not None:
        q &= caller_q
    elif called_q is not None:
        q &= called_q
    if f.caller_domain:
        q &= patterns_q("caller_domain", f.caller_domain)
    if f.called_domain:
        q &= patterns_q("called_domain", f.called_domain)
    for column, values in (("sipcallerip", f.sipcallerip), ("sipcalledip", f.sipcalledip)):
        if values:
            ips = Q()
            for value in values:
                ips |= ip_q(column, value)
            q &= ips
    if f.sensors:
        ids = [s for s in f.sensors if s is not None]
        sensors_q = Q(id_sensor__in=ids) if ids else Q(pk__in=[])
        if None in f.sensors:
            sensors_q |= Q(id_sensor__isnull=True)
        q &= sensors_q
    if f.sip_responses:
        q &= Q(lastSIPresponseNum__in=list(f.sip_responses))
    if f.duration_gt is not None:
        q &= Q(duration__gt=f.duration_gt)
    if f.duration_lt is not None:
        q &= Q(duration__lt=f.duration_lt)
    if f.only_connected:
        q &= Q(connect_duration__isnull=False)
    if f.codecs:
        codecs = list(f.codecs)
        q &= Q(a_payload__in=codecs) | Q(b_payload__in=codecs) | Q(payload__in=codecs)
    for key, value in f.column_conditions.items():
        q &= _column_condition_q(key, value)
    if f.call_ids:
        q &= _callid_q(f)
    if f.custom_headers:
        q &= _custom_header_q(f, scope)
    return qs.filter(q & scope_q(scope))


def known_total(offset: int, shown: int, more: bool) -> int | None:
    """The number of matches when a page tells it without a count, else None.

    A page read with one look-ahead row that did not come back (``more`` false) ends with
    the last match: the total is ``offset + shown``. An empty page past the first proves
    nothing (the offset may lie beyond the end). Most searches for a number or a Call-ID
    fit in one page, so their total costs no second statement.
    """
    if more or (offset and not shown):
        return None
    return offset + shown


def count(f: CdrFilter, scope: CdrScope) -> int:
    return cdr_queryset(f, scope).count()


# The server's "statement took too long" errors: MariaDB max_statement_time, MySQL
# max_execution_time.
_TIMEOUT_ERRORS = {1969, 3024}


def _timed_out(exc: OperationalError) -> bool:
    """Whether the server aborted the statement at its time limit (MariaDB / MySQL code)."""
    return bool(exc.args) and exc.args[0] in _TIMEOUT_ERRORS


def count_within(f: CdrFilter, scope: CdrScope, budget_ms: int) -> int | None:
    """``count``, or None when the server needs more than ``budget_ms`` for it (MySQL only).

    For listings whose total may be deferred: a COUNT(*) over weeks of a large table costs
    far more than the page (docs/benchmarks.md). See ``_within_budget``.
    """
    connection = connections[router.db_for_read(Cdr)]
    if budget_ms <= 0 or connection.vendor != "mysql":
        return count(f, scope)
    qs = cdr_queryset(f, scope).order_by()
    try:
        inner, params = qs.values("ID").query.get_compiler(using=qs.db).as_sql()
    except EmptyResultSet:
        return 0
    # One statement carrying its own time limit (MariaDB's SET STATEMENT … FOR, MySQL's
    # optimizer hint) instead of reading, setting and restoring the session's: three round
    # trips fewer on every sql.php listing. The derived table is merged (the same plan as
    # ``count``).
    sql = f"SELECT COUNT(*) FROM ({inner}) c"  # noqa: S608 - the ORM's SQL, values are params
    if connection.mysql_is_mariadb:
        sql = f"SET STATEMENT max_statement_time={budget_ms / 1000:.3f} FOR {sql}"
    else:
        sql = f"SELECT /*+ MAX_EXECUTION_TIME({int(budget_ms)}) */ {sql[len('SELECT ') :]}"
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    except OperationalError as exc:
        if _timed_out(exc):
            return None
        raise


def _within_budget(run: Callable[[], _T], budget_ms: int) -> _T | None:
    """``run()``, or None when one of its statements needs more than ``budget_ms``.

    The limit is the server's own statement timeout, set for these statements and restored
    after them; a slow statement is aborted by the server, not abandoned while it runs. Other
    backends (SQLite) run without a limit, as does ``budget_ms <= 0``.
    """
    # the connection the engine's reads use (a replica when one is configured)
    connection = connections[router.db_for_read(Cdr)]
    if budget_ms <= 0 or connection.vendor != "mysql":
        return run()
    mariadb = connection.mysql_is_mariadb
    variable = "max_statement_time" if mariadb else "max_execution_time"
    limit = budget_ms / 1000 if mariadb else budget_ms  # seconds / milliseconds
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@SESSION.{variable}")  # noqa: S608 - a constant name
        previous = cursor.fetchone()[0]
        cursor.execute(f"SET SESSION {variable} = %s", [limit])
    try:
        return run()
    except OperationalError as exc:
        if _timed_out(exc):
            return None
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET SESSION {variable} = %s", [previous])


# Columns a listing row may contain; only those present in the real table are selected.
ROW_COLUMNS = [
    "ID",
    "calldate",
    "callend",
    "duration",
    "connect_duration",
    "progress_time",
    "first_rtp_time",
    "caller",
    "callername",
    "caller_domain",
    "called",
    "called_domain",
    "sipcallerip",
    "sipcallerport",
    "sipcalledip",
    "sipcalledport",
    "whohanged",
    "bye",
    "lastSIPresponse_id",
    "lastSIPresponseNum",
    "reason_sip_cause",
    "reason_q850_cause",
    "id_sensor",
    "vlan",
    "a_payload",
    "b_payload",
    "payload",
    "a_ua_id",
    "b_ua_id",
    "a_received",
    "b_received",
    "a_lost",
    "b_lost",
    "lost",
    "a_mos_f1_mult10",
    "a_mos_f2_mult10",
    "a_mos_adapt_mult10",
    "b_mos_f1_mult10",
    "b_mos_f2_mult10",
    "b_mos_adapt_mult10",
    "mos_min_mult10",
    "a_mos_min_mult10",
    "b_mos_min_mult10",
    "a_avgjitter_mult10",
    "b_avgjitter_mult10",
    "a_maxjitter",
    "b_maxjitter",
    "jitter_mult10",
    "packet_loss_perc_mult1000",
    "a_packet_loss_perc_mult1000",
    "b_packet_loss_perc_mult1000",
    "a_rtcp_avgjitter_mult10",
    "b_rtcp_avgjitter_mult10",
    "a_rtcp_maxjitter",
    "b_rtcp_maxjitter",
    "a_rtcp_avgfr_mult10",
    "b_rtcp_avgfr_mult10",
    "a_rtcp_maxfr",
    "b_rtcp_maxfr",
    "delay_avg_mult100",
    "a_index",
    "b_index",
    "flags",
]


def row_columns() -> list[str]:
    """ROW_COLUMNS that exist in this database's cdr table."""
    info = schema.table_info("cdr")
    if info is None:
        raise QueryError(NO_CDR_TABLE)
    known = _ROW_COLUMNS_OF.get(id(info))
    if known is None or known[0] is not info:
        _ROW_COLUMNS_OF.clear()  # one table's columns at a time (a new introspection)
        known = _ROW_COLUMNS_OF[id(info)] = (info, [c for c in ROW_COLUMNS if info.has(c)])
    return list(known[1])


# The last introspected cdr table (kept alive, so its id is not reused) → its row columns.
_ROW_COLUMNS_OF: dict[int, tuple[schema.TableInfo, list[str]]] = {}


def _ordered(qs: QuerySet, order: Sequence[str]) -> QuerySet:
    keys = list(order) or ["calldate"]
    tiebreak = "-ID" if keys[0].startswith("-") else "ID"
    if tiebreak.lstrip("-") not in {k.lstrip("-") for k in keys}:
        keys.append(tiebreak)
    return qs.order_by(*keys)


def selective(f: CdrFilter) -> bool:
    """Whether the filter alone narrows the rows to a handful, found by an index.

    CDR ids, exact Call-IDs and exact numbers (caller/called without ``%``; with ``numbers_or``
    both sides) match a few calls whatever the date range: their page is sorted in one query
    (a few rows to sort), without the calldate bound ``_bounded_page`` would look up first.
    """
    if f.cdr_ids:
        return True
    if f.call_ids and all("%" not in value for value in f.call_ids):
        return True

    def exact(values: Sequence[str]) -> bool:
        return bool(values) and all("%" not in value for value in values)

    if f.numbers_or and f.caller and f.called:
        return exact(f.caller) and exact(f.called)
    return exact(f.caller) or exact(f.called)


def _bounded_page(qs: QuerySet, order: Sequence[str], offset: int, limit: int) -> QuerySet:
    """``qs`` narrowed to the calldates a page sorted by calldate alone can hold.

    ``ORDER BY calldate DESC, ID DESC LIMIT n`` makes MariaDB sort the WHOLE date range
    (partitioned tables get no extended keys, so the ID tie-break defeats the calldate
    index): 450-2900 ms for a 30-day page on 1M rows, against 9 ms without it
    (docs/benchmarks.md). So the page is found in two index-friendly steps: the calldate of
    its last row (``ORDER BY calldate LIMIT 1 OFFSET offset+limit-1``, an index walk whose
    answer ties cannot change), then only the rows on the page's side of that calldate (the
    rows before the page, the page, and its ties), sorted with the ID tie-break: the same
    rows in the same order as one sorted query. Other sorts are returned unchanged.
    """
    keys = list(order) or ["calldate"]
    if len(keys) != 1 or keys[0].lstrip("-") != "calldate" or limit <= 0:
        return qs
    last = offset + limit - 1
    bound = next(
        iter(qs.order_by(keys[0]).values_list("calldate", flat=True)[last : last + 1]), None
    )
    if bound is None:
        return qs  # fewer rows than the page's end: the whole (small) result is sorted
    return (
        qs.filter(calldate__gte=bound)
        if keys[0].startswith("-")
        else qs.filter(calldate__lte=bound)
    )


def _page(
    f: CdrFilter, scope: CdrScope, order: Sequence[str], offset: int, limit: int | None
) -> QuerySet:
    """The (unevaluated) row query of ``offset``/``limit`` rows in ``order``."""
    _check_window(offset, limit)
    qs = cdr_queryset(f, scope)
    if limit is not None and not selective(f):
        qs = _bounded_page(qs, order, offset, limit)
    qs = _ordered(qs, order)
    if limit is not None:
        return qs[offset : offset + limit]
    return qs[offset:] if offset else qs


def fetch_page(
    f: CdrFilter,
    scope: CdrScope,
    *,
    order: Sequence[str] = ("calldate",),
    offset: int = 0,
    limit: int | None = None,
    custom_headers: Sequence[str] = (),
) -> Page:
    """One page of CDRs (see cdr.query.rows for the keys), read with its look-ups, held as
    columns (``cdr.query.page``: what a face that shapes by columns reads)."""
    qs = _page(f, scope, order, offset, limit)
    headers = _headers_or_error(list(custom_headers), scope)
    return fetch_joined(qs, row_columns(), headers, calldate_window(f))


def fetch_rows(f: CdrFilter, scope: CdrScope, **options) -> list[dict]:
    """``fetch_page`` (the same options) as plain dicts."""
    return fetch_page(f, scope, **options).rows()


def iter_pages(
    f: CdrFilter,
    scope: CdrScope,
    *,
    order: Sequence[str] = ("calldate",),
    chunk: int = 1000,
    custom_headers: Sequence[str] = (),
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[Page]:
    """Every matching row (or ``offset``/``limit`` of them), streamed as pages of ``chunk``.

    For listings too large to hold in memory (sql.php's ``limit=-1``). The query is built and
    checked at the call (bad headers, missing columns raise here), not at the first row.
    """
    headers = _headers_or_error(list(custom_headers), scope)
    return stream_pages(
        _page(f, scope, order, offset, limit), row_columns(), headers, chunk, calldate_window(f)
    )


def iter_rows(f: CdrFilter, scope: CdrScope, **options) -> Iterator[dict]:
    """``iter_pages``' rows one by one (the same options)."""
    pages = iter_pages(f, scope, **options)

    def rows() -> Iterator[dict]:
        try:
            for page in pages:
                yield from page.rows()
        finally:
            pages.close()

    return rows()


# sql.php addresses a dynamic header by position: ``custom_header_<table>_<column>`` (the same
# naming as the sniffer's listcalls columns).
_POSITIONAL_HEADER = re.compile(r"^custom_header_(\d{1,2})_(\d{1,2})$")


def _positional_header(name: str, table: int, column: int) -> tuple[CustomHeader | None, list]:
    """A dynamic header by position, and the names it is defined under (for visibility)."""
    header = dynamic_header(table, column, name)
    names = [name]
    if header is not None and schema.has_table("cdr_custom_headers"):
        defined = CdrCustomHeader.objects.filter(dynamic_table=table, dynamic_column=column)
        for gui_name, fields in defined.values_list("name", "header_field"):
            names += [gui_name or "", *(fields or "").replace("\r", "\n").split("\n")]
    return header, [n for n in names if n.strip()]


def _header_or_error(name: str, scope: CdrScope) -> CustomHeader:
    """A visible header by SIP/GUI name or by position ``custom_header_<t>_<c>``; else QueryError."""
    return _headers_or_error([name], scope)[0]


def _headers_or_error(names: Sequence[str], scope: CdrScope) -> list[CustomHeader]:
    """``_header_or_error`` of each name (the header definitions are read once)."""
    found: list[CustomHeader | None] = []
    by_name: list[int] = []  # positions of the names resolved by SIP/GUI name
    for name in names:
        match = _POSITIONAL_HEADER.match(name.strip().lower())
        if match:
            header, visible = _positional_header(name, int(match.group(1)), int(match.group(2)))
        else:
            header, visible = None, [name]
            by_name.append(len(found))
        if not any(header_visible(scope, n) for n in visible):
            # Same answer as for a header that does not exist: no hint about what is hidden.
            raise QueryError(f"unknown custom header {name!r}")
        found.append(header)
    for index, header in zip(
        by_name, resolve_custom_headers([names[i] for i in by_name]), strict=True
    ):
        found[index] = header
    for name, header in zip(names, found, strict=True):
        if header is None:
            raise QueryError(f"unknown custom header {name!r}")
    return found  # type: ignore[return-value]


# --- ordering (sql.php's ``sort``, later the REST API and GUI) -------------------------------

# Public sort names → cdr column. The first group has an index in the sniffer's schema, so a
# sort by it walks the index; the others (display values) sort the rows of the filter's
# calldate range in memory, which the mandatory date range of the faces keeps bounded.
SORTABLE: dict[str, str] = {
    "ID": "ID",
    "cdr_ID": "ID",
    "calldate": "calldate",
    "callend": "callend",
    "duration": "duration",
    "caller": "caller",
    "called": "called",
    "callername": "callername",
    "sipcallerip": "sipcallerip",
    "sipcalledip": "sipcalledip",
    "lastSIPresponseNum": "lastSIPresponseNum",
    "bye": "bye",
    "id_sensor": "id_sensor",
    "vlan": "vlan",
    "a_lost": "a_lost",
    "b_lost": "b_lost",
    "a_maxjitter": "a_maxjitter",
    "b_maxjitter": "b_maxjitter",
    "a_avgjitter": "a_avgjitter_mult10",
    "b_avgjitter": "b_avgjitter_mult10",
    "a_rtcp_maxjitter": "a_rtcp_maxjitter",
    "b_rtcp_maxjitter": "b_rtcp_maxjitter",
    "a_rtcp_maxfr": "a_rtcp_maxfr",
    "b_rtcp_maxfr": "b_rtcp_maxfr",
    # not indexed:
    "connect_duration": "connect_duration",
    "progress_time": "progress_time",
    "first_rtp_time": "first_rtp_time",
    "caller_domain": "caller_domain",
    "called_domain": "called_domain",
    "whohanged": "whohanged",
    "a_mos_f1": "a_mos_f1_mult10",
    "b_mos_f1": "b_mos_f1_mult10",
    "a_mos_f2": "a_mos_f2_mult10",
    "b_mos_f2": "b_mos_f2_mult10",
    "a_mos_adapt": "a_mos_adapt_mult10",
    "b_mos_adapt": "b_mos_adapt_mult10",
    "mos_min": "mos_min_mult10",
    "jitter": "jitter_mult10",
    "packet_loss_perc": "packet_loss_perc_mult1000",
}


def order_keys(sort: Sequence[tuple[str, bool]]) -> list[str]:
    """``[(name, descending), ...]`` → engine order keys (``["-calldate"]``), on the allow-list.

    Names are matched exactly, then case-insensitively. An unknown name, or a column this
    database does not have, is a QueryError; nothing from the request reaches SQL text.
    """
    by_lower = {name.lower(): column for name, column in SORTABLE.items()}
    keys: list[str] = []
    for name, descending in sort:
        column = SORTABLE.get(name) or by_lower.get(str(name).lower())
        if column is None:
            known = ", ".join(SORTABLE)
            raise QueryError(f"cannot sort by {str(name)[:60]!r} (sortable: {known})")
        if not schema.has_column("cdr", column):
            raise QueryError(f"cannot sort by {name!r}: this database has no column {column!r}")
        key = f"-{column}" if descending else column
        if column not in {k.lstrip("-") for k in keys}:
            keys.append(key)
    return keys


# --- aggregates (sql.php's CDR_stats, monitoring exporters) --------------------------------

# Group names → the cdr columns a group is keyed by.
GROUPS: dict[str, tuple[str, ...]] = {
    "lastSIPresponse": ("lastSIPresponse_id", "lastSIPresponseNum"),
    "sensor": ("id_sensor",),
}


def aggregate(f: CdrFilter, scope: CdrScope, group_by: Sequence[str] = ()) -> list[dict]:
    """Call counts per group over the filter (and the scope): one dict per group.

    Each dict has ``cnt_all`` (calls) and ``cnt_ok`` (answered calls: ``connect_duration IS
    NOT NULL``, the sniffer's mark of a 200 OK to the INVITE, as ``only_connected``), plus
    the group's keys: ``lastSIPresponse`` (text) and ``lastSIPresponseNum``; ``id_sensor``
    and ``sensorname``. No group → one dict for the whole filter. Largest groups first.
    It is one ``GROUP BY`` on the filtered cdr rows; texts are looked up per distinct key.
    """
    columns: list[str] = []
    for name in group_by:
        if name not in GROUPS:
            raise QueryError(f"cannot group by {name!r} (groups: {', '.join(GROUPS)})")
        columns += [c for c in GROUPS[name] if c not in columns]
    answered = Count("ID", filter=Q(connect_duration__isnull=False))
    qs = cdr_queryset(f, scope).order_by()
    if columns:
        qs = qs.values(*columns).annotate(cnt_all=Count("ID"), cnt_ok=answered)
        rows = list(qs.order_by("-cnt_all", *columns))
    else:
        rows = [qs.aggregate(cnt_all=Count("ID"), cnt_ok=answered)]
    if "lastSIPresponse" in group_by:
        texts = lookup_texts(
            CdrSipResponse, "lastSIPresponse", {r["lastSIPresponse_id"] for r in rows}
        )
        for row in rows:
            row["lastSIPresponse"] = texts.get(row.pop("lastSIPresponse_id"))
    if "sensor" in group_by:
        names = lookup_texts(Sensor, "name", {r["id_sensor"] for r in rows})
        for row in rows:
            row["sensorname"] = names.get(row["id_sensor"])
    return rows


# Quality measures of ``call_stats``: name → (cdr column, aggregates). Only columns the real
# table has are asked for (the sniffer may skip some).
_QUALITY = {
    "mos": ("mos_min_mult10", ("count", "sum", "min")),
    "loss": ("packet_loss_perc_mult1000", ("count", "sum", "max")),
}
_AGGREGATES = {"count": Count, "sum": Sum, "min": Min, "max": Max}


def call_stats_queryset(f: CdrFilter, scope: CdrScope) -> QuerySet:
    """The grouped query of ``call_stats`` (unevaluated; the benchmark runs its SQL raw)."""
    answered = Q(connect_duration__isnull=False)
    measures: dict = {
        "cnt_all": Count("ID"),
        "cnt_ok": Count("ID", filter=answered),
        "connect_sum": Sum("connect_duration", filter=answered),
    }
    for name, (column, kinds) in _QUALITY.items():
        if schema.has_column("cdr", column):
            for kind in kinds:
                measures[f"{name}_{kind}"] = _AGGREGATES[kind](column)
    keys = ("id_sensor", "lastSIPresponse_id", "lastSIPresponseNum")
    qs = cdr_queryset(f, scope).order_by().values(*keys).annotate(**measures)
    return qs.order_by(*keys)


def call_stats(f: CdrFilter, scope: CdrScope) -> list[dict]:
    """Counts and quality sums per (sensor, last SIP response) in ONE grouped query.

    For monitoring (``/metrics``): each dict has ``id_sensor``, ``sensorname``,
    ``lastSIPresponseNum``, ``lastSIPresponse`` (text), ``cnt_all``, ``cnt_ok`` (answered, as
    ``aggregate``), ``connect_sum`` (seconds of answered calls), and when the columns exist
    ``mos_count``/``mos_sum``/``mos_min`` (``mos_min_mult10``: each call's worse side, x10) and
    ``loss_count``/``loss_sum``/``loss_max`` (``packet_loss_perc_mult1000``: percent x1000).
    Counts and sums add up across groups, so callers derive per-sensor ASR, ACD and averages
    without a second query. Bound ``f`` by a date range: the query then reads the calldate
    index range only.
    """
    rows = list(call_stats_queryset(f, scope))
    texts = lookup_texts(CdrSipResponse, "lastSIPresponse", {r["lastSIPresponse_id"] for r in rows})
    names = lookup_texts(Sensor, "name", {r["id_sensor"] for r in rows})
    for row in rows:
        row["lastSIPresponse"] = texts.get(row.pop("lastSIPresponse_id"))
        row["sensorname"] = names.get(row["id_sensor"])
        for key, value in row.items():
            if key.endswith(("_sum", "_min", "_max")) and value is not None:
                row[key] = float(value)
    return rows


def hourly_counts(f: CdrFilter, scope: CdrScope, *, budget_ms: int = 0) -> list[dict] | None:
    """Calls per (hour, last SIP response code) over the filter, in ONE grouped query.

    For the GUI's chart of calls per hour and SIP-response mix: each dict has ``hour`` (aware:
    the start of an hour of the sniffer's zone, so no zone conversion runs in SQL),
    ``lastSIPresponseNum``, ``cnt_all`` and ``cnt_ok`` (answered, as ``aggregate``); ordered
    by hour. The counts add up to the filter's total. None when the statement needs more than
    ``budget_ms`` (MySQL's statement timeout; 0 = no limit): bound ``f`` by a date range.
    """
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    answered = Count("ID", filter=Q(connect_duration__isnull=False))
    qs = (
        cdr_queryset(f, scope)
        .order_by()
        .annotate(hour=TruncHour("calldate", tzinfo=zone))
        .values("hour", "lastSIPresponseNum")
        .annotate(cnt_all=Count("ID"), cnt_ok=answered)
        .order_by("hour", "lastSIPresponseNum")
    )
    return _within_budget(lambda: list(qs), budget_ms)


def fetch_after(f: CdrFilter, scope: CdrScope, **options) -> list[dict]:
    """``page_after`` (the same options) as plain dicts."""
    return page_after(f, scope, **options).rows()


def page_after(
    f: CdrFilter,
    scope: CdrScope,
    *,
    after: tuple[dt.datetime, int] | None = None,
    descending: bool = True,
    limit: int = 100,
    custom_headers: Sequence[str] = (),
) -> Page:
    """A keyset page: the ``limit`` rows that follow ``after`` = (calldate, ID) in calldate
    order (the REST API's cursor). Stable under inserts and as cheap at page 10,000 as at
    page 1: the position is a calldate bound on the index, never an OFFSET.
    """
    headers = _headers_or_error(list(custom_headers), scope)
    qs = cdr_queryset(f, scope)
    if after is not None:
        calldate, last_id = after
        if descending:
            qs = qs.filter(calldate__lte=calldate).filter(
                Q(calldate__lt=calldate) | Q(ID__lt=last_id)
            )
        else:
            qs = qs.filter(calldate__gte=calldate).filter(
                Q(calldate__gt=calldate) | Q(ID__gt=last_id)
            )
    order = ("-calldate",) if descending else ("calldate",)
    if not selective(f):
        qs = _bounded_page(qs, order, 0, limit)
    return fetch_joined(_ordered(qs, order)[:limit], row_columns(), headers, calldate_window(f))
