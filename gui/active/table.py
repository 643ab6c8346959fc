"""The active-calls table: per visible sensor, its status and its calls as display rows.

Plain data for the templates, built from ``cdr.sensors.registry.list_active_calls`` (the
caller's scope decides the sensors and calls, as in every other face). Whether a call is
paused is not in the manager's ``listcalls``: it is the last successful pause/unpause done
through vmgui (any face: they all write the ``call_pause`` audit event) after the call began.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from accounts.models import AuditEvent
from cdr.codecnumbers import codec_name
from cdr.query.scope import CdrScope
from cdr.sensors.manager import ActiveCall, ManagerError
from cdr.sensors.registry import SensorInfo, list_active_calls

MAX_ROWS_PER_SENSOR = 500
# Call progress as the manager reports it (lastSIPresponseNum), in words.
PROGRESS = {100: "Trying", 180: "Ringing", 181: "Forwarded", 182: "Queued", 183: "Early media"}


@dataclass
class CallRow:
    """One active call as the table shows it."""

    sensor_id: int
    ref: str
    callid: str
    start: dt.datetime | None
    duration: int | None
    caller: str
    callername: str
    called: str
    caller_ip: str
    called_ip: str
    codecs: str
    mos: float | None
    loss: float | None
    sip_code: int | None
    state: str
    answered: bool
    paused: bool = False

    @property
    def duration_text(self) -> str:
        if self.duration is None:
            return ""
        minutes, seconds = divmod(max(0, self.duration), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@dataclass
class SensorBlock:
    """One sensor: up (its calls) or down (why)."""

    sensor: SensorInfo
    calls: list[CallRow] = field(default_factory=list)
    down: str = ""
    more: int = 0

    @property
    def label(self) -> str:
        return self.sensor.name or f"sensor {self.sensor.id}"


@dataclass
class ActiveTable:
    blocks: list[SensorBlock]
    error: str = ""
    fetched: dt.datetime | None = None

    @property
    def total(self) -> int:
        return sum(len(b.calls) + b.more for b in self.blocks)


def _mos(call: ActiveCall) -> float | None:
    """The worse side's current MOS (the manager sends MOS × 10; 0/None = no RTP yet)."""
    values = [call.get(f"{side}_mosf1") for side in ("src", "dst")]
    scores = [v / 10 for v in values if isinstance(v, (int, float)) and v > 0]
    return min(scores) if scores else None


def _loss(call: ActiveCall) -> float | None:
    values = [call.get(f"{side}_loss") for side in ("src", "dst")]
    losses = [float(v) for v in values if isinstance(v, (int, float))]
    return max(losses) if losses else None


def _codecs(call: ActiveCall) -> str:
    names = []
    for column in ("callercodec", "calledcodec"):
        number = call.get(column)
        if isinstance(number, int) and number >= 0:
            name = codec_name(number)
            if name not in names:
                names.append(name)
    return " / ".join(names)


def _state(code: int | None, answered: bool) -> str:
    if answered:
        return "Talking"
    if code is None:
        return "Starting"
    if code >= 300:
        return "Ending"
    return PROGRESS.get(code, "Trying" if code < 200 else "Connecting")


def _start(value: object) -> dt.datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return None


def call_row(sensor: SensorInfo, call: ActiveCall) -> CallRow:
    code = call.get("lastSIPresponseNum")
    code = code if isinstance(code, int) else None
    connected = call.get("connect_duration")
    answered = (isinstance(connected, int) and connected > 0) or code == 200
    duration = call.get("duration")
    return CallRow(
        sensor_id=sensor.id,
        ref=call.callreference.lower(),
        callid=call.callid or "",
        start=_start(call.get("calldate_num")),
        duration=duration if isinstance(duration, int) else None,
        caller=call.get("caller") or "",
        callername=call.get("callername") or "",
        called=call.get("called") or "",
        caller_ip=call.ip("callerip") or "",
        called_ip=call.ip("calledip") or "",
        codecs=_codecs(call),
        mos=_mos(call),
        loss=_loss(call),
        sip_code=code,
        state=_state(code, answered),
        answered=answered,
    )


def mark_paused(rows: Iterable[CallRow]) -> None:
    """Set ``paused`` from the newest successful pause/unpause of each call since it began."""
    rows = [r for r in rows if r.start is not None]
    if not rows:
        return
    by_key = {(r.sensor_id, r.ref): r for r in rows}
    events = (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.CALL_PAUSE,
            success=True,
            object_id__in=sorted({r.ref for r in rows}),
            time__gte=min(r.start for r in rows),
        )
        .order_by("time", "id")
        .values_list("object_id", "details", "time")
    )
    for ref, details, when in events:
        details = details if isinstance(details, dict) else {}
        row = by_key.get((details.get("sensor"), ref))
        # A call reference is a memory address: a later call may reuse an ended one's.
        if row is not None and when >= row.start:
            row.paused = details.get("command") == "pausecall"


def build(scope: CdrScope) -> ActiveTable:
    """The table for this scope: every sensor it may see, asked in parallel."""
    now = dt.datetime.now(dt.UTC)
    try:
        result = list_active_calls(scope)
    except ManagerError as exc:  # an unusable AES key: no sensor could be asked
        return ActiveTable([], error=exc.reason, fetched=now)
    blocks = {s.id: SensorBlock(s) for s in result.answered}
    for failure in result.failed:
        blocks[failure.sensor.id] = SensorBlock(failure.sensor, down=failure.reason)
    for item in result.calls:  # newest first
        block = blocks.setdefault(item.sensor.id, SensorBlock(item.sensor))
        if len(block.calls) >= MAX_ROWS_PER_SENSOR:
            block.more += 1
            continue
        block.calls.append(call_row(item.sensor, item.call))
    ordered = [blocks[k] for k in sorted(blocks)]
    mark_paused(row for block in ordered for row in block.calls)
    return ActiveTable(ordered, fetched=now)
