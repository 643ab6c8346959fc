"""Parsing and validating the restriction lists stored on groups and users.

Lists are stored as text, one entry per line or comma-separated, so that admins can paste them.
Each parser returns a tuple of clean values or raises ``ValidationError`` naming the bad entry;
the admin, the management command and ``accounts.permissions`` all use these.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError

_SPLIT = re.compile(r"[\s,;]+")
_PATTERN = re.compile(r"^[\w%+*#.@:\-]{1,128}$")


def _items(text: str | None) -> list[str]:
    return [item for item in _SPLIT.split(text or "") if item]


def parse_sensors(text: str | None) -> tuple[int, ...]:
    out = []
    for item in _items(text):
        if not item.isdigit():
            raise ValidationError(f"sensor id {item!r} is not a whole number")
        out.append(int(item))
    return tuple(out)


def parse_vlans(text: str | None) -> tuple[int, ...]:
    out = []
    for item in _items(text):
        if not item.isdigit() or not 0 <= int(item) <= 4095:
            raise ValidationError(f"VLAN {item!r} is not a number from 0 to 4095")
        out.append(int(item))
    return tuple(out)


def parse_networks(text: str | None) -> tuple[str, ...]:
    out = []
    for item in _items(text):
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValidationError(f"{item!r} is not an IP address or CIDR network") from None
    return tuple(out)


def parse_patterns(text: str | None, what: str = "number") -> tuple[str, ...]:
    """Number or domain patterns (exact, or with % wildcards as in the CDR filters)."""
    out = []
    for item in _items(text):
        if not _PATTERN.match(item) or item.strip("%") == "":
            raise ValidationError(
                f"{what} pattern {item!r} is not valid (use e.g. 420% or %.example.com)"
            )
        out.append(item)
    return tuple(out)


def parse_names(text: str | None) -> tuple[str, ...]:
    """Custom header names."""
    return tuple(_items(text))
