"""Live listening to active calls: bounded listen sessions over the manager's ``listen``,
``readaudio`` and ``listen_stop`` (shared/reference/sniffer-manager.md §7).

The sniffer mixes a call's audio into 8 kHz mono s16le PCM for each *listener* (a call
reference plus a listen id of ours) and hands out what accumulated since that listener's last
``readaudio``. A web face polls ``read`` every half second; nothing here holds a request open.

* **Sessions** are records in a small directory shared by the worker processes of a host
  (``LISTEN_STATE_DIR``, default ``<VMGUI_DATA_DIR>/listen``): one JSON file per session,
  its modification time = the last read. With ``VMGUI_REDIS_URL`` (several app hosts) they
  are Redis hashes instead, so a session started through one host is read and stopped through
  any other (docs/deployment.md). Each is bound to its owner (the user) and a digest
  of the owner's web session: another user, or another browser of the same user, cannot read
  or stop it. Listen ids are 16 random hex digits (the sniffer reads at most 19 characters).
* **Bounded**: at most ``LISTEN_MAX_PER_USER`` sessions per user and ``LISTEN_MAX_TOTAL`` in
  all (checked and reserved under a file lock before the sensor is asked).
* **Idle stop**: a session not read for ``LISTEN_IDLE_SECONDS`` (a closed tab whose stop
  beacon got lost, a sleeping laptop) is stopped by the server itself: ``listen_stop`` is sent
  and the record removed. ``sweep`` does it; it runs at every start/read/stop and in a daemon
  thread of each process that started a session, while sessions exist.
* **Scope**: starting needs a sensor the caller's scope may see and, on a shared manager or for
  a user with row restrictions, a call the caller would see in the active-call list
  (``registry.check_call_access``, the same rule as pausing). A sensor that drops out of the
  caller's scope ends the session at the next read.

Errors are ``ManagerError`` subclasses with a ``reason`` fit to show: ``ListenLimit``,
``LiveAudioDisabled``, ``ListenNotFound`` (no such session of this caller: ended, stopped or
idle), ``ListenEnded`` (the call ended, or the sensor dropped the listener), plus the
registry's ``UnknownSensor``/``CallNotFound`` and the client's connection errors.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

from django.conf import settings

from cdr.query.scope import CdrScope
from cdr.sensors import registry
from cdr.sensors.manager import (
    CallNotFound,
    ManagerClient,
    ManagerError,
    ManagerReplyError,
    check_call_ref,
)
from vmgui.sharedstate import redis_client

logger = logging.getLogger(__name__)

SAMPLE_RATE: Final = 8000  # readaudio's PCM: 8 kHz mono signed 16-bit little-endian
DEFAULT_MAX_PER_USER: Final = 2
DEFAULT_MAX_TOTAL: Final = 20
DEFAULT_IDLE_SECONDS: Final = 15.0
_LISTEN_ID: Final = re.compile(r"[0-9a-f]{16}")
# listen's answers (manager.md §7).
LISTEN_OK: Final = ("success", "call already listening")
LISTEN_CALL_NOT_FOUND: Final = "call not found"
LISTEN_DISABLED: Final = "liveaudio is disabled"


class ListenError(ManagerError):
    """A live-listening request cannot be served; ``reason`` is safe to show."""


class ListenLimit(ListenError):
    """Too many listen sessions (this user's, or the server's)."""


class LiveAudioDisabled(ListenError):
    """The sensor runs without ``liveaudio=yes``."""


class ListenNotFound(ListenError):
    """No such listen session of this caller (never was, stopped, or stopped for idleness)."""


class ListenEnded(ListenError):
    """The call ended, or the sensor no longer knows the listener."""


@dataclass(frozen=True)
class ListenSession:
    """One live-listening session: who listens to which call on which sensor."""

    listen_id: str
    owner: str
    session: str
    sensor_id: int
    sensor_name: str
    host: str
    port: int
    call_ref: str
    started: float
    last_seen: float = 0.0

    def describe(self) -> str:
        name = f" ({self.sensor_name})" if self.sensor_name else ""
        return f"call {self.call_ref} on sensor {self.sensor_id}{name}"


# ---------------------------------------------------------------------------
# Settings (read at use: tests and deployments may change them)
# ---------------------------------------------------------------------------


def max_per_user() -> int:
    return int(getattr(settings, "LISTEN_MAX_PER_USER", DEFAULT_MAX_PER_USER))


def max_total() -> int:
    return int(getattr(settings, "LISTEN_MAX_TOTAL", DEFAULT_MAX_TOTAL))


def idle_seconds() -> float:
    return float(getattr(settings, "LISTEN_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))


def state_dir() -> Path:
    configured = getattr(settings, "LISTEN_STATE_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "listen"


# ---------------------------------------------------------------------------
# The session store: one file per session, a lock file for check-and-reserve
# ---------------------------------------------------------------------------


class _Store:
    """Sessions as files of one host's directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.name = str(directory)

    def exists(self) -> bool:
        return self.dir.is_dir()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _path(self, listen_id: str) -> Path:
        if not _LISTEN_ID.fullmatch(listen_id):  # the only values ever put into a path
            raise ListenNotFound("no such listening session")
        return self.dir / f"{listen_id}.json"

    def get(self, listen_id: str) -> ListenSession | None:
        path = self._path(listen_id)
        try:
            data = json.loads(path.read_text())
            seen = path.stat().st_mtime
        except (OSError, ValueError):
            return None
        try:
            return replace(ListenSession(**data), last_seen=seen)
        except TypeError:
            return None

    def all(self) -> list[ListenSession]:
        if not self.dir.is_dir():
            return []
        out = []
        for path in self.dir.glob("*.json"):
            found = self.get(path.stem) if _LISTEN_ID.fullmatch(path.stem) else None
            if found is not None:
                out.append(found)
        return out

    def put(self, item: ListenSession) -> None:
        path = self._path(item.listen_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(item)))
        os.replace(tmp, path)

    def touch(self, listen_id: str, now: float) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._path(listen_id), (now, now))

    def remove(self, listen_id: str) -> bool:
        """True when this call removed it (so this caller is the one to send listen_stop)."""
        try:
            self._path(listen_id).unlink()
        except FileNotFoundError:
            return False
        return True


