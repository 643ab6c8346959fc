"""Plain-dict CDR rows: batch enrichment of a page and display conversions.

Rows come from ``cdr.query.engine`` as dicts of raw column values (IPs already decoded to strings).
``enrich`` adds, for a whole page at once: ``lastSIPresponse`` (text), ``a_ua``/``b_ua``,
``sensorname``, ``fbasename`` (the raw Call-ID) and ``custom_headers`` {name: value}.

Texts from the sniffer's latin1 tables are returned as the text the phone sent (the sniffer
stores the UTF-8 bytes it received; ``cdr.query.storedtext``): "日本", not "æ—¥æœ¬".
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, partial
from socket import inet_ntoa

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, router
from django.db.models import QuerySet

from cdr import schema
from cdr.codecnumbers import CODEC_NAMES
from cdr.fields import SnifferIPField, decode_ip
from cdr.models import CDR_NEXT_MODELS, Cdr, CdrNext, CdrSipResponse, CdrUa, Sensor
from cdr.query.customheaders import CustomHeader
from cdr.query.page import INTS, Page, map_distinct
from cdr.query.storedtext import display_row, display_text, display_value, latin1_columns


def lookup_texts(model, value_field: str, ids: set) -> dict:
    """``{id: text}`` of a lookup table (SIP response texts, user agents, sensor names) for
    ``ids``, as the phone sent the text; empty when the table is missing."""
    ids.discard(None)
    if not ids or not schema.has_table(model._meta.db_table):
        return {}
    pk = model._meta.pk.attname
    found = model.objects.filter(**{f"{pk}__in": list(ids)}).values_list(pk, value_field)
    table, column = model._meta.db_table, model._meta.get_field(value_field).column
    return {key: display_value(table, column, text) for key, text in found}


def display_texts(column: Sequence) -> Sequence:
    """``display_text`` of each value of a latin1 column.

    A column that is all ASCII (most pages: numbers, domains, Call-IDs) is returned as it is,
    after one check in C of its joined text; ``display_text`` of each distinct value would
    cost ~1 µs a value, and the caller and called columns of a page hardly repeat.
    """
    try:
        if "".join(filter(None, column)).isascii():
            return column
    except TypeError:  # not only text (bytes of a binary collation): value by value
        pass
    return map_distinct(display_text, column)


def _page_bounds(calldates: Iterable) -> tuple | None:
    """(first, last) of a page's calldates: lets child-table look-ups prune partitions."""
    dates = [d for d in calldates if d is not None]
    return (min(dates), max(dates)) if dates else None


def rows_of_calls(model, calls: Iterable[tuple[int, datetime | None]]) -> QuerySet:
    """The rows of a child table of ``cdr`` (``model``: cdr_next, cdr_rtp, cdr_tar_part ...) of
    ``calls`` [(cdr id, its calldate)]. A partitioned table's rows carry their call's calldate:
    the query is bounded by the calls' first and last, so MariaDB reads their partitions only
    (by ``cdr_ID`` alone it probes the index of every partition: hundreds on a year of daily
    partitions)."""
    pairs = list(calls)
    qs = model.objects.filter(cdr_id__in=[cdr_id for cdr_id, _ in pairs])
    bounds = _page_bounds(calldate for _, calldate in pairs)
    if bounds and schema.has_column(model._meta.db_table, "calldate", qs.db):
        qs = qs.filter(calldate__range=bounds)
    return qs


def _child_rows(model, ids: list[int], columns: Sequence[str], bounds: tuple | None) -> dict:
    """{cdr id: (its ``columns``)} of a child table of ``cdr`` (``cdr_next``, ``cdr_next_N``)
    for ``ids``, in one statement: latin1 texts as display text, ``{}`` without the table."""
    table = model._meta.db_table
    if not ids or not schema.has_table(table):
        return {}
    # the database the cdr rows were read from (a replica when one is configured)
    connection = connections[router.db_for_read(model)]
    qn = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(ids))
    params: list = list(ids)
    # Column names come from the models and introspection; ids are parameters.
    sql = (
        f"SELECT {qn('cdr_ID')}, {', '.join(qn(c) for c in columns)} FROM {qn(table)} "  # noqa: S608 - identifiers from introspection
        f"WHERE {qn('cdr_ID')} IN ({placeholders})"
    )
    if bounds and schema.has_column(table, "calldate"):
        # Without this, a partitioned table is probed once per partition for every id.
        sql += f" AND {qn('calldate')} BETWEEN %s AND %s"
        field = model._meta.get_field("calldate")
        params += [field.get_db_prep_value(b, connection) for b in bounds]
    latin1 = latin1_columns(table)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found:
        return {}
    keys, *values = zip(*found, strict=True)
    values = [
        display_texts(column) if name in latin1 else column
        for name, column in zip(columns, values, strict=True)
    ]
    return dict(zip(keys, zip(*values, strict=True), strict=True))


