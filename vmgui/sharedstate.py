"""The Redis connection shared by several app hosts (``VMGUI_REDIS_URL``), or None.

Django's cache and sessions reach Redis through Django's own Redis cache backend; this client
is for the few things that need Redis commands themselves (the api.php concurrency cap's
shared slots, api.legacy.concurrency). One client per process (redis-py pools connections).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def redis_client():
    """A redis-py client for VMGUI_REDIS_URL, or None when Redis is not configured."""
    url = getattr(settings, "REDIS_URL", "")
    return _client(url) if url else None
