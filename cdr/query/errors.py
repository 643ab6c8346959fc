"""The error every part of the CDR query core raises for a filter it cannot run.

Kept in its own module so that ``cdr.query.patterns`` and ``cdr.query.storedtext`` (imported by
the engine) can raise it too; ``cdr.query.engine.QueryError`` is the same class.
"""

from __future__ import annotations


class QueryError(ValueError):
    """A filter that cannot be run (unknown custom header, bad IP ...); message is user-facing."""