def _cdr_next(ids: list[int], fixed_columns: list[str], bounds: tuple | None) -> dict[int, dict]:
    columns = ["fbasename", *fixed_columns]
    return {
        cdr_id: dict(zip(columns, found, strict=True))
        for cdr_id, found in _child_rows(CdrNext, ids, columns, bounds).items()
    }


def _dynamic_headers(ids: list[int], headers: Sequence[CustomHeader], bounds) -> dict:
    """{(table, column): {cdr id: value}} of the dynamic headers among ``headers``: one
    statement per ``cdr_next_N`` table."""
    wanted: dict[int, dict[int, str]] = {}  # table → {header column number: column name}
    for h in headers:
        if h.dynamic_table:
            wanted.setdefault(h.dynamic_table, {})[h.dynamic_column] = h.column
    dynamic: dict[tuple[int, int], dict[int, str]] = {}
    for number, columns in wanted.items():
        found = _child_rows(CDR_NEXT_MODELS[number], ids, list(columns.values()), bounds)
        for n, column in enumerate(columns):
            dynamic[(number, column)] = {cdr_id: row[n] for cdr_id, row in found.items()}
    return dynamic


def enrich(rows: list[dict], headers: Sequence[CustomHeader] = ()) -> list[dict]:
    if not rows:
        return rows
    for row in rows:
        display_row("cdr", row)
    ids = [r["ID"] for r in rows]
    responses = lookup_texts(
        CdrSipResponse, "lastSIPresponse", {r.get("lastSIPresponse_id") for r in rows}
    )
    uas = lookup_texts(
        CdrUa, "ua", {r.get("a_ua_id") for r in rows} | {r.get("b_ua_id") for r in rows}
    )
    sensors = lookup_texts(Sensor, "name", {r.get("id_sensor") for r in rows})
    fixed = [h.column for h in headers if not h.dynamic_table]
    bounds = _page_bounds(r.get("calldate") for r in rows)
    nexts = _cdr_next(ids, fixed, bounds)
    dynamic = _dynamic_headers(ids, headers, bounds)
    for row in rows:
        nxt = nexts.get(row["ID"], {})
        row["lastSIPresponse"] = responses.get(row.get("lastSIPresponse_id"))
        row["a_ua"] = uas.get(row.get("a_ua_id"))
        row["b_ua"] = uas.get(row.get("b_ua_id"))
        row["sensorname"] = sensors.get(row.get("id_sensor"))
        row["fbasename"] = nxt.get("fbasename")
        values = {}
        for h in headers:
            if h.dynamic_table:
                values[h.name] = dynamic[(h.dynamic_table, h.dynamic_column)].get(row["ID"])
            else:
                values[h.name] = nxt.get(h.column)
        row["custom_headers"] = values
    return rows


# --- one-statement pages: the row query joined with its look-up tables ------------------------
#
# The sniffer GUI's own call-list shape (reference: sniffer-schema "Call list query shape"): the
# page's keys are selected first (a derived table of ID, calldate and the sort columns, so its
# ORDER BY/LIMIT is the engine's, unchanged, and often answered from an index alone), then
# joined by primary key with ``cdr`` itself (the row's columns, read for the page's rows only)
# and with cdr_sip_response, cdr_ua (a and b), sensors, cdr_next and the cdr_next_N tables of
# the requested dynamic custom headers (``cdr_ID`` + ``calldate``: the whole partitioned primary
# key, so each probe reads one partition). One round trip instead of four or more, no cached
# copy that could go stale, and nothing to read afterwards: a streamed page needs no second
# statement while its cursor holds the connection.
#
# The SELECT list of the row columns and their converters do not depend on the filter: they
# are compiled once per connection and column set (``_columns_plan``). Compiling a 60-column
# ``values()`` on every request cost about 1.5 ms, as much as the SQL of a 1-row answer.