class _RedisStore:
    """Sessions as Redis hashes shared by every app host (``VMGUI_REDIS_URL``): the record's
    JSON and ``seen`` (the last read), plus a set of the ids; a Redis lock for
    check-and-reserve."""

    PREFIX: Final = "vmgui:listen"

    def __init__(self, client) -> None:
        self.client = client
        self.name = f"redis:{self.PREFIX}"
        self.ids = f"{self.PREFIX}:ids"

    def _key(self, listen_id: str) -> str:
        if not _LISTEN_ID.fullmatch(listen_id):
            raise ListenNotFound("no such listening session")
        return f"{self.PREFIX}:s:{listen_id}"

    def exists(self) -> bool:
        return bool(self.client.scard(self.ids))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self.client.lock(f"{self.PREFIX}:lock", timeout=30, blocking_timeout=30):
            yield

    def get(self, listen_id: str) -> ListenSession | None:
        data = self.client.hgetall(self._key(listen_id))
        try:
            record = json.loads(data[b"record"])
            return replace(ListenSession(**record), last_seen=float(data[b"seen"]))
        except (KeyError, ValueError, TypeError):
            return None

    def all(self) -> list[ListenSession]:
        out = []
        for raw in self.client.smembers(self.ids):
            listen_id = raw.decode("ascii", "replace")
            found = self.get(listen_id) if _LISTEN_ID.fullmatch(listen_id) else None
            if found is None:
                self.client.srem(self.ids, raw)
            else:
                out.append(found)
        return out

    def put(self, item: ListenSession) -> None:
        record = json.dumps(asdict(replace(item, last_seen=0.0)))
        with self.client.pipeline() as pipe:
            pipe.hset(self._key(item.listen_id), mapping={"record": record, "seen": time.time()})
            pipe.sadd(self.ids, item.listen_id)
            pipe.execute()

    # Only a session that still exists is touched (a late read must not revive a stopped one).
    _TOUCH: Final = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'seen', ARGV[1]) end"

    def touch(self, listen_id: str, now: float) -> None:
        self.client.eval(self._TOUCH, 1, self._key(listen_id), repr(now))

    def remove(self, listen_id: str) -> bool:
        with self.client.pipeline() as pipe:
            pipe.delete(self._key(listen_id))
            pipe.srem(self.ids, listen_id)
            deleted, _ = pipe.execute()
        return deleted == 1


