"""Insert rows into sniffer tables the way the sniffer does: only into columns that exist.

Used by the demo generator, the benchmarks and tests (vmgui itself never writes CDRs). Values
are converted by the model fields (IPs encoded per column, aware datetimes made naive in the
sniffer's zone) and passed as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections

from cdr import schema


def insert(model, rows: Iterable[dict], using: str = "default", batch: int = 2000) -> int:
    """Insert dicts keyed by field attname (``cdr_id`` or ``cdr`` for the parent). Returns count."""
    connection = connections[using]
    info = schema.table_info(model._meta.db_table, using)
    if info is None:
        raise LookupError(f"table {model._meta.db_table} does not exist")
    qn = connection.ops.quote_name
    count = 0
    pending: list[Sequence] = []
    columns: list[str] | None = None
    fields = None
    sql = ""

    def flush() -> None:
        if pending:
            with connection.cursor() as cursor:
                cursor.executemany(sql, pending)
            pending.clear()

    for row in rows:
        if columns is None:
            fields = []
            for key in row:
                field = model._meta.get_field(key)
                if info.has(field.column):
                    fields.append((key, field))
            columns = [f.column for _, f in fields]
            placeholders = ", ".join(["%s"] * len(columns))
            sql = (
                f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608 - identifiers from introspection
                f"VALUES ({placeholders})"
            )
        values = []
        for key, field in fields:
            value = row.get(key)
            if hasattr(value, "pk") and field.is_relation:
                value = value.pk
            if field.is_relation:
                field = field.target_field
            values.append(field.get_db_prep_save(value, connection))
        pending.append(values)
        count += 1
        if len(pending) >= batch:
            flush()
    flush()
    return count
