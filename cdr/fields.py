"""Model fields for the sniffer's column conventions.

Each field carries ``sniffer_type``: the column type the real sniffer uses (as in its CREATE
TABLE statements), so that ``cdr.ddl`` can create a compatible schema from the models alone.
Three placeholders depend on how the sniffer was configured and are resolved at DDL time:
``IP`` (``int unsigned`` or ``varbinary(16)``), ``DATETIME`` (``datetime`` or ``datetime(3)``)
and ``SECONDS`` (``mediumint unsigned`` or ``decimal(9,3)``).
"""

from __future__ import annotations

import ipaddress
import socket
from decimal import Decimal
from typing import Any

from django.db import models


def sniffer(field: models.Field, sql_type: str) -> models.Field:
    """Attach the sniffer's SQL type to a model field."""
    field.sniffer_type = sql_type
    return field


def decode_ip(value: Any) -> str | None:
    """Decode an IP column value of either encoding to its dotted/colon string.

    ``int unsigned`` columns hold IPv4 as a host-order number (INET_ATON); ``varbinary(16)``
    columns hold INET6_ATON bytes: 4 bytes for IPv4, 16 for IPv6.
    """
    if value is None:
        return None
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        if len(value) in (4, 16):
            return str(ipaddress.ip_address(bytes(value)))
        if len(value) == 0:
            return None
        raise ValueError(f"IP column holds {len(value)} bytes; expected 4 or 16")
    if isinstance(value, Decimal):
        value = int(value)
    if isinstance(value, int):
        if 0 <= value <= 0xFFFFFFFF:
            # inet_ntoa: the same dotted quad as ipaddress (0 → "0.0.0.0", the sniffer's "no
            # address" in int mode), ~10x faster: two per listed row.
            return socket.inet_ntoa(value.to_bytes(4, "big"))
        return str(ipaddress.IPv4Address(value))
    if isinstance(value, str):
        return str(ipaddress.ip_address(value))
    raise TypeError(f"cannot decode IP column value of type {type(value).__name__}")


def encode_ip(address: str, binary: bool) -> int | bytes:
    """Encode an address the way the sniffer stores it in an ``int`` or ``varbinary`` column.

    Raises ValueError for an unparsable address, or for IPv6 in an IPv4-only (int) column.
    """
    ip = ipaddress.ip_address(address)
    if binary:
        return ip.packed
    if ip.version != 4:
        raise ValueError(f"{address} is IPv6 but this database stores IPv4 only")
    return int(ip)


class SnifferIPField(models.Field):
    """An IP address column in either of the sniffer's encodings, read as a string.

    Which encoding a column uses is decided per column by introspection (cdr.schema), because
    a database may be half-migrated between the two.
    """

    description = "IP address stored as int unsigned (IPv4) or varbinary(16) (INET6_ATON)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)
        self.sniffer_type = "IP"

    def get_internal_type(self) -> str:
        return "BinaryField"

    def db_type(self, connection: Any) -> str:
        return "varbinary(16)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return decode_ip(value)

    def to_python(self, value: Any) -> str | None:
        return decode_ip(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, (int, bytes)):
            return value
        from cdr import schema

        binary = schema.ip_is_binary(self.model._meta.db_table, self.column)
        return encode_ip(str(value), binary)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        # Skip BinaryField's own conversion: ints must reach the driver as ints.
        return value if prepared else self.get_prep_value(value)


class SecondsField(models.DecimalField):
    """Seconds as ``mediumint unsigned`` (whole) or ``decimal(9,3)`` (ms mode), read as Decimal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)
        self.sniffer_type = "SECONDS"


class SnifferDateTimeField(models.DateTimeField):
    """A naive wall-clock datetime written by the sniffer (``datetime`` or ``datetime(3)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sniffer_type = "DATETIME"