_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MAX_PLANS = 32  # column sets and page plans per connection (a handful in practice)


def _remembered(connection, key: tuple, make: Callable[[], tuple]) -> tuple:
    """``make()``, made once per ``connection`` and ``key`` (a bounded memory per connection)."""
    plans = _PLANS.setdefault(connection, {})
    plan = plans.get(key)
    if plan is None:
        plan = make()
        if len(plans) >= _MAX_PLANS:
            plans.clear()
        plans[key] = plan
    return plan


def _columns_plan(connection, alias: str, columns: tuple[str, ...]) -> tuple:
    """(select SQL of ``cdr``'s ``columns``, their converters) for ``connection``."""

    def make() -> tuple:
        compiler = Cdr.objects.using(alias).values(*columns).query.get_compiler(using=alias)
        compiler.setup_query()
        select = []
        for _, (sql, params), _ in compiler.select:
            if params:  # plain columns never have parameters; refuse rather than guess
                raise ValueError(f"unexpected parameters in the column list: {sql}")
            select.append(sql)
        converters = compiler.get_converters([item[0] for item in compiler.select])
        return select, _fast_converters(converters, connection)

    # the datetime converters bind the zone (and exist only with USE_TZ)
    return _remembered(connection, (columns, connection.timezone_name, settings.USE_TZ), make)


def _bounded(table: str, alias: str, bounds: tuple[str, ...], qn, using: str) -> tuple[str, str]:
    """(index hint, conditions) that keep ``alias`` (partitioned ``table``) to the page's
    calldate window: ``bounds`` are the operators of its parameters (``_window_bounds``).

    Only constant conditions let MariaDB prune partitions: a join on ``calldate = p.calldate``
    alone locks and opens every partition of the table for each statement (a one-day page on
    a year of daily partitions: ~2 ms, docs/benchmarks.md "Tenth round"). The table is still
    read by its primary key; the hint only keeps the optimizer from estimating a calldate
    range over each remaining partition for a join that never uses it.
    """
    if not bounds:
        return "", ""
    column = f"{alias}.{qn('calldate')}"
    conditions = "".join(f" AND {column} {op} %s" for op in bounds)
    ignored = schema.indexes_led_by(table, "calldate", using)
    hint = f" IGNORE INDEX ({', '.join(qn(name) for name in ignored)})" if ignored else ""
    return hint, conditions


def _join_plan(
    names: Sequence[str],
    headers: Sequence[CustomHeader],
    qn,
    bounds: tuple[str, ...] = (),
    using: str = "default",
) -> tuple:
    """(extra SELECT items, JOIN clauses, [(key, table, column)], how many JOIN clauses take
    the window's parameters) for a page with ``names``."""
    select: list[str] = []
    joins: list[str] = []
    extra: list[tuple[str, str, str]] = []
    bounded = 0
    c = qn("cdr")

    def add(key: str, table: str, column: str, alias: str) -> None:
        select.append(f"{alias}.{qn(column)}")
        extra.append((key, table, column))

    if "lastSIPresponse_id" in names and schema.has_table("cdr_sip_response"):
        joins.append(
            f"LEFT JOIN {qn('cdr_sip_response')} r ON r.{qn('id')} = {c}.{qn('lastSIPresponse_id')}"
        )
        add("lastSIPresponse", "cdr_sip_response", "lastSIPresponse", "r")
    if schema.has_table("cdr_ua"):
        for side in ("a", "b"):
            if f"{side}_ua_id" in names:
                alias = f"u{side}"
                joins.append(
                    f"LEFT JOIN {qn('cdr_ua')} {alias} "
                    f"ON {alias}.{qn('id')} = {c}.{qn(f'{side}_ua_id')}"
                )
                add(f"{side}_ua", "cdr_ua", "ua", alias)
    if "id_sensor" in names and schema.has_table("sensors"):
        joins.append(f"LEFT JOIN {qn('sensors')} s ON s.{qn('id_sensor')} = {c}.{qn('id_sensor')}")
        add("sensorname", "sensors", "name", "s")

    def join_next(table: str, alias: str) -> None:
        nonlocal bounded
        # (cdr_ID[, calldate]) is the child table's primary key: at most one row per call,
        # and with calldate each probe reads one partition
        on = f"{alias}.{qn('cdr_ID')} = {c}.{qn('ID')}"
        hint = ""
        if schema.has_column(table, "calldate", using):
            on += f" AND {alias}.{qn('calldate')} = {c}.{qn('calldate')}"
            hint, conditions = _bounded(table, alias, bounds, qn, using)
            if conditions:
                on += conditions
                bounded += 1
        joins.append(f"LEFT JOIN {qn(table)} {alias}{hint} ON {on}")

    if schema.has_table("cdr_next"):
        join_next("cdr_next", "n")
        add("fbasename", "cdr_next", "fbasename", "n")
    # Custom headers in request order: fixed ones from cdr_next, dynamic ones from their
    # cdr_next_N (sniffer-schema §3.1), each table joined once. A header whose table is
    # absent is not selected (the page shows it as None: ``_row_maker``).
    dynamic: set[int] = set()
    for h in headers:
        if h.dynamic_table:
            table, alias = f"cdr_next_{h.dynamic_table}", f"d{h.dynamic_table}"
            if not schema.has_table(table):
                continue
            if h.dynamic_table not in dynamic:
                dynamic.add(h.dynamic_table)
                join_next(table, alias)
            add(f"header:{h.name}", table, h.column, alias)
        elif schema.has_table("cdr_next"):
            add(f"header:{h.name}", "cdr_next", h.column, "n")
    return select, joins, extra, bounded


