"""The "API maximal concurrent connections" cap, shared by every worker process on the host.

``api_slot(limit, lock_dir)`` holds one of ``limit`` slot lock files
(``<lock_dir>/api-slot-<n>.lock``) with a non-blocking ``fcntl.flock`` for the duration of a
request. flock locks belong to the open file description, so they count correctly across
processes (gunicorn workers) and threads alike, and the kernel releases them when the holder
closes the file or dies: a killed worker never leaks a slot. When every slot is taken the
request is refused at once (``TooManyApiRequests``); nothing waits.

With ``VMGUI_REDIS_URL`` (several app hosts behind a load balancer) the slots are shared by
every host instead: one sorted set in Redis holds a random token per held slot, scored by
the end of its lease (``VMGUI_API_SLOT_LEASE_SECONDS``). Taking a slot is one atomic Lua
script (drop expired leases, count, add) timed by the Redis server's clock, so hosts with
skewed clocks still agree; giving it back removes the token. A host that dies while holding
slots cannot give them back: its leases expire. If Redis cannot be reached the host falls back
to its own file slots (the cap then holds per host) and logs why.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from cdr.telemetry import API_SLOTS_IN_USE
from vmgui.sharedstate import redis_client

logger = logging.getLogger(__name__)

REDIS_KEY = "vmgui:api-slots"
# KEYS[1] the sorted set; ARGV: limit, lease ms, token. Server time, so hosts agree.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""


class TooManyApiRequests(Exception):
    """Every slot is held; ``reason`` is the user-facing message."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reason = f"too many concurrent API requests (limit {limit})"
        super().__init__(self.reason)


def slot_path(lock_dir: Path, index: int) -> Path:
    return Path(lock_dir) / f"api-slot-{index}.lock"


def _try_lock(path: Path) -> int | None:
    """An open, exclusively flock'ed descriptor for ``path``, or None when someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class SharedSlot(str):
    """A slot held in Redis: the token of its lease."""


def _take_shared(client, limit: int) -> SharedSlot | None:
    """A Redis slot, or None when Redis failed (the caller falls back to file slots)."""
    import redis

    token = SharedSlot(secrets.token_hex(12))
    lease_ms = settings.API_SLOT_LEASE_SECONDS * 1000
    try:
        taken = client.eval(_TAKE, 1, REDIS_KEY, limit, lease_ms, token)
    except redis.RedisError as exc:
        logger.warning("api.php cap: Redis unavailable (%s); counting this host's slots only", exc)
        return None
    if not taken:
        raise TooManyApiRequests(limit)
    return token


def acquire_slot(limit: int, lock_dir: Path) -> int | SharedSlot | None:
    """Take a free slot: its handle (a descriptor or a Redis lease), None when ``limit`` is 0
    (no cap); else raise ``TooManyApiRequests``."""
    if limit <= 0:
        return None
    client = redis_client()
    if client is not None:
        shared = _take_shared(client, limit)
        if shared is not None:
            API_SLOTS_IN_USE.inc()
            return shared
    Path(lock_dir).mkdir(parents=True, exist_ok=True)
    for index in range(limit):
        fd = _try_lock(slot_path(lock_dir, index))
        if fd is not None:
            API_SLOTS_IN_USE.inc()
            return fd
    raise TooManyApiRequests(limit)


def release_slot(fd: int | SharedSlot | None) -> None:
    """Give a slot back (closing the descriptor drops the flock; a lease is removed)."""
    if fd is None:
        return
    API_SLOTS_IN_USE.dec()
    if isinstance(fd, SharedSlot):
        import redis

        try:
            redis_client().zrem(REDIS_KEY, fd)
        except (redis.RedisError, AttributeError) as exc:
            logger.warning("api.php cap: slot not returned to Redis (%s); its lease expires", exc)
        return
    os.close(fd)


@contextmanager
def api_slot(limit: int, lock_dir: Path) -> Iterator[None]:
    """Hold one of ``limit`` host-wide slots while the block runs (no cap when limit is 0)."""
    fd = acquire_slot(limit, lock_dir)
    try:
        yield
    finally:
        release_slot(fd)
