"""Build sniffer rows the way the sniffer writes them (for tests of every face)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from cdr import schema
from cdr.bulk import insert
from cdr.models import (
    CDR_NEXT_MODELS,
    Cdr,
    CdrCustomHeader,
    CdrNext,
    CdrSipResponse,
    CdrUa,
    Sensor,
)

_ids = itertools.count(1000)


def aware(value: str | dt.datetime) -> dt.datetime:
    """A naive sniffer wall-clock time (in VMGUI_TIME_ZONE) as an aware datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def sip_response(text: str) -> int:
    obj = CdrSipResponse.objects.filter(lastSIPresponse=text).first()
    if obj is None:
        obj = CdrSipResponse.objects.create(lastSIPresponse=text)
    return obj.id


def user_agent(text: str) -> int:
    obj = CdrUa.objects.filter(ua=text).first()
    if obj is None:
        obj = CdrUa.objects.create(ua=text)
    return obj.id


def sensor(id_sensor: int, name: str) -> Sensor:
    obj, _ = Sensor.objects.get_or_create(id_sensor=id_sensor, defaults={"name": name})
    return obj


def custom_header_definition(header: str, table: int, column: int, name: str = "") -> None:
    CdrCustomHeader.objects.create(
        name=name or header,
        header_field=header,
        type="dynamic",
        dynamic_table=table,
        dynamic_column=column,
        state="active",
    )


def make_call(
    calldate: str = "2026-11-27 10:00:00",
    *,
    caller: str = "1001",
    called: str = "2001",
    caller_domain: str = "alpha.example.com",
    called_domain: str = "beta.example.com",
    callername: str = "Alice",
    sipcallerip: str = "10.0.0.1",
    sipcalledip: str = "10.0.0.2",
    duration: float = 30,
    connect_duration: float | None = 28,
    response: str = "200 OK",
    id_sensor: int | None = 1,
    call_id: str | None = None,
    payload: int | None = 8,
    fixed_headers: dict[str, str] | None = None,
    dynamic_headers: dict[tuple[int, int], str] | None = None,
    ua: str | None = "FixturePhone/1.0",
    **extra,
) -> Cdr:
    """Insert one call (cdr + cdr_next [+ cdr_next_N]) like the sniffer does.

    Returns an unsaved Cdr carrying ID and calldate (the row itself is in the database).
    """
    start = aware(calldate)
    cdr_id = extra.pop("ID", None) or next(_ids)
    num = int(response.split()[0]) if response[0].isdigit() else 0
    fields = dict(
        ID=cdr_id,
        calldate=start,
        callend=start + dt.timedelta(seconds=duration),
        duration=Decimal(str(duration)),
        connect_duration=None if connect_duration is None else Decimal(str(connect_duration)),
        caller=caller,
        caller_reverse=caller[::-1],
        called=called,
        called_reverse=called[::-1],
        callername=callername,
        callername_reverse=callername[::-1],
        caller_domain=caller_domain,
        called_domain=called_domain,
        sipcallerip=sipcallerip,
        sipcalledip=sipcalledip,
        sipcallerport=5060,
        sipcalledport=5060,
        lastSIPresponse_id=sip_response(response),
        lastSIPresponseNum=num,
        id_sensor=id_sensor,
        a_payload=payload if connect_duration is not None else None,
        b_payload=payload if connect_duration is not None else None,
        payload=payload if connect_duration is not None else None,
        a_ua_id=user_agent(ua) if ua else None,
        flags=1 << 23,
    )
    fields.update(extra)
    insert(Cdr, [fields])
    cdr = Cdr(ID=cdr_id, calldate=start)
    fbasename = call_id or f"call-{cdr_id}@example.com"
    insert(CdrNext, [{"cdr": cdr_id, "calldate": start, "fbasename": fbasename}])
    if fixed_headers:
        from django.db import connection

        qn = connection.ops.quote_name
        for header, value in fixed_headers.items():
            column = f"custom_header__{header}"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {qn('cdr_next')} SET {qn(column)} = %s WHERE {qn('cdr_ID')} = %s",
                    [value, cdr_id],
                )
    for (table, column), value in (dynamic_headers or {}).items():
        model = CDR_NEXT_MODELS[table]
        existing = model.objects.filter(cdr_id=cdr_id)
        if existing.exists():
            existing.update(**{f"custom_header_{column}": value})
        else:
            insert(model, [{"cdr": cdr_id, "calldate": start, f"custom_header_{column}": value}])
    return cdr


def add_fixed_header_column(header: str) -> None:
    """ALTER cdr_next like the sniffer does for a ``custom_headers_cdr`` header."""
    from django.db import connection

    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {qn('cdr_next')} ADD COLUMN {qn('custom_header__' + header)} VARCHAR(255)"
        )
    schema.clear_cache()