def _page_plan(
    connection,
    alias: str,
    names: tuple[str, ...],
    headers: Sequence[CustomHeader],
    bounds: tuple[str, ...] = (),
):
    """(the row columns' and look-ups' SELECT list, the JOIN clauses, the row maker, how many
    JOIN clauses take the window's parameters) of a page with ``names`` and ``headers`` whose
    partitioned joins are kept to a calldate window with ``bounds`` (``_window_bounds``),
    made once per connection, column set, headers, bounds and schema generation
    (introspection decides which look-up tables are joined and which columns hold latin1
    text; ``schema.clear_cache()`` starts a new generation)."""

    def make() -> tuple:
        qn = connection.ops.quote_name
        select, joins, extra, bounded = _join_plan(names, headers, qn, bounds, alias)
        row_select, convert = _columns_plan(connection, alias, names)
        c = qn("cdr")
        hint, conditions = _bounded("cdr", c, bounds, qn, alias)
        joined = (
            f"JOIN {c}{hint} ON {c}.{qn('ID')} = p.{qn('ID')} "
            f"AND {c}.{qn('calldate')} = p.{qn('calldate')}{conditions} " + " ".join(joins)
        )
        maker = _row_maker(names, convert, extra, [h.name for h in headers])
        return ", ".join(row_select + select), joined, maker, bounded + bool(conditions)

    located = tuple((h.name, h.column, h.dynamic_table) for h in headers)
    key = (
        "page",
        names,
        located,
        bounds,
        connection.timezone_name,
        settings.USE_TZ,
        schema.generation(),
    )
    return _remembered(connection, key, make)


# The calldate window of a page: (lowest, highest), either may be None.
Window = tuple[datetime | None, datetime | None]


def window_conditions(field, window: Window, connection) -> tuple[tuple[str, ...], list]:
    """(operators, parameters) of ``window``'s bounds: ``>=`` its first, ``<=`` its last, a
    None bound left out. The values are converted by ``field`` (a ``calldate`` field) as the
    ORM's own ``calldate`` look-ups convert them."""
    operators, params = [], []
    for operator, bound in zip((">=", "<="), window, strict=True):
        if bound is not None:
            operators.append(operator)
            params.append(field.get_db_prep_value(bound, connection))
    return tuple(operators), params


def _window_bounds(connection, using: str, window: Window) -> tuple[tuple[str, ...], list]:
    """``window_conditions`` of ``window`` for a page's partitioned joins: none unless the
    database is MySQL and its sniffer tables are partitioned."""
    if connection.vendor != "mysql" or all(bound is None for bound in window):
        return (), []
    if not schema.cdr_is_partitioned(using):
        return (), []
    return window_conditions(Cdr._meta.get_field("calldate"), window, connection)


@cache
def _cdr_fields() -> dict:
    """{field name: field} of ``cdr``'s columns."""
    return {f.name: f for f in Cdr._meta.concrete_fields}


