"""Number/domain match patterns shared by every face, the LIKE lookup they compile to, and their
Python twin.

Rule (documented in docs/query-engine.md): a value without ``%`` is an exact match (``_`` is
literal there); a value with ``%`` is an SQL LIKE pattern in which ``%`` and ``_`` are
wildcards. Patterns that start with ``%`` (an "ends with" search) are run against the
sniffer's ``*_reverse`` column with the reversed pattern when one exists, so that MySQL can use
the index; nothing wraps an indexed column in a function.

Bounds: a pattern is at most ``settings.MAX_PATTERN_LENGTH`` characters (longer is a
QueryError), and ``like_match`` (the Python twin, for rows that are not in the database such
as active calls) runs in time linear in the value for a given pattern: runs of ``%`` collapse
into one and the fixed-length pieces between them are found leftmost-first, which is exact for
LIKE and never backtracks (a regex ``.*a.*a.*#`` would, exponentially in the number of ``%``).

Search values are compared as the bytes the sniffer stored (``cdr.query.storedtext``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db.models import Field, Lookup, Q

from cdr.query.errors import QueryError
from cdr.query.storedtext import search_value

ESCAPE = "!"  # our LIKE escape character: the same on MySQL and SQLite (backslash is not)


def check_length(raw: str, what: str = "a search pattern") -> None:
    """Refuse a pattern longer than ``settings.MAX_PATTERN_LENGTH`` (a QueryError naming it)."""
    limit = settings.MAX_PATTERN_LENGTH
    if len(raw) > limit:
        raise QueryError(
            f"{what} is {len(raw)} characters long; at most {limit} are allowed "
            "(VMGUI_MAX_PATTERN_LENGTH)"
        )


@dataclass(frozen=True)
class Pattern:
    """A parsed user pattern: ``exact`` value, or a LIKE ``pattern``."""

    kind: str  # "exact" | "like"
    value: str

    @classmethod
    def parse(cls, raw: str) -> Pattern:
        raw = str(raw)
        check_length(raw)
        if "%" in raw:
            # "%%%%" means the same as "%": collapsing keeps LIKE (and like_match) cheap.
            return cls("like", re.sub("%%+", "%", raw))
        return cls("exact", raw)

    def like_text(self) -> str:
        """The pattern as LIKE text with our escape char escaped (``%``/``_`` stay wildcards)."""
        return self.value.replace(ESCAPE, ESCAPE + ESCAPE)

    def reversed(self) -> Pattern:
        return Pattern(self.kind, self.value[::-1])


def like_sql(lhs: str, rhs: str = "%s") -> str:
    """``lhs LIKE rhs`` with our escape character: the one form of every LIKE the engine sends."""
    return f"{lhs} LIKE {rhs} ESCAPE '{ESCAPE}'"


@Field.register_lookup
class VmLike(Lookup):
    """``column LIKE %s ESCAPE '!'`` with a parameterised pattern (index-friendly for prefixes)."""

    lookup_name = "vmlike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return like_sql(lhs, rhs), [*lhs_params, *rhs_params]


def pattern_q(column: str, raw: str, reverse_column: str | None = None, *, table: str = "cdr") -> Q:
    """A Q object matching ``column`` (of ``table``) against a user pattern (see module doc)."""
    pattern = Pattern.parse(raw)
    if pattern.kind == "exact":
        return Q(**{column: search_value(table, column, pattern.value)})
    if (
        reverse_column
        and pattern.value.startswith("%")
        and not pattern.value.endswith("%")
        and len(pattern.value.strip("%")) > 0
    ):
        text = search_value(table, reverse_column, pattern.reversed().like_text())
        return Q(**{f"{reverse_column}__vmlike": text})
    return Q(**{f"{column}__vmlike": search_value(table, column, pattern.like_text())})


def patterns_q(
    column: str, values: Iterable[str], reverse_column: str | None = None, *, table: str = "cdr"
) -> Q:
    """Any of several patterns: exact values as one ``IN`` list, LIKE patterns ORed."""
    exact: list[str] = []
    q = Q()
    for raw in values:
        pattern = Pattern.parse(raw)
        if pattern.kind == "exact":
            exact.append(search_value(table, column, pattern.value))
        else:
            q |= pattern_q(column, raw, reverse_column, table=table)
    if len(exact) == 1:
        q |= Q(**{column: exact[0]})
    elif exact:
        q |= Q(**{f"{column}__in": list(dict.fromkeys(exact))})
    return q


# --- the Python twin -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _compiled(value: str) -> tuple[tuple[re.Pattern, int], ...]:
    """The fixed-length pieces between ``%`` runs: (regex without repetition, length)."""
    return tuple(
        (
            re.compile("".join("." if ch == "_" else re.escape(ch) for ch in piece), re.I | re.S),
            len(piece),
        )
        for piece in value.split("%")
    )


def like_match(pattern: str, value: str | None) -> bool:
    """Whether ``value`` matches a user pattern, like the SQL (case-insensitive), in linear time.

    Exact without ``%``; else LIKE with ``%`` (any run) and ``_`` (one character). Every piece
    between two ``%`` has a fixed length, so taking each piece at its leftmost place after the
    previous one is exact and each character of ``value`` is examined a bounded number of times
    per piece: no backtracking over the ``%``.
    """
    if value is None:
        return False
    parsed = Pattern.parse(pattern)
    if parsed.kind == "exact":
        return value.lower() == parsed.value.lower()
    first, *middle, last = _compiled(parsed.value)
    if first[0].match(value) is None:
        return False
    pos = first[1]
    for piece, _length in middle:
        found = piece.search(value, pos)
        if found is None:
            return False
        pos = found.end()
    tail = len(value) - last[1]
    return tail >= pos and last[0].fullmatch(value, tail) is not None
