"""The "API maximal concurrent connections" cap, shared by every worker process on the host.

``api_slot(limit, lock_dir)`` holds one of ``limit`` slot lock files
(``<lock_dir>/api-slot-<n>.lock``) with a non-blocking ``fcntl.flock`` for the duration of a
request. flock locks belong to the open file description, so they count correctly across
processes (gunicorn workers) and threads alike, and the kernel releases them when the holder
closes the file or dies: a killed worker never leaks a slot. When every slot is taken the
request is refused at once (``TooManyApiRequests``); nothing waits.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cdr.telemetry import API_SLOTS_IN_USE


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


def acquire_slot(limit: int, lock_dir: Path) -> int | None:
    """Take a free slot: its descriptor, None when ``limit`` is 0 (no cap); else raise."""
    if limit <= 0:
        return None
    Path(lock_dir).mkdir(parents=True, exist_ok=True)
    for index in range(limit):
        fd = _try_lock(slot_path(lock_dir, index))
        if fd is not None:
            API_SLOTS_IN_USE.inc()
            return fd
    raise TooManyApiRequests(limit)


def release_slot(fd: int | None) -> None:
    """Give a slot back (closing the descriptor drops the flock)."""
    if fd is not None:
        os.close(fd)
        API_SLOTS_IN_USE.dec()


@contextmanager
def api_slot(limit: int, lock_dir: Path) -> Iterator[None]:
    """Hold one of ``limit`` host-wide slots while the block runs (no cap when limit is 0)."""
    fd = acquire_slot(limit, lock_dir)
    try:
        yield
    finally:
        release_slot(fd)
