"""Create a sniffer-compatible schema on a fresh database, from the models in cdr.models.

Used by ``manage.py create_sniffer_schema`` (and the demo). It only ever runs
``CREATE TABLE IF NOT EXISTS``: an existing sniffer table is never altered or dropped.

Modes mirror the sniffer's configuration:
- ``ipv6``: IP columns ``varbinary(16)`` (INET6_ATON bytes) instead of ``int unsigned``;
- ``ms``: ``datetime(3)`` and ``decimal(9,3)`` seconds instead of ``datetime``/``mediumint``;
- ``partitioned``: daily ``RANGE COLUMNS(calldate)`` partitions ``pYYMMDD`` on MySQL,
  PK ``(ID, calldate)``, child tables get ``calldate`` and no foreign keys. Unpartitioned
  databases get PK ``(ID)`` and ``ON DELETE CASCADE`` foreign keys on MySQL instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connections

from cdr import models as m
from cdr import schema

# Child tables that have calldate only when partitioned (cdr_proxy and cdr_audio_transcribe
# always have it).
CALLDATE_IF_PARTITIONED = {
    "cdr_next",
    "cdr_rtp",
    "cdr_dtmf",
    "cdr_siphistory",
    "cdr_sdp",
    "cdr_tar_part",
    *(f"cdr_next_{n}" for n in range(1, m.CDR_NEXT_MAX + 1)),
}
PARTITIONED_TABLES = {
    "cdr",
    "cdr_proxy",
    "cdr_audio_transcribe",
    *CALLDATE_IF_PARTITIONED,
    "message",
    "register_state",
    "register_failed",
}

CDR_KEYS: dict[str, list[str]] = {
    "calldate": ["calldate"],
    "callend": ["callend"],
    "duration": ["duration"],
    "source": ["caller"],
    "source_reverse": ["caller_reverse"],
    "destination": ["called"],
    "destination_reverse": ["called_reverse"],
    "callername": ["callername"],
    "callername_reverse": ["callername_reverse"],
    "sipcallerip": ["sipcallerip"],
    "sipcalledip": ["sipcalledip"],
    "lastSIPresponseNum": ["lastSIPresponseNum"],
    "bye": ["bye"],
    "a_saddr": ["a_saddr"],
    "b_saddr": ["b_saddr"],
    "a_lost": ["a_lost"],
    "b_lost": ["b_lost"],
    "a_maxjitter": ["a_maxjitter"],
    "b_maxjitter": ["b_maxjitter"],
    "a_rtcp_loss": ["a_rtcp_loss"],
    "b_rtcp_loss": ["b_rtcp_loss"],
    "a_rtcp_maxfr": ["a_rtcp_maxfr"],
    "b_rtcp_maxfr": ["b_rtcp_maxfr"],
    "a_rtcp_maxjitter": ["a_rtcp_maxjitter"],
    "b_rtcp_maxjitter": ["b_rtcp_maxjitter"],
    "a_ua_id": ["a_ua_id"],
    "b_ua_id": ["b_ua_id"],
    "a_avgjitter_mult10": ["a_avgjitter_mult10"],
    "b_avgjitter_mult10": ["b_avgjitter_mult10"],
    "lastSIPresponse_id": ["lastSIPresponse_id"],
    "payload": ["payload"],
    "vlan": ["vlan"],
    "id_sensor": ["id_sensor"],
}
OTHER_KEYS: dict[str, dict[str, list[str]]] = {
    "cdr_next": {"fbasename": ["fbasename"], "match_header": ["match_header"]},
    "cdr_proxy": {"dst": ["dst"]},
    "cdr_audio_transcribe": {"fbasename": ["fbasename"]},
    "message": {"calldate": ["calldate"], "source": ["caller"], "destination": ["called"]},
    "register_state": {"created_at": ["created_at"]},
    "register_failed": {"created_at": ["created_at"]},
}
UNIQUE_KEYS: dict[str, dict[str, list[str]]] = {
    "cdr_sip_response": {"lastSIPresponse": ["lastSIPresponse"]},
    "cdr_sip_request": {"request": ["request"]},
    "cdr_ua": {"ua": ["ua"]},
    "cdr_reason": {"type_reason": ["type", "reason"]},
}


@dataclass(frozen=True)
class SchemaOptions:
    """How the sniffer that 'owns' the new schema is configured."""

    ipv6: bool = False
    ms: bool = True
    partitioned: bool = True
    partition_from: dt.date | None = None
    partition_days: int = 45


def _resolve_type(sql: str, opts: SchemaOptions, vendor: str) -> str:
    sql = sql.replace("DATETIME", "datetime(3)" if opts.ms else "datetime")
    sql = sql.replace("SECONDS", "decimal(9,3)" if opts.ms else "mediumint unsigned")
    if sql == "IP":
        sql = "varbinary(16)" if opts.ipv6 else "int unsigned"
    if vendor == "sqlite":
        if sql.startswith("enum("):
            default = sql.split("DEFAULT", 1)[1].strip() if "DEFAULT" in sql else None
            sql = "varchar(16)" + (f" DEFAULT {default}" if default else "")
        sql = sql.replace(" AUTO_INCREMENT", "")
    return sql


def _columns(model: type[m.SnifferModel], opts: SchemaOptions) -> list:
    table = model._meta.db_table
    fields = []
    for field in model._meta.concrete_fields:
        if field.column == "calldate" and table in CALLDATE_IF_PARTITIONED and not opts.partitioned:
            continue
        fields.append(field)
    return fields


def _sql_type(field, opts: SchemaOptions, vendor: str) -> str:
    if field.column == "cdr_ID":
        return "bigint unsigned NOT NULL"
    sql = getattr(field, "sniffer_type", None)
    if sql is None:
        raise TypeError(f"{field.model.__name__}.{field.name} has no sniffer_type")
    sql = _resolve_type(sql, opts, vendor)
    if "NOT NULL" not in sql and "DEFAULT" not in sql:
        sql += " DEFAULT NULL"
    return sql


def table_ddl(model: type[m.SnifferModel], opts: SchemaOptions, vendor: str) -> str:
    """The CREATE TABLE IF NOT EXISTS statement for one sniffer table."""
    table = model._meta.db_table
    qn = connections["default"].ops.quote_name if vendor != "sqlite" else (lambda n: f'"{n}"')
    fields = _columns(model, opts)
    pk = model._meta.pk
    has_calldate = any(f.column == "calldate" for f in fields)
    is_child = pk.column == "cdr_ID"
    lines: list[str] = []
    for field in fields:
        sql = _sql_type(field, opts, vendor)
        if (
            vendor == "sqlite"
            and field is pk
            and not is_child
            and "AUTO" in (field.sniffer_type or "")
        ):
            lines.append(f"{qn(field.column)} INTEGER PRIMARY KEY AUTOINCREMENT")
            continue
        if vendor == "sqlite" and field is pk and not is_child and table != "cdr_next":
            lines.append(f"{qn(field.column)} {sql} PRIMARY KEY")
            continue
        lines.append(f"{qn(field.column)} {sql}")
    keys: list[str] = []
    index_defs: list[tuple[str, list[str], bool]] = []
    if vendor != "sqlite":
        if table == "cdr" or not is_child and table in PARTITIONED_TABLES:
            pk_cols = [pk.column, "calldate"] if opts.partitioned and has_calldate else [pk.column]
            keys.append("PRIMARY KEY (" + ", ".join(qn(c) for c in pk_cols) + ")")
        elif not is_child:
            keys.append(f"PRIMARY KEY ({qn(pk.column)})")
    one_to_one = table == "cdr_next" or table.startswith("cdr_next_")
    if is_child and one_to_one:
        pk_cols = ["cdr_ID", "calldate"] if has_calldate else ["cdr_ID"]
        keys.append("PRIMARY KEY (" + ", ".join(qn(c) for c in pk_cols) + ")")
    elif is_child:
        index_defs.append((f"{table}_cdr_ID", ["cdr_ID"], False))
    if has_calldate and table != "cdr":
        index_defs.append((f"{table}_calldate", ["calldate"], False))
    extra = dict(CDR_KEYS) if table == "cdr" else OTHER_KEYS.get(table, {})
    for name, cols in extra.items():
        index_defs.append((f"{table}_{name}", cols, False))
    for name, cols in UNIQUE_KEYS.get(table, {}).items():
        index_defs.append((f"{table}_{name}", cols, True))
    unique_defs = {}
    for name, cols, unique in index_defs:
        unique_defs.setdefault(name, (name, cols, unique))
    index_defs = list(unique_defs.values())
    if vendor != "sqlite":
        for name, cols, unique in index_defs:
            short = name.removeprefix(f"{table}_")
            keys.append(
                f"{'UNIQUE ' if unique else ''}KEY {qn(short)} ("
                + ", ".join(qn(c) for c in cols)
                + ")"
            )
        if is_child and not opts.partitioned and table not in {"cdr_proxy"}:
            keys.append(
                f"CONSTRAINT {qn(table + '_ibfk_1')} FOREIGN KEY ({qn('cdr_ID')}) "
                f"REFERENCES {qn('cdr')} ({qn('ID')}) ON DELETE CASCADE ON UPDATE CASCADE"
            )
    body = ",\n  ".join(lines + keys)
    statement = f"CREATE TABLE IF NOT EXISTS {qn(table)} (\n  {body}\n)"
    if vendor == "sqlite":
        statements = [statement]
        for name, cols, unique in index_defs:
            statements.append(
                f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {qn(name)} ON {qn(table)} ("
                + ", ".join(qn(c) for c in cols)
                + ")"
            )
        return ";\n".join(statements)
    charset = "utf8mb4" if table in {"cdr_audio_transcribe", "cdr_custom_headers"} else "latin1"
    statement += f" ENGINE=InnoDB DEFAULT CHARSET={charset}"
    if opts.partitioned and has_calldate and table in PARTITIONED_TABLES:
        statement += "\n" + partition_clause(opts)
    return statement


def partition_name(day: dt.date) -> str:
    return "p" + day.strftime("%y%m%d")


def partition_clause(opts: SchemaOptions) -> str:
    start = opts.partition_from or (dt.date.today() - dt.timedelta(days=30))
    parts = []
    for offset in range(opts.partition_days):
        day = start + dt.timedelta(days=offset)
        limit = (day + dt.timedelta(days=1)).isoformat()
        parts.append(f"PARTITION {partition_name(day)} VALUES LESS THAN ('{limit}')")
    return "PARTITION BY RANGE COLUMNS(calldate)\n(" + ",\n ".join(parts) + ")"


def create_schema(opts: SchemaOptions, using: str = "default") -> list[str]:
    """Create every missing sniffer table; returns the names of the tables created."""
    connection = connections[using]
    vendor = connection.vendor
    existing = set(connection.introspection.table_names())
    created = []
    with connection.cursor() as cursor:
        for model in m.SNIFFER_MODELS:
            table = model._meta.db_table
            if table in existing:
                continue
            for statement in table_ddl(model, opts, vendor).split(";\n"):
                cursor.execute(statement)
            created.append(table)
    schema.clear_cache()
    return created


def ensure_partitions(first: dt.date, last: dt.date, using: str = "default") -> list[str]:
    """Add daily partitions up to ``last`` on every partitioned sniffer table (MySQL only).

    The sniffer itself adds tomorrow's partition every day; tests and the demo use this to
    insert rows on dates that no partition covers yet. Only appends after the newest partition.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        return []
    added = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, MAX(PARTITION_DESCRIPTION) FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL GROUP BY TABLE_NAME"
        )
        for table, max_desc in cursor.fetchall():
            newest_limit = dt.date.fromisoformat(max_desc.strip("'")[:10])
            day = max(newest_limit, first)
            if newest_limit > first:
                day = newest_limit
            while day <= last:
                limit = (day + dt.timedelta(days=1)).isoformat()
                cursor.execute(
                    f"ALTER TABLE {connection.ops.quote_name(table)} ADD PARTITION "
                    f"(PARTITION {partition_name(day)} VALUES LESS THAN ('{limit}'))"
                )
                added.append(f"{table}.{partition_name(day)}")
                day += dt.timedelta(days=1)
    return added
