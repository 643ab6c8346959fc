"""api.php's CDR tasks: getVoipCalls and listCdrIds.

This module only translates: request params → ``cdr.query.engine.CdrFilter`` (the one query engine,
run with the caller's ``CdrScope``) and engine rows → api.php's row shape. No filter logic
lives here. The choices the spec leaves open are listed in docs/legacy-api.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from accounts.permissions import require_flag
from accounts.services import ApiPrincipal
from api.legacy.dates import format_datetimes, parse_datetime_param
from api.legacy.params import (
    ParamError,
    bool_value,
    check_count,
    int_list,
    int_value,
    is_blank,
    text_list,
    text_value,
)
from cdr.query import engine as query
from cdr.query.columns import Out, codec_names, numbers, packets, scaled_by, shape
from cdr.query.engine import CdrFilter
from cdr.query.page import Capped, Page
from vmgui.legacyjson import json_list

LIST_CDR_IDS_DEFAULT_SIZE = 100
# getVoipCalls' rows per streamed page: 500-2,000 measured alike (docs/benchmarks.md)
VOIP_CALLS_CHUNK = 1000


def _given(params: dict[str, Any], *names: str) -> tuple[str, Any] | None:
    """The first of ``names`` present in params with a non-blank value, as (name, value)."""
    for name in names:
        value = params.get(name)
        if not is_blank(value):
            return name, value
    return None


def _date(params: dict[str, Any], *names: str, end_of_day: bool = False) -> dt.datetime | None:
    """The first given date parameter of ``names``, parsed (None when none is given)."""
    found = _given(params, *names)
    if found is None:
        return None
    name, value = found
    return parse_datetime_param(value, f"params.{name}", end_of_day=end_of_day)


def _patterns(value: Any, name: str, *, ids: bool = False) -> list[str]:
    """One pattern, or a list of patterns (matched with OR), at most a configured number."""
    items = value if isinstance(value, list) else [value]
    check_count(len(items), name, ids=ids)
    return [text_value(item, name) for item in items if not is_blank(item)]


def _numbers(f: CdrFilter, params: dict[str, Any]) -> None:
    """caller / called / msisdn → the filter's number patterns (see docs: msisdn)."""
    caller = _given(params, "caller")
    called = _given(params, "called")
    if caller:
        f.caller = _patterns(caller[1], "params.caller")
    if called:
        f.called = _patterns(called[1], "params.called")
    msisdn = _given(params, "msisdn")
    if msisdn is None:
        return
    value = msisdn[1]
    if isinstance(value, bool) or str(value).strip().lower() in ("true", "false"):
        # Flag form: msisdn=true combines the given caller and called with OR.
        f.numbers_or = bool_value(value, "params.msisdn")
        return
    if caller or called:
        raise ParamError(
            "params.msisdn matches a number as caller OR called by itself; "
            "do not combine it with caller/called (or send msisdn:true to OR them)"
        )
    numbers = _patterns(value, "params.msisdn")
    f.caller, f.called, f.numbers_or = numbers, list(numbers), True


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    return default if is_blank(value) else int_value(value, f"params.{name}", minimum=0)


def _sensors(value: Any) -> list[int | None]:
    ids = int_list(value, "params.id_sensor", minimum=-1)
    return [None if i == -1 else i for i in ids]


def header_names(value: Any) -> list[str]:
    """customHeaders: a comma list (or a list) of names, de-duplicated case-insensitively."""
    names: list[str] = []
    seen: set[str] = set()
    for name in text_list(value, "params.customHeaders"):
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def voip_calls_filter(params: dict[str, Any], *, require_start: bool = True) -> CdrFilter:
    """Translate getVoipCalls params into a CdrFilter (customHeaders is not a filter)."""
    f = CdrFilter()
    f.date_from = _date(params, "startTime")
    if f.date_from is None and require_start:
        raise ParamError(
            "params.startTime is required (calls that started at or after it), "
            'e.g. {"startTime":"2024-01-01"}'
        )
    # endTime: sent by some clients for the upper bound; startTimeTo wins when both are given.
    f.date_to = _date(params, "startTimeTo", "endTime", end_of_day=True)
    f.callend_to = _date(params, "callEnd", end_of_day=True)
    _numbers(f, params)
    call_id = _given(params, "callId")
    if call_id:
        f.call_ids = _patterns(call_id[1], "params.callId", ids=True)
    cdr_id = _given(params, "cdrId")
    if cdr_id:
        f.cdr_ids = int_list(cdr_id[1], "params.cdrId", minimum=1, ids=True)
    sensor = _given(params, "id_sensor")
    if sensor:
        f.sensors = _sensors(sensor[1])
    connected = _given(params, "onlyConnected")
    if connected:
        f.only_connected = bool_value(connected[1], "params.onlyConnected")
    return f


