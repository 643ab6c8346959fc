"""Plain-dict CDR rows: batch enrichment of a page and display conversions.

Rows come from ``cdr.query.engine`` as dicts of raw column values (IPs already decoded to strings).
``enrich`` adds, for a whole page at once: ``lastSIPresponse`` (text), ``a_ua``/``b_ua``,
``sensorname``, ``fbasename`` (the raw Call-ID) and ``custom_headers`` {name: value}.

Texts from the sniffer's latin1 tables are returned as the text the phone sent (the sniffer
stores the UTF-8 bytes it received; ``cdr.query.storedtext``): "日本", not "æ—¥æœ¬".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import connection

from cdr import schema
from cdr.codecnumbers import CODEC_NAMES
from cdr.models import CDR_NEXT_MODELS, CdrNext, CdrSipResponse, CdrUa, Sensor
from cdr.query.customheaders import CustomHeader
from cdr.query.storedtext import display_row, display_value


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


def _page_bounds(rows: list[dict]) -> tuple | None:
    """(first, last) calldate of a page: lets child-table look-ups prune partitions."""
    dates = [r["calldate"] for r in rows if r.get("calldate") is not None]
    return (min(dates), max(dates)) if dates else None


def _cdr_next(ids: list[int], fixed_columns: list[str], bounds: tuple | None) -> dict[int, dict]:
    if not ids or not schema.has_table("cdr_next"):
        return {}
    qn = connection.ops.quote_name
    columns = ["fbasename", *fixed_columns]
    placeholders = ", ".join(["%s"] * len(ids))
    params: list = list(ids)
    # Column names come from introspection; ids are parameters.
    sql = (
        f"SELECT {qn('cdr_ID')}, {', '.join(qn(c) for c in columns)} FROM {qn('cdr_next')} "  # noqa: S608 - identifiers from introspection
        f"WHERE {qn('cdr_ID')} IN ({placeholders})"
    )
    if bounds and schema.has_column("cdr_next", "calldate"):
        # Without this, a partitioned cdr_next is probed once per partition for every id.
        sql += f" AND {qn('calldate')} BETWEEN %s AND %s"
        field = CdrNext._meta.get_field("calldate")
        params += [field.get_db_prep_value(b, connection) for b in bounds]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            row[0]: display_row("cdr_next", dict(zip(columns, row[1:], strict=True)))
            for row in cursor.fetchall()
        }


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
    bounds = _page_bounds(rows)
    nexts = _cdr_next(ids, fixed, bounds)
    dynamic: dict[tuple[int, int], dict[int, str]] = {}
    for h in headers:
        if h.dynamic_table and (h.dynamic_table, h.dynamic_column) not in dynamic:
            model = CDR_NEXT_MODELS[h.dynamic_table]
            found = model.objects.filter(cdr_id__in=ids)
            if bounds and schema.has_column(model._meta.db_table, "calldate"):
                found = found.filter(calldate__range=bounds)
            table = model._meta.db_table
            dynamic[(h.dynamic_table, h.dynamic_column)] = {
                cdr_id: display_value(table, h.column, value)
                for cdr_id, value in found.values_list("cdr_id", h.column)
            }
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
