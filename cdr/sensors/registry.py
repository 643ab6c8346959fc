"""The sensor registry and the active calls of every sensor a caller may see.

* **Registry.** The sniffer's ``sensors`` table (``id_sensor``, ``name``, ``host``, ``port``)
  lists the sensors; ``host``/``port`` is the sensor's manager address, defaulting to
  ``VMGUI_MANAGER_HOST``:``VMGUI_MANAGER_PORT`` (127.0.0.1:5029). A database whose table is
  empty (or missing) has one implicit sensor, id 0 ``local``, at that default address: the
  single local sniffer.
* **Scope.** ``CdrScope.sensors`` (``enable_sensors``) restricts the sensors a caller may query
  or act on; a sensor outside it behaves exactly as one that does not exist. The implicit
  local sensor has id 0, so a restricted caller sees it only when 0 is in the list.
* **Several sensors, one manager.** Sensors that share a manager address (a sniffer in server
  mode receiving from several clients, or the demo) are asked once; each call is named after
  the sensor whose id it reports (``id_sensor`` column). A call that reports no registered id
  of that address is named after the address's lowest-id sensor, and shown only to callers
  who may see every sensor of that address.
* **Parallel, bounded.** Managers are asked in parallel (a thread pool of at most
  ``VMGUI_MANAGER_MAX_PARALLEL``); each request is bounded by the client's connect and reply
  timeouts and the whole fan-out by their sum, so one dead sensor costs at most that long and
  is reported as failed with its reason while the others' calls are returned.

Database reads (registry, AES key) happen in the caller's thread, before the fan-out.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from cdr import schema
from cdr.media.spool import CallRef, MediaMissing
from cdr.models import Sensor, System
from cdr.query.scope import CdrScope, has_row_restrictions, scope_allows
from cdr.sensors.manager import (
    ActiveCall,
    AesConfig,
    CallNotFound,
    ManagerClient,
    ManagerError,
    RemoteSpoolFile,
    check_call_ref,
    locate_remote,
)

logger = logging.getLogger(__name__)

LOCAL_SENSOR_ID = 0
LOCAL_SENSOR_NAME = "local"
PAUSE_COMMANDS = ("pausecall", "unpausecall")


class UnknownSensor(ManagerError):
    """No such sensor, or not one the caller may see (the same answer)."""


class ManagerKeyError(ManagerError):
    """The configured or stored manager AES key cannot be used."""


@dataclass(frozen=True)
class SensorInfo:
    """One sensor and where its manager listens."""

    id: int
    name: str
    host: str
    port: int
    implicit: bool = False

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def describe(self) -> str:
        return f"sensor {self.id} ({self.name})" if self.name else f"sensor {self.id}"

    def as_json(self) -> dict:
        return {"sensorId": self.id, "sensorName": self.name or None}


@dataclass(frozen=True)
class SensorFailure:
    sensor: SensorInfo
    reason: str


@dataclass(frozen=True)
class SensorCall:
    """An active call and the sensor it is named after."""

    sensor: SensorInfo
    call: ActiveCall


@dataclass
class ActiveCalls:
    """The merged answer: calls (newest first, then by sensor id), the sensors that answered,
    those that failed (with why)."""

    calls: list[SensorCall]
    answered: list[SensorInfo]
    failed: list[SensorFailure]


# ---------------------------------------------------------------------------
# Registry and scope
# ---------------------------------------------------------------------------


def _default_address() -> tuple[str, int]:
    return settings.MANAGER_HOST, settings.MANAGER_PORT


def registry() -> list[SensorInfo]:
    """Every sensor, by id (the implicit local sensor when the table is empty or missing)."""
    host, port = _default_address()
    rows: Iterable = ()
    if schema.has_table("sensors"):
        rows = Sensor.objects.order_by("id_sensor").values_list("id_sensor", "name", "host", "port")
    out = [
        SensorInfo(
            id=int(sid),
            name=(name or "").strip(),
            host=(h or "").strip() or host,
            port=int(p) if p and 0 < int(p) < 65536 else port,
        )
        for sid, name, h, p in rows
    ]
    if not out:
        out = [SensorInfo(LOCAL_SENSOR_ID, LOCAL_SENSOR_NAME, host, port, implicit=True)]
    return out


def allowed(scope: CdrScope, sensor: SensorInfo) -> bool:
    if scope.deny_all:
        return False
    return not scope.sensors or sensor.id in scope.sensors


def visible_sensors(scope: CdrScope, sensors: Sequence[SensorInfo] | None = None):
    """The sensors this scope may see, by id."""
    return [s for s in (registry() if sensors is None else sensors) if allowed(scope, s)]


def get_sensor(scope: CdrScope, sensor_id: int, sensors: Sequence[SensorInfo] | None = None):
    """One sensor by id; UnknownSensor when absent *or* outside the scope (same answer)."""
    for sensor in registry() if sensors is None else sensors:
        if sensor.id == sensor_id and allowed(scope, sensor):
            return sensor
    raise UnknownSensor(f"no such sensor: {sensor_id}")


# ---------------------------------------------------------------------------
# Manager clients
# ---------------------------------------------------------------------------


def manager_aes() -> AesConfig | None:
    """The AES key to use: settings first (like the sniffer's own config), then the
    ``system`` row ``manager_key``; None = plaintext. ``VMGUI_MANAGER_AES=off`` = never."""
    if settings.MANAGER_AES == "off":
        return None
    if settings.MANAGER_AES_KEY:
        try:
            return AesConfig.from_base64(
                settings.MANAGER_AES_KEY, settings.MANAGER_AES_IV, "settings"
            )
        except ValueError as exc:
            raise ManagerKeyError(f"VMGUI_MANAGER_AES_KEY/IV cannot be used: {exc}") from None
    if not schema.has_table("system"):
        return None
    content = (
        System.objects.filter(type="manager_key")
        .order_by("-id")
        .values_list("content", flat=True)
        .first()
    )
    if not content:
        return None
    try:
        return AesConfig.from_json(content, "system.manager_key")
    except ValueError as exc:
        raise ManagerKeyError(f"the system manager_key row cannot be used: {exc}") from None


def client_for(sensor: SensorInfo, aes: AesConfig | None = None) -> ManagerClient:
    return ManagerClient(
        sensor.host,
        sensor.port,
        connect_timeout=settings.MANAGER_CONNECT_TIMEOUT,
        timeout=settings.MANAGER_TIMEOUT,
        aes=aes,
    )


def _groups(sensors: Sequence[SensorInfo]) -> dict[tuple[str, int], list[SensorInfo]]:
    groups: dict[tuple[str, int], list[SensorInfo]] = {}
    for sensor in sensors:
        groups.setdefault(sensor.address, []).append(sensor)
    return groups


def call_visible(scope: CdrScope, sensor: SensorInfo, call: ActiveCall) -> bool:
    """Whether the scope's row restrictions (numbers, IPs, domains) admit an active call."""
    return scope_allows(
        scope,
        id_sensor=sensor.id,
        caller=call.get("caller"),
        called=call.get("called"),
        caller_domain=call.get("callerdomain"),
        called_domain=call.get("calleddomain"),
        callerip=call.ip("callerip"),
        calledip=call.ip("calledip"),
        vlan=call.get("vlan"),
    )


def _owner(call: ActiveCall, group: Sequence[SensorInfo]) -> tuple[SensorInfo, bool]:
    """The sensor a call is named after, and whether its own id_sensor said so."""
    reported = call.id_sensor
    for sensor in group:
        if reported is not None and sensor.id == reported and not sensor.implicit:
            return sensor, True
    return group[0], len(group) == 1


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def _listcalls(client: ManagerClient):
    if settings.MANAGER_ZIP:
        return client.listcalls(zip=True)
    return client.listcalls()


def list_active_calls(scope: CdrScope, sensor_id: int | None = None) -> ActiveCalls:
    """Active calls of every sensor the scope may see (or of one), asked in parallel.

    UnknownSensor when ``sensor_id`` is not a visible sensor; ManagerKeyError when the AES key
    is unusable. Per-sensor failures are collected, never raised.
    """
    sensors = registry()
    if sensor_id is not None:
        targets = [get_sensor(scope, sensor_id, sensors)]
    else:
        targets = visible_sensors(scope, sensors)
    aes = manager_aes()
    groups = _groups(sensors)
    wanted = {s.address for s in targets}
    target_ids = {s.id for s in targets}
    result = ActiveCalls([], [], [])
    if not wanted:
        return result
    budget = settings.MANAGER_CONNECT_TIMEOUT + settings.MANAGER_TIMEOUT + 0.5
    workers = max(1, min(len(wanted), settings.MANAGER_MAX_PARALLEL))
    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="manager")
    started = time.monotonic()
    try:
        futures = {
            pool.submit(_listcalls, client_for(groups[address][0], aes)): address
            for address in sorted(wanted)
        }
        done, _ = concurrent.futures.wait(futures, timeout=budget)
        for future, address in futures.items():
            group = groups[address]
            members = [s for s in group if s.id in target_ids]
            if future not in done:
                reason = f"no answer within {time.monotonic() - started:.1f} s"
                result.failed.extend(SensorFailure(s, reason) for s in members)
                continue
            try:
                calls = future.result()
            except ManagerError as exc:
                result.failed.extend(SensorFailure(s, exc.reason) for s in members)
                continue
            except Exception:
                logger.exception("listcalls on %s:%s failed", *address)
                reason = "internal error while asking the sensor (the server log has the details)"
                result.failed.extend(SensorFailure(s, reason) for s in members)
                continue
            result.answered.extend(members)
            whole_group = all(allowed(scope, s) for s in group)
            for call in calls.calls:
                owner, identified = _owner(call, group)
                if (
                    owner.id in target_ids
                    and (identified or whole_group)
                    and call_visible(scope, owner, call)
                ):
                    result.calls.append(SensorCall(owner, call))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    result.calls.sort(key=_newest_first)
    result.answered.sort(key=lambda s: s.id)
    result.failed.sort(key=lambda f: f.sensor.id)
    return result