def _inner_sql(qs: QuerySet, keys: list[str], connection) -> tuple[str, list] | None:
    """(sql, params) selecting ``keys`` of the page ``qs``: its filter, order and slice; None
    when the ORM cannot name them in that order. EmptyResultSet when nothing can match.

    When the filter joins no other table (the engine's look-ups are sub-selects), the
    statement is written around the compiled WHERE clause: Django's full SELECT compile
    (select list, ORDER BY resolution, a ``values()`` clone) cost about 130 µs, more than a
    one-row answer's rows. Anything else is compiled by Django as before.
    """
    query = qs.query
    if (
        query.model is Cdr
        and set(query.alias_map) <= {Cdr._meta.db_table}  # no join, the table's own name
        and not (query.distinct or query.group_by or query.annotations or query.extra)
        and not (query.combinator or query.select_for_update or query.extra_tables)
        and query.standard_ordering  # not reversed by .reverse()
        and all(isinstance(key, str) for key in query.order_by)
    ):
        fields = _cdr_fields()
        if all(key.lstrip("-") in fields for key in (*keys, *query.order_by)):
            compiler = query.get_compiler(connection=connection)
            qn = connection.ops.quote_name
            table = qn(Cdr._meta.db_table)
            try:
                where, params = compiler.compile(query.where)
            except FullResultSet:
                where, params = "", []
            order = ", ".join(
                f"{table}.{qn(fields[key.lstrip('-')].column)}"
                + (" DESC" if key.startswith("-") else " ASC")
                for key in query.order_by
            )
            limits = connection.ops.limit_offset_sql(query.low_mark, query.high_mark)
            # Identifiers come from the model; values are the WHERE's parameters.
            sql = (
                "SELECT "  # noqa: S608
                + ", ".join(f"{table}.{qn(fields[key].column)} AS {qn(key)}" for key in keys)
                + f" FROM {table}"
                + (f" WHERE {where}" if where else "")
                + (f" ORDER BY {order}" if order else "")
                + (f" {limits}" if limits else "")
            )
            return sql, list(params)
    compiler = qs.values(*keys).query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    if [alias for _, _, alias in compiler.select] != keys:
        return None
    return sql, list(params)


def _joined_sql(
    qs: QuerySet,
    columns: Sequence[str],
    headers: Sequence[CustomHeader],
    window: Window = (None, None),
):
    """(sql, params, row maker) of the page ``qs`` (an ordered, sliced ``Cdr`` queryset) with
    ``columns`` and its look-ups, or None when it cannot be joined (then ``enrich`` does
    it), or "empty" when nothing can match. ``window``: calldate bounds every row of ``qs``
    is within (its filter's), which the joins of partitioned tables repeat."""
    if "ID" not in columns or "calldate" not in columns:
        return None
    connection = connections[qs.db]
    qn = connection.ops.quote_name
    order = [key.lstrip("-") for key in qs.query.order_by]
    keys = list(dict.fromkeys(["ID", "calldate", *order]))
    if any(name not in columns for name in keys):
        return None  # the outer ORDER BY can only name the page's columns
    try:
        found = _inner_sql(qs, keys, connection)
    except EmptyResultSet:
        return "empty"  # a filter nothing can match (no query is sent, as the ORM does)
    if found is None:
        return None
    inner, params = found
    bounds, window_params = _window_bounds(connection, qs.db, window)
    select, joined, make, bounded = _page_plan(connection, qs.db, tuple(columns), headers, bounds)
    order_by = ", ".join(
        f"p.{qn(key.lstrip('-'))}{' DESC' if key.startswith('-') else ''}"
        for key in qs.query.order_by
    )
    # Identifiers come from the models and from introspection; values stay parameters.
    sql = (
        f"SELECT {select} FROM ({inner}) p {joined}"  # noqa: S608
        + (f" ORDER BY {order_by}" if order_by else "")
    )
    return sql, params + window_params * bounded, make