def _store() -> _Store | _RedisStore:
    client = redis_client()
    return _RedisStore(client) if client is not None else _Store(state_dir())


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def _client(item: ListenSession, sensor: registry.SensorInfo | None = None) -> ManagerClient:
    target = sensor or registry.SensorInfo(item.sensor_id, item.sensor_name, item.host, item.port)
    return registry.client_for(target, registry.manager_aes())


def _send_stop(item: ListenSession) -> None:
    """``listen_stop`` for a session already removed from the store; failures are logged
    (the sniffer also drops listeners nobody reads)."""
    try:
        _client(item).listen_stop(item.call_ref, item.listen_id)
    except ManagerError as exc:
        logger.info("listen_stop %s: %s", item.describe(), exc.reason)
    except Exception:
        logger.exception("listen_stop %s failed", item.describe())


def sessions(owner: str | None = None) -> list[ListenSession]:
    """Current sessions (of one owner), oldest first."""
    found = [s for s in _store().all() if owner is None or s.owner == owner]
    return sorted(found, key=lambda s: s.started)


def start(
    scope: CdrScope,
    sensor_id: int,
    ref: str,
    *,
    owner: str,
    session: str,
    now: float | None = None,
) -> ListenSession:
    """Start listening to an active call; the new session (its ``listen_id`` for ``read``).

    A session of the same owner and web session on the same call is replaced (a reloaded
    page). Raises InvalidRequest, UnknownSensor, CallNotFound, ListenLimit,
    LiveAudioDisabled, or the client's ManagerError (sensor down, AES refused, ...).
    """
    ref = check_call_ref(ref)
    now = time.time() if now is None else now
    sweep(now)
    sensors = registry.registry()
    sensor = registry.get_sensor(scope, sensor_id, sensors)
    store = _store()
    item = ListenSession(
        listen_id=secrets.token_hex(8),
        owner=owner,
        session=session,
        sensor_id=sensor.id,
        sensor_name=sensor.name,
        host=sensor.host,
        port=sensor.port,
        call_ref=ref,
        started=now,
    )
    replaced: list[ListenSession] = []
    with store.locked():
        current = store.all()
        for old in current:
            same = (old.owner, old.session, old.sensor_id, old.call_ref)
            if same == (owner, session, sensor.id, ref) and store.remove(old.listen_id):
                replaced.append(old)
        current = [s for s in current if s not in replaced]
        mine = [s for s in current if s.owner == owner]
        if len(mine) >= max_per_user():
            raise ListenLimit(
                f"you are already listening to {len(mine)} call(s), the most one user may: "
                "stop one first"
            )
        if len(current) >= max_total():
            raise ListenLimit(
                f"{len(current)} calls are being listened to on this server, the most it "
                "allows: try again later"
            )
        store.put(item)  # reserved before the sensor is asked, so the caps hold
    for old in replaced:
        _send_stop(old)
    try:
        client = registry.client_for(sensor, registry.manager_aes())
        registry.check_call_access(scope, sensor, ref, sensors, client)
        reply = client.listen(ref, item.listen_id)
        if reply == LISTEN_CALL_NOT_FOUND:
            raise CallNotFound(f"no active call {ref} on {sensor.describe()} (it may have ended)")
        if reply == LISTEN_DISABLED:
            raise LiveAudioDisabled(
                f"{sensor.describe()} does not allow live listening (liveaudio is disabled: "
                "set liveaudio=yes in its voipmonitor.conf)"
            )
        if reply not in LISTEN_OK:
            raise ManagerReplyError(f"unexpected listen reply: {reply[:120]!r}")
    except BaseException:
        store.remove(item.listen_id)
        raise
    _ensure_reaper(store)
    return replace(item, last_seen=now)


def _own(listen_id: str, owner: str, session: str) -> ListenSession:
    found = _store().get(listen_id) if _LISTEN_ID.fullmatch(listen_id or "") else None
    if found is None or found.owner != owner or found.session != session:
        raise ListenNotFound(
            "this listening session has ended (stopped, the call ended, or no audio was "
            f"fetched for {idle_seconds():g} s)"
        )
    return found


