"""``SESSION_ENGINE`` for sessions in the database, read directly (see the package doc)."""

from accounts.sessionstore import SessionStore

__all__ = ["SessionStore"]