def _side(side: str) -> list[Out]:
    """One direction's quality values ("a": sent by the caller), in answer order."""
    x = side
    return [
        Out(f"{x}_payload", f"{x}_payload"),
        Out(f"{x}_codec", f"{x}_payload", codec_names),
        Out(f"{x}_received", f"{x}_received", packets),
        Out(f"{x}_lost", f"{x}_lost"),
        Out(f"{x}_packet_loss_perc", f"{x}_packet_loss_perc_mult1000", scaled_by(1000)),
        Out(f"{x}_avgjitter", f"{x}_avgjitter_mult10", scaled_by(10)),
        Out(f"{x}_maxjitter", f"{x}_maxjitter"),
        *(Out(f"{x}_mos_{m}", f"{x}_mos_{m}_mult10", scaled_by(10)) for m in ("f1", "f2", "adapt")),
        Out(f"{x}_mos_min", f"{x}_mos_min_mult10", scaled_by(10)),
    ]


# api.php's getVoipCalls row, key by key in answer order (the documented shape,
# docs/legacy-api.md): JSON numbers, fixed dates, codec names, quality values unscaled.
VOIP_CALL: tuple[Out, ...] = (
    Out("cdrId", "ID"),
    Out("ID", "ID"),
    Out("calldate", "calldate", format_datetimes),
    Out("callend", "callend", format_datetimes),
    *(Out(key, key, numbers)
      for key in ("duration", "connect_duration", "progress_time", "first_rtp_time")),
    *(Out(key, key) for key in ("caller", "callername", "caller_domain", "called", "called_domain")),
    Out("callId", "fbasename"),
    *(Out(key, key) for key in (
        "sipcallerip", "sipcallerport", "sipcalledip", "sipcalledport", "id_sensor",
        "sensorname", "vlan", "lastSIPresponseNum", "lastSIPresponse", "reason_sip_cause",
        "reason_q850_cause", "whohanged", "bye", "a_ua", "b_ua")),
    *_side("a"),
    *_side("b"),
    Out("mos_min", "mos_min_mult10", scaled_by(10)),
    Out("jitter", "jitter_mult10", scaled_by(10)),
    Out("packet_loss_perc", "packet_loss_perc_mult1000", scaled_by(1000)),
)  # fmt: skip


def voip_call_rows(rows: Sequence[dict[str, Any]], headers: Sequence[str] = ()) -> list[dict]:
    """Engine rows (a ``Page`` or row dicts, cdr.query.rows) in api.php's getVoipCalls shape
    (``VOIP_CALL``), then each requested custom header by its name."""
    if not isinstance(rows, Page):
        rows = Page.of_rows(list(rows))
    return shape(rows, VOIP_CALL, [(name, rows.header(name)) for name in headers])


def get_voip_calls(params: dict[str, Any] | None, principal: ApiPrincipal) -> dict[str, Any]:
    """getVoipCalls: matching calls by calldate ascending, at most settings.API_MAX_ROWS.

    When more calls match, the first API_MAX_ROWS are returned with ``"limited": true``.
    """
    require_flag(principal.user, "can_cdr", "reading CDRs")
    if params is None:
        raise ParamError(
            'missing params: send params as a JSON object, e.g. params={"startTime":"2024-01-01"}'
        )
    f = voip_calls_filter(params)
    headers = header_names(params["customHeaders"]) if "customHeaders" in params else []
    limit = settings.API_MAX_ROWS
    # Read as a stream and written a page at a time: each page is shaped and written while
    # the server sends the next (docs/benchmarks.md, issue 19); the answer is sent whole.
    pages = query.iter_pages(
        f,
        principal.scope,
        order=("calldate",),
        limit=limit + 1,
        custom_headers=headers,
        chunk=VOIP_CALLS_CHUNK,
    )
    with Capped(pages, limit) as capped:
        payload: dict[str, Any] = {"cdr": json_list(voip_call_rows(p, headers) for p in capped)}
    if capped.more:
        payload["limited"] = True
    return payload


# listCdrIds' row: the id and the few fields that identify the call.
LIST_CDR: tuple[Out, ...] = (
    Out("cdrId", "ID"),
    Out("calldate", "calldate", format_datetimes),
    Out("caller", "caller"),
    Out("called", "called"),
    Out("callId", "fbasename"),
    Out("duration", "duration", numbers),
    Out("lastSIPresponseNum", "lastSIPresponseNum"),
)


def list_cdr_ids(params: dict[str, Any] | None, principal: ApiPrincipal) -> dict[str, Any]:
    """listCdrIds: a page of CDR ids by ID ascending, plus the total count of matches.

    ``offset`` (default 0) and ``size`` (default 100, capped at settings.API_MAX_ROWS). Every
    getVoipCalls filter is optional here (startTime included).
    """
    require_flag(principal.user, "can_cdr", "reading CDRs")
    params = params or {}
    offset = _int_param(params, "offset", 0)
    size = min(_int_param(params, "size", LIST_CDR_IDS_DEFAULT_SIZE), settings.API_MAX_ROWS)
    f = voip_calls_filter(params, require_start=False)
    rows = query.fetch_page(f, principal.scope, order=("ID",), offset=offset, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    total = query.known_total(offset, len(rows), more)
    if total is None:
        total = query.count(f, principal.scope)
    return {"total": total, "cdr": shape(rows, LIST_CDR)}
