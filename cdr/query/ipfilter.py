"""IP address / CIDR conditions that work on both of the sniffer's IP encodings."""

from __future__ import annotations

import ipaddress

from django.db.models import F, Q
from django.db.models.functions import Length

from cdr import schema
from cdr.fields import encode_ip


class IPFilterError(ValueError):
    """The user's IP filter is not an address or network we can match."""


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise IPFilterError(f"{text!r} is not an IP address or CIDR network") from None


def ip_q(column: str, text: str, table: str = "cdr", prefix: str = "") -> Q:
    """Match ``column`` (of ``table``) against an address or CIDR, using the column's encoding.

    Comparisons are plain ``=`` / ``BETWEEN`` on the raw column so the index is used. On a
    varbinary column an IPv4 range also checks the value length, because 16-byte IPv6 values
    sort between 4-byte IPv4 bounds.
    """
    net = parse_network(text)
    binary = schema.ip_is_binary(table, column)
    lookup = f"{prefix}{column}"
    if not binary and net.version == 6:
        return Q(pk__in=[])  # an IPv4-only column can never hold an IPv6 address
    first = encode_ip(str(net.network_address), binary)
    if net.num_addresses == 1:
        return Q(**{lookup: first})
    last = encode_ip(str(net.broadcast_address), binary)
    q = Q(**{f"{lookup}__gte": first, f"{lookup}__lte": last})
    if binary:
        q &= _length_q(lookup, len(first))
    return q


def _length_q(lookup: str, size: int) -> Q:
    from django.db.models.lookups import Exact

    return Q(Exact(Length(F(lookup)), size))