def _newest_first(item: SensorCall):
    started = item.call.get("calldate_num")
    return (-(started if isinstance(started, int) else 0), item.sensor.id)


def check_pause_command(command: object) -> str:
    if command not in PAUSE_COMMANDS:
        raise ValueError("command must be pausecall or unpausecall")
    return command  # type: ignore[return-value]


def check_call_access(
    scope: CdrScope,
    sensor: SensorInfo,
    ref: str,
    sensors: Sequence[SensorInfo],
    client: ManagerClient,
) -> None:
    """CallNotFound unless ``ref`` may be acted on (pause, listen) by this scope at ``sensor``.

    On a shared manager, or for a user limited to some numbers/IPs/domains, the call must be
    one this caller would see in listActiveCalls (one ``listcalls`` request); otherwise the
    sensor itself answers for a reference it does not know.
    """
    group = _groups(sensors)[sensor.address]
    if len(group) == 1 and not has_row_restrictions(scope):
        return
    calls = _listcalls(client)
    whole_group = all(allowed(scope, s) for s in group)
    mine = False
    for call in calls.calls:
        if call.callreference.lower() != ref:
            continue
        owner, identified = _owner(call, group)
        mine = (
            owner.id == sensor.id
            and (identified or whole_group)
            and call_visible(scope, owner, call)
        )
        break
    if not mine:
        raise CallNotFound(f"no active call {ref} on {sensor.describe()}")


