"""Text in the sniffer's ``latin1`` tables: search values in, display text out.

The sniffer creates its tables ``latin1`` and stores the bytes it received, which are UTF-8
for every current phone (sniffer-schema §1: "caller names and numbers are stored as raw bytes
in latin1 columns"). vmgui talks utf8mb4 to MySQL/MariaDB, so the server converts between the
two: a stored "日本" (bytes ``E6 97 A5 E6 9C AC``) reads back as "æ—¥æœ¬", and a utf8mb4 search
value "日本" cannot be converted to latin1 at all ("Illegal mix of collations").

* ``stored_form(value)``: the text whose latin1 bytes are ``value``'s UTF-8 bytes. Compared
  with a latin1 column the server converts it back to exactly those bytes, so the search runs
  on the raw column (its index stays usable) and matches what the sniffer stored.
* ``display_text(value)``: the inverse for values read back: the text the phone sent. Bytes
  that are not UTF-8 (an old phone sending real latin1) are shown as latin1, unchanged; a
  value the sniffer cut inside a multi-byte character loses only that partial character.

MySQL's ``latin1`` is Windows-1252 with its five undefined bytes mapped to U+0081, U+008D,
U+008F, U+0090 and U+009D (checked against MariaDB 10.11). Which columns are latin1 is read
from ``information_schema`` per table (a column an administrator converted to utf8mb4 needs no
translation). SQLite stores Python text as UTF-8 itself: nothing to translate there.
"""

from __future__ import annotations

import codecs
import threading

from django.db import connections

from cdr import schema
from cdr.query.errors import QueryError


def _mysql_latin1_table() -> str:
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: MySQL maps them to U+00xx
            chars.append(chr(byte))
    return "".join(chars)


_DECODING = _mysql_latin1_table()
_ENCODING = codecs.charmap_build(_DECODING)


def utf8_bytes(value: str, what: str = "a search value") -> bytes:
    """``value`` as UTF-8; a lone surrogate (not text at all) is a QueryError."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(
            f"{what} contains a lone UTF-16 surrogate (e.g. \\ud800), which is not text"
        ) from None


def stored_form(value: str) -> str:
    """``value`` as the sniffer's latin1 column holds it (its UTF-8 bytes, one char each)."""
    if value.isascii():
        return value
    return codecs.charmap_decode(utf8_bytes(value), "strict", _DECODING)[0]


def display_text(value):
    """A value read from a latin1 column as the text the phone sent (see the module doc)."""
    if not isinstance(value, str) or value.isascii():
        return value
    try:
        data = codecs.charmap_encode(value, "strict", _ENCODING)[0]
    except UnicodeEncodeError:  # not latin1 text at all: already real text
        return value
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut inside the last character
            return data[: exc.start].decode("utf-8", errors="replace")
        return value  # real latin1 bytes (or garbage): show them as latin1


_cache: dict[tuple[str, str, str], tuple[object, frozenset[str]]] = {}
_lock = threading.Lock()


def latin1_columns(table: str, using: str = "default") -> frozenset[str]:
    """Columns of ``table`` stored as latin1 (MySQL only; empty on SQLite or without the table).

    Cached next to ``cdr.schema``'s introspection: the entry is reused only while
    ``schema.table_info`` returns the same object, so ``schema.clear_cache()`` clears it too.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        return frozenset()
    info = schema.table_info(table, using)
    if info is None:
        return frozenset()
    key = (using, str(connection.settings_dict.get("NAME") or ""), table)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] is info:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s AND CHARACTER_SET_NAME = 'latin1'",
            [table],
        )
        columns = frozenset(row[0] for row in cursor.fetchall())
    with _lock:
        _cache[key] = (info, columns)
    return columns


def search_value(table: str, column: str, value: str) -> str:
    """A search value for ``table.column`` in the form the column stores it."""
    if value.isascii():
        return value
    if column in latin1_columns(table):
        return stored_form(value)
    utf8_bytes(value)  # a lone surrogate is refused on every backend
    return value


def display_value(table: str, column: str, value):
    """A value read from ``table.column`` as the text the phone sent (latin1 columns only)."""
    if isinstance(value, str) and not value.isascii() and column in latin1_columns(table):
        return display_text(value)
    return value


def display_row(table: str, row: dict) -> dict:
    """Every latin1 text value of ``row`` (keyed by column) as display text, in place."""
    columns = latin1_columns(table)
    if columns:
        for key, value in row.items():
            if key in columns and isinstance(value, str):
                row[key] = display_text(value)
    return row