def read(
    listen_id: str,
    *,
    owner: str,
    session: str,
    scope: CdrScope,
    now: float | None = None,
) -> bytes:
    """The PCM that arrived since the last read (b"" while there is none yet).

    Raises ListenNotFound, ListenEnded (the session is then gone, and the sensor told), or
    the client's ManagerError for a sensor that does not answer (the session stays; it is
    stopped for idleness if the sensor stays away).
    """
    now = time.time() if now is None else now
    sweep(now)
    item = _own(listen_id, owner, session)
    store = _store()
    try:
        sensor = registry.get_sensor(scope, item.sensor_id)
    except registry.UnknownSensor:
        if store.remove(item.listen_id):
            _send_stop(item)
        raise ListenEnded(f"you may no longer see sensor {item.sensor_id}") from None
    store.touch(item.listen_id, now)
    try:
        data = _client(item, sensor).readaudio(item.call_ref, item.listen_id)
    except CallNotFound:
        if store.remove(item.listen_id):
            _send_stop(item)
        raise ListenEnded(f"the call has ended ({item.describe()})") from None
    except ManagerReplyError as exc:
        # "error: worker not found" / "client of worker not found": the sniffer dropped us.
        if store.remove(item.listen_id):
            _send_stop(item)
        raise ListenEnded(f"{sensor.describe()} stopped the listening: {exc.reason}") from None
    return data


def stop(listen_id: str, *, owner: str, session: str) -> ListenSession | None:
    """Stop a session of this caller (``listen_stop``); None when there was none."""
    try:
        item = _own(listen_id, owner, session)
    except ListenNotFound:
        return None
    if not _store().remove(item.listen_id):
        return None
    _send_stop(item)
    return item


def stop_all(owner: str, session: str | None = None) -> int:
    """Stop every session of an owner (of one web session): sign-out, a revoked right."""
    store = _store()
    gone = []
    with store.locked():
        for item in store.all():
            if item.owner == owner and session in (None, item.session):
                if store.remove(item.listen_id):
                    gone.append(item)
    for item in gone:
        _send_stop(item)
    return len(gone)


def sweep(now: float | None = None) -> list[ListenSession]:
    """Stop the sessions nobody read for ``LISTEN_IDLE_SECONDS``; the stopped ones."""
    return _expire(_store(), time.time() if now is None else now)


def _expire(store: _Store | _RedisStore, now: float) -> list[ListenSession]:
    if not store.exists():
        return []
    limit = now - idle_seconds()
    expired = []
    with store.locked():
        for item in store.all():
            if item.last_seen < limit and store.remove(item.listen_id):
                expired.append(item)
    for item in expired:
        logger.info("live listening %s stopped: idle", item.describe())
        _send_stop(item)
    return expired


# ---------------------------------------------------------------------------
# The idle reaper: one daemon thread per process and directory, while sessions exist
# ---------------------------------------------------------------------------

_reapers: dict[str, threading.Thread] = {}
_reapers_lock = threading.Lock()


def _ensure_reaper(store: _Store | _RedisStore) -> None:
    if not getattr(settings, "LISTEN_REAPER", True):
        return
    with _reapers_lock:
        running = _reapers.get(store.name)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_reap, args=(store,), name="listen-reaper", daemon=True)
        _reapers[store.name] = thread
        thread.start()


def _reap(store: _Store | _RedisStore) -> None:
    from django.db import connections

    directory = store.name
    while True:
        time.sleep(max(0.2, min(5.0, idle_seconds() / 3)))
        if _store().name != directory:  # the store was reconfigured (tests): another reaper's
            with _reapers_lock:
                if _reapers.get(directory) is threading.current_thread():
                    del _reapers[directory]
            return
        try:
            with _reapers_lock:
                # Checked under the lock ``_ensure_reaper`` takes after a start stored its
                # session: either that session is seen here, or a new reaper is started.
                if not store.all():
                    if _reapers.get(directory) is threading.current_thread():
                        del _reapers[directory]
                    return
            _expire(store, time.time())
        except Exception:
            logger.exception("live-listening reaper")
        finally:
            connections.close_all()  # this thread's own connections (AES key look-up)