def _fast_converters(converters: dict, connection) -> list[tuple[int, Callable]]:
    """Django's per-column converters as ``[(index, fn(column) -> list)]``, applied to a whole
    column of a page at once (a comprehension per column instead of calls per value).

    Same results as ``compiler.apply_converters``; two converters that run for every row are
    replaced by equivalents without Django's per-value checks: MySQL's naive → aware datetime
    (``make_aware`` in the connection's zone is ``replace(tzinfo=zone)`` for a zoneinfo zone:
    ``_aware``) and the sniffer IP decoding (``decode_ip`` of each value: ``_addresses``).
    """

    mysql_datetime = None
    if connection.vendor == "mysql" and settings.USE_TZ:
        from django.db.backends.mysql.operations import DatabaseOperations

        mysql_datetime = DatabaseOperations.convert_datetimefield_value
    out: list[tuple[int, Callable]] = []
    for index, (funcs, expression) in converters.items():
        for func in funcs:
            target = getattr(func, "__func__", None)
            if target is not None and target is mysql_datetime:
                out.append((index, partial(_aware, zone=connection.timezone)))
            elif target is SnifferIPField.from_db_value:
                out.append((index, _addresses))
            else:
                out.append(
                    (
                        index,
                        lambda col, f=func, e=expression, c=connection: [f(v, e, c) for v in col],
                    )
                )
    return out


_PACK_IPV4 = struct.Struct("!I").pack


def _addresses(column: Sequence) -> list:
    """``decode_ip`` of each value of an IP column."""
    if set(map(type, column)) <= INTS:  # int unsigned columns: IPv4
        try:
            return [None if v is None else inet_ntoa(_PACK_IPV4(v)) for v in column]
        except struct.error:  # not a 32-bit address: decode_ip says what is wrong
            pass
    # varbinary(16) columns: decoding bytes costs ~2 µs, and a page's addresses repeat
    # (the same PBXs and carriers), so each is decoded once
    return map_distinct(decode_ip, column)


def _aware(column: Sequence, zone) -> list:
    """Naive datetimes (the driver's) as aware ones in ``zone``: ``replace(tzinfo=zone)``,
    written as ``combine``, which is 4x faster (``replace`` parses keyword arguments); the
    fields and ``fold`` are the same."""
    combine = datetime.combine
    return [v if v is None else combine(v.date(), v.time(), zone) for v in column]


# The look-up keys every engine row has (None when the table or column is absent).
LOOKUP_KEYS = ("lastSIPresponse", "a_ua", "b_ua", "sensorname", "fbasename")


def _row_maker(names, convert, extra, header_names: Sequence[str]) -> Callable[[list], Page]:
    """A function turning driver tuples into a ``Page`` of engine rows (the ORM's conversions,
    display text, look-ups) with every requested custom header (``header_names``, in request
    order) as a column. Everything it needs to know is looked up here, before the statement
    runs: a streamed result holds the connection, so no query may run while rows are read."""
    width = len(names)
    # Display text (latin1 columns, cdr.query.storedtext): only non-ASCII strings change.
    latin1_cdr = latin1_columns("cdr")
    texts = [i for i, name in enumerate(names) if name in latin1_cdr]
    texts += [
        width + n for n, (_, table, column) in enumerate(extra) if column in latin1_columns(table)
    ]
    keys = [key for key, _, _ in extra]
    selected = {key[7:]: width + n for n, key in enumerate(keys) if key.startswith("header:")}
    plain = [(width + n, key) for n, key in enumerate(keys) if not key.startswith("header:")]
    layout = _Layout(
        convert=convert,
        texts=texts,
        picks=[*enumerate(names), *plain],
        missing=tuple(key for key in LOOKUP_KEYS if key not in {key for _, key in plain}),
        headers=[(selected.get(name), name) for name in header_names],
    )
    return lambda raw: _make_page(raw, layout)


@dataclass(frozen=True)
class _Layout:
    """Where each row key comes from in the joined statement's result (see ``_row_maker``)."""

    convert: list[tuple[int, Callable]]
    texts: list[int]  # latin1 columns: display text
    picks: list[tuple[int, str]]  # (result column, row key), in row key order
    missing: tuple[str, ...]  # look-up keys this database cannot fill (None in every row)
    # (result column, header name) of each requested custom header, in request order; the
    # column is None for a header the statement could not select (its table is absent)
    headers: list[tuple[int | None, str]]


def _make_page(raw, layout: _Layout) -> Page:
    """A page of driver tuples as engine rows, converted a column at a time."""
    if not raw:
        return Page({}, 0)
    columns: list = list(zip(*raw, strict=True))
    for index, fn in layout.convert:
        columns[index] = fn(columns[index])
    for index in layout.texts:
        columns[index] = display_texts(columns[index])
    data: dict = {key: columns[index] for index, key in layout.picks}
    data.update(dict.fromkeys(layout.missing))
    headers = [
        (name, [None] * len(raw) if index is None else columns[index])
        for index, name in layout.headers
    ]
    return Page(data, len(raw), headers)


