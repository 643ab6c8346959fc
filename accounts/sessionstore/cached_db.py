"""``SESSION_ENGINE`` for sessions in the cache (Redis) backed by the database, whose read
on a cache miss is direct (see the package doc)."""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

from accounts.sessionstore import DirectRead, RememberedDecode


class SessionStore(DirectRead, RememberedDecode, CachedDbSessionStore):
    """Django's cached database session store, its database read direct, its decoding
    remembered."""
