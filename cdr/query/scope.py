"""The one place where a user's row restrictions become SQL.

Every face (api.php, sql.php, REST, GUI, share links, media downloads) obtains CDRs through
``cdr.query.engine``, which calls ``scope_q`` on the caller's ``CdrScope``. A CDR outside the scope
behaves as if it did not exist. The accounts app builds a ``CdrScope`` from a user's groups and
overrides; ``CdrScope.unrestricted()`` is for admins and for anonymous API use when the
"disable authorization" setting is on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from django.db.models import Q

from cdr.query.ipfilter import ip_q
from cdr.query.patterns import like_match, pattern_q


@dataclass(frozen=True)
class CdrScope:
    """What part of the CDR table a user may see. Empty tuples mean "no restriction"."""

    sensors: tuple[int, ...] = ()
    networks: tuple[str, ...] = ()  # IPs / CIDRs: caller or called SIP IP must be inside one
    numbers: tuple[str, ...] = ()  # patterns: caller or called must match one
    domains: tuple[str, ...] = ()  # patterns: caller or called domain must match one
    vlans: tuple[int, ...] = ()
    custom_headers: tuple[str, ...] = ()  # custom CDR headers the user may see; empty = all
    deny_all: bool = False
    label: str = field(default="", compare=False)

    @classmethod
    def unrestricted(cls, label: str = "unrestricted") -> CdrScope:
        return cls(label=label)

    @classmethod
    def nothing(cls) -> CdrScope:
        return cls(deny_all=True, label="nothing")

    def __post_init__(self) -> None:
        for net in self.networks:
            ipaddress.ip_network(net, strict=False)  # fail early on a bad CIDR


def has_row_restrictions(scope: CdrScope) -> bool:
    """Whether the scope limits rows by anything other than sensors."""
    return bool(scope.deny_all or scope.networks or scope.numbers or scope.domains or scope.vlans)


def _like(pattern: str, value: str | None) -> bool:
    """Python twin of cdr.query.patterns (linear in the value: patterns.like_match)."""
    return like_match(pattern, value)


def _in_networks(networks: tuple[str, ...], address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def scope_allows(
    scope: CdrScope,
    *,
    id_sensor: int | None = None,
    caller: str | None = None,
    called: str | None = None,
    caller_domain: str | None = None,
    called_domain: str | None = None,
    callerip: str | None = None,
    calledip: str | None = None,
    vlan: int | None = None,
) -> bool:
    """The same rules as ``scope_q``, for a row that is not in the database (an active call).

    Kept next to ``scope_q`` so that both forms of a restriction change together.
    """
    if scope.deny_all:
        return False
    if scope.sensors and id_sensor not in scope.sensors:
        return False
    if scope.vlans and vlan not in scope.vlans:
        return False
    if scope.networks and not (
        _in_networks(scope.networks, callerip) or _in_networks(scope.networks, calledip)
    ):
        return False
    if scope.numbers and not any(_like(p, caller) or _like(p, called) for p in scope.numbers):
        return False
    return not scope.domains or any(
        _like(p, caller_domain) or _like(p, called_domain) for p in scope.domains
    )


def header_visible(scope: CdrScope, name: str) -> bool:
    """Whether a custom header may be read or filtered on under this scope (case-insensitive)."""
    if not scope.custom_headers:
        return True
    return name.strip().lower() in {h.lower() for h in scope.custom_headers}


def scope_q(scope: CdrScope) -> Q:
    """The WHERE condition (on the cdr table) that a scope adds to every query."""
    if scope.deny_all:
        return Q(pk__in=[])
    q = Q()
    if scope.sensors:
        q &= Q(id_sensor__in=list(scope.sensors))
    if scope.vlans:
        q &= Q(vlan__in=list(scope.vlans))
    if scope.networks:
        nets = Q()
        for net in scope.networks:
            nets |= ip_q("sipcallerip", net) | ip_q("sipcalledip", net)
        q &= nets
    if scope.numbers:
        nums = Q()
        for pattern in scope.numbers:
            nums |= pattern_q("caller", pattern, "caller_reverse")
            nums |= pattern_q("called", pattern, "called_reverse")
        q &= nums
    if scope.domains:
        doms = Q()
        for pattern in scope.domains:
            doms |= pattern_q("caller_domain", pattern) | pattern_q("called_domain", pattern)
        q &= doms
    return q