def fetch_joined(
    qs: QuerySet,
    columns: Sequence[str],
    headers: Sequence[CustomHeader] = (),
    window: Window = (None, None),
) -> Page:
    """The page ``qs`` (an ordered, sliced ``Cdr`` queryset) as rows of ``columns``, enriched
    in the same statement (``enrich``'s keys). ``window``: see ``_joined_sql``."""
    plan = _joined_sql(qs, columns, headers, window)
    if plan == "empty":
        return Page({}, 0)
    if plan is None:
        return Page.of_rows(enrich(list(qs.values(*columns)), headers))
    sql, params, make = plan
    with streaming_cursor(connections[qs.db]) as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    return make(raw)


def streaming_cursor(connection):
    """A cursor of ``connection`` whose result is read from the server as it is fetched.

    On MySQL this is the driver's unbuffered cursor (``SSCursor``) behind Django's usual
    wrappers: the same health check, error translation (``errors_occurred``, Django's error
    classes), execute wrappers and query log as ``connection.cursor()``. The driver's
    default cursor first copies the whole result into the client library's buffer and only
    then converts it, while the server has long finished; read unbuffered, each row is
    converted while the server still sends the next ones (the two run on two cores), and the
    result is held only once, as Python values. A 10,000-row page: ~160 → ~90-100 ms
    (docs/benchmarks.md, issue 19). Nothing else may use the connection until the result is
    read or the cursor closed (``close()`` discards the rest). Other backends: their cursor.
    """
    if connection.vendor != "mysql":
        return connection.cursor()
    from django.db.backends.mysql.base import CursorWrapper
    from MySQLdb.cursors import SSCursor

    # What BaseDatabaseWrapper._cursor does, with the driver cursor of our choice.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(CursorWrapper(connection.connection.cursor(SSCursor)))


def stream_pages(
    qs: QuerySet,
    columns: Sequence[str],
    headers: Sequence[CustomHeader] = (),
    chunk: int = 1000,
    window: Window = (None, None),
) -> Iterator[Page]:
    """Every row of ``qs`` (joined as ``fetch_joined``, ``window`` likewise), read and yielded
    ``chunk`` rows at a time.

    On MySQL the statement runs on an unbuffered (server-side) cursor: mysqlclient otherwise
    holds the whole result in memory before the first row (1M rows: hundreds of MB). Nothing
    else may use the connection until the generator is exhausted or closed (``close()``
    discards the rest of the result): everything a row shows, custom headers included, comes
    from the one statement.
    """
    plan = _joined_sql(qs, columns, headers, window)
    if plan == "empty":
        return
    if plan is None:
        yield from _stream_enriched(qs.values(*columns), headers, chunk)
        return
    sql, params, make = plan
    cursor = streaming_cursor(connections[qs.db])
    try:
        cursor.execute(sql, params)
        while True:
            raw = cursor.fetchmany(chunk)
            if not raw:
                return
            yield make(raw)
    finally:
        cursor.close()


def _stream_enriched(qs: QuerySet, headers: Sequence[CustomHeader], chunk: int) -> Iterator[Page]:
    batch: list[dict] = []
    for row in qs.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            yield Page.of_rows(enrich(batch, headers))
            batch = []
    if batch:
        yield Page.of_rows(enrich(batch, headers))


def number(value):
    """JSON-friendly number: Decimal → int when whole, else float; None stays None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def scaled(value, divisor: int):
    """A ``*_multN`` column for display (``45`` with N=10 → ``4.5``); NULL stays None."""
    if value is None:
        return None
    if value.__class__ is int:
        whole, rest = divmod(value, divisor)
        if not rest:
            return whole  # the same int as below, without float arithmetic
    result = value / divisor
    return int(result) if result == int(result) else round(result, 4)


def received_packets(value):
    """``a_received``/``b_received`` minus the sniffer's +2 offset."""
    if value is None:
        return None
    return max(value - 2, 0)


def codec_name(number_: int | None) -> str | None:
    """Display name of a sniffer codec number (schema §7), or None when unknown/NULL."""
    if number_ is None:
        return None
    return CODEC_NAMES.get(number_)