def pause_call(scope: CdrScope, sensor_id: int, command: str, ref: str) -> SensorInfo:
    """Pause (``pausecall``) or resume (``unpausecall``) the recording of an active call.

    ``command`` and ``ref`` are validated before anything is sent (ValueError /
    InvalidRequest). When several sensors share the manager, the call must be one named after
    this sensor (so a caller restricted to one of them cannot touch the others' calls).
    Raises UnknownSensor, CallNotFound, or another ManagerError.
    """
    check_pause_command(command)
    ref = check_call_ref(ref)
    sensors = registry()
    sensor = get_sensor(scope, sensor_id, sensors)
    aes = manager_aes()
    client = client_for(sensor, aes)
    check_call_access(scope, sensor, ref, sensors, client)
    if command == "pausecall":
        client.pausecall(ref)
    else:
        client.unpausecall(ref)
    return sensor


# ---------------------------------------------------------------------------
# Remote spool files (VMGUI_SPOOL_REMOTE=missing)
# ---------------------------------------------------------------------------


def sensor_of(call: CallRef, sensors: Sequence[SensorInfo] | None = None) -> SensorInfo:
    """The registered sensor a CDR belongs to; calls without a sensor id (or of an unknown
    one) belong to the default manager address (the local sniffer)."""
    sensors = registry() if sensors is None else sensors
    for sensor in sensors:
        if call.id_sensor is not None and sensor.id == call.id_sensor and not sensor.implicit:
            return sensor
    host, port = _default_address()
    return SensorInfo(LOCAL_SENSOR_ID, LOCAL_SENSOR_NAME, host, port, implicit=True)


def remote_locate(call: CallRef, kind: str, *, index: int | None = None) -> RemoteSpoolFile | None:
    """A call file that is not in the local spool, looked up on its sensor's spool through
    the manager port (``file_exists``, then streamed ``getfile``/``getfile_in_tar``).

    Only for CDRs the media layer already found through the caller's scope. Raises
    MediaMissing naming the sensor when it cannot be asked.
    """
    sensor = sensor_of(call)
    try:
        aes = manager_aes()
    except ManagerKeyError as exc:
        raise MediaMissing(f"the file is not in the local spool: {exc.reason}") from None
    return locate_remote(client_for(sensor, aes), call, kind, index=index, label=sensor.describe())
