"""Number/domain match patterns shared by every face, and the LIKE lookup they compile to.

Rule (documented in docs/query-engine.md): a value without ``%`` is an exact match (``_`` is
literal there); a value with ``%`` is an SQL LIKE pattern in which ``%`` and ``_`` are
wildcards. Patterns that start with ``%`` (an "ends with" search) are run against the
sniffer's ``*_reverse`` column with the reversed pattern when one exists, so that MySQL can use
the index; nothing wraps an indexed column in a function.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Field, Lookup, Q

ESCAPE = "!"  # our LIKE escape character: the same on MySQL and SQLite (backslash is not)


@dataclass(frozen=True)
class Pattern:
    """A parsed user pattern: ``exact`` value, or a LIKE ``pattern``."""

    kind: str  # "exact" | "like"
    value: str

    @classmethod
    def parse(cls, raw: str) -> Pattern:
        raw = str(raw)
        if "%" in raw:
            return cls("like", raw)
        return cls("exact", raw)

    def like_text(self) -> str:
        """The pattern as LIKE text with our escape char escaped (``%``/``_`` stay wildcards)."""
        return self.value.replace(ESCAPE, ESCAPE + ESCAPE)

    def reversed(self) -> Pattern:
        return Pattern(self.kind, self.value[::-1])


@Field.register_lookup
class VmLike(Lookup):
    """``column LIKE %s ESCAPE '!'`` with a parameterised pattern (index-friendly for prefixes)."""

    lookup_name = "vmlike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '{ESCAPE}'", [*lhs_params, *rhs_params]


def pattern_q(column: str, raw: str, reverse_column: str | None = None) -> Q:
    """A Q object matching ``column`` against a user pattern (see module doc)."""
    pattern = Pattern.parse(raw)
    if pattern.kind == "exact":
        return Q(**{column: pattern.value})
    if (
        reverse_column
        and pattern.value.startswith("%")
        and not pattern.value.endswith("%")
        and len(pattern.value.strip("%")) > 0
    ):
        return Q(**{f"{reverse_column}__vmlike": pattern.reversed().like_text()})
    return Q(**{f"{column}__vmlike": pattern.like_text()})
