"""Introspection of the real sniffer tables: which columns exist and how they are encoded.

The sniffer adds columns by ALTER only on small tables, and its IP columns are ``int unsigned``
or ``varbinary(16)`` depending on its configuration when each column was created. Nothing here
is guessed from the models: every decision is made from the live database, once per process
(cached), and again after ``clear_cache()`` (called by schema creation and by tests).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from django.db import connections

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class TableInfo:
    """Columns of one table, mapping column name → lower-case declared type."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)

    def has(self, column: str) -> bool:
        return column in self.columns

    def type_of(self, column: str) -> str | None:
        return self.columns.get(column)


_cache: dict[tuple[str, str, str], TableInfo | None] = {}
_index_cache: dict[tuple[str, str, str], tuple[str, ...]] = {}
_lock = threading.Lock()
_generation = 0


def clear_cache() -> None:
    """Forget every introspected table (after DDL, or when tests swap databases)."""
    global _generation
    with _lock:
        _cache.clear()
        _index_cache.clear()
        _generation += 1


def generation() -> int:
    """Changes whenever the cache is cleared: what was derived from introspection under one
    generation (an entry, once read, is kept until the next clear) holds for all of it."""
    return _generation


def _load(table: str, using: str) -> TableInfo | None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                [table],
            )
            rows = [(name, str(ctype)) for name, ctype in cursor.fetchall()]
        elif connection.vendor == "sqlite":
            # PRAGMA takes no parameters; the name was validated against _TABLE_NAME above.
            cursor.execute(f'PRAGMA table_info("{table}")')
            rows = [(row[1], row[2]) for row in cursor.fetchall()]
        else:  # pragma: no cover - we support MySQL/MariaDB and SQLite only
            raise NotImplementedError(connection.vendor)
    if not rows:
        return None
    return TableInfo(table, {name: ctype.lower() for name, ctype in rows})


def table_info(table: str, using: str = "default") -> TableInfo | None:
    """Columns of ``table`` in the database, or None when the table does not exist."""
    if not _TABLE_NAME.match(table):
        raise ValueError(f"invalid table name {table!r}")
    key = (using, str(connections[using].settings_dict.get("NAME") or ""), table)
    with _lock:
        if key in _cache:
            return _cache[key]
    info = _load(table, using)
    with _lock:
        _cache[key] = info
    return info


def has_table(table: str, using: str = "default") -> bool:
    return table_info(table, using) is not None


def has_column(table: str, column: str, using: str = "default") -> bool:
    info = table_info(table, using)
    return info is not None and info.has(column)


def ip_is_binary(table: str, column: str, using: str = "default") -> bool:
    """True when the IP column is varbinary (INET6_ATON bytes), False for int unsigned."""
    info = table_info(table, using)
    ctype = info.type_of(column) if info else None
    if ctype is None:
        # Missing column: decide like the sniffer does, by the type of cdr.sipcallerip.
        if (table, column) != ("cdr", "sipcallerip"):
            return ip_is_binary("cdr", "sipcallerip", using)
        return False
    return "binary" in ctype or "blob" in ctype


def cdr_is_partitioned(using: str = "default") -> bool:
    """Partitioned databases give child tables a calldate column (joins should use it)."""
    return has_column("cdr_next", "calldate", using)


def indexes_led_by(table: str, column: str, using: str = "default") -> tuple[str, ...]:
    """Names of ``table``'s secondary indexes whose first column is ``column`` (MySQL; other
    backends, and a table that does not exist, have none). Cached like ``table_info``."""
    if not _TABLE_NAME.match(table):
        raise ValueError(f"invalid table name {table!r}")
    connection = connections[using]
    if connection.vendor != "mysql":
        return ()
    key = (using, str(connection.settings_dict.get("NAME") or ""), f"{table}\0{column}")
    with _lock:
        if key in _index_cache:
            return _index_cache[key]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND SEQ_IN_INDEX = 1 "
            "AND COLUMN_NAME = %s AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME",
            [table, column],
        )
        found = tuple(str(row[0]) for row in cursor.fetchall())
    with _lock:
        _index_cache[key] = found
    return found


def present_fields(model, using: str = "default") -> list[str]:
    """Names of the model's concrete fields whose columns exist in the real table."""
    info = table_info(model._meta.db_table, using)
    if info is None:
        return []
    return [f.attname for f in model._meta.concrete_fields if info.has(f.column)]


def fixed_custom_header_columns(using: str = "default") -> dict[str, str]:
    """Fixed custom headers present in cdr_next: header name → column name."""
    info = table_info("cdr_next", using)
    if info is None:
        return {}
    prefix = "custom_header__"
    return {c[len(prefix) :]: c for c in info.columns if c.startswith(prefix)}
