"""Shared helpers of the report tests (no tests here): varied calls, and every report figure
recomputed directly in SQL on the cdr rows, independently of the ORM queries under test."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection

from cdr.query.storedtext import display_text
from tests.factories import make_call, sensor

DAY = "2026-11-27"
FROM, TO = f"{DAY} 00:00:00", f"{DAY} 23:59:59.999999"
RESPONSES = ["200 OK", "486 Busy Here", "503 Service Unavailable", "487 Request Terminated"]
CALLERS = ["1001", "1002", "+420601123456", "1003", "Žofie", "1004"]
CALLED = ["2001", "2002", "2003", "+81312345678"]


def seed_calls(n: int = 60, seed: int = 7) -> None:
    """``n`` calls on DAY with varied outcome, sensor, numbers and quality, plus two calls just
    outside the day (which no figure may count)."""
    rng = random.Random(seed)
    sensor(1, "prague-edge")
    sensor(2, "brno-core")
    for i in range(n):
        response = rng.choice(RESPONSES)
        answered = response.startswith("200")
        mos = rng.choice([0, None, *range(20, 46)]) if answered else None
        make_call(
            f"{DAY} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
            caller=rng.choice(CALLERS),
            called=rng.choice(CALLED),
            response=response,
            duration=rng.randrange(5, 400),
            connect_duration=Decimal(rng.randrange(0, 3000)) / 10 if answered else None,
            id_sensor=rng.choice([1, 1, 2, None]),
            mos_min_mult10=mos,
            packet_loss_perc_mult1000=rng.randrange(0, 9000) if answered else None,
            jitter_mult10=rng.randrange(0, 400) if answered else None,
            call_id=f"report-{seed}-{i}@example.com",
        )
    make_call("2026-11-26 23:59:59", caller="1001", id_sensor=1)
    make_call("2026-11-28 00:00:00", caller="1001", id_sensor=1)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _f(value, divisor=1, digits=2):
    return None if value is None else round(float(value) / divisor, digits)


FIGURES_SQL = """
    COUNT(*),
    SUM(CASE WHEN connect_duration IS NOT NULL THEN 1 ELSE 0 END),
    SUM(connect_duration)
"""
QUALITY_SQL = """,
    AVG(CASE WHEN mos_min_mult10 > 0 THEN mos_min_mult10 END),
    MIN(CASE WHEN mos_min_mult10 > 0 THEN mos_min_mult10 END),
    SUM(CASE WHEN mos_min_mult10 > 0 THEN 1 ELSE 0 END),
    AVG(packet_loss_perc_mult1000), MAX(packet_loss_perc_mult1000),
    AVG(jitter_mult10), MAX(jitter_mult10)
"""


def _figures(row: tuple, quality: bool) -> dict:
    calls, answered, connected = int(row[0]), int(row[1] or 0), float(row[2] or 0)
    out = {
        "calls": calls,
        "answered": answered,
        "unanswered": calls - answered,
        "asr": round(answered * 100 / calls, 2) if calls else None,
        "acd": round(connected / answered, 2) if answered else None,
        "minutes": round(connected / 60, 2),
    }
    if quality:
        mos_avg, mos_min, mos_n, loss_avg, loss_max, jit_avg, jit_max = row[3:10]
        out.update(
            mos_avg=_f(mos_avg, 10) if mos_n else None,
            mos_min=_f(mos_min, 10) if mos_n else None,
            mos_calls=int(mos_n or 0),
            loss_avg=_f(loss_avg, 1000, 3),
            loss_max=_f(loss_max, 1000, 3),
            jitter_avg=_f(jit_avg, 10),
            jitter_max=_f(jit_max, 10),
        )
    return out


def sql_report(start: str = FROM, end: str = TO, where: str = "", params=(), top: int = 10) -> dict:
    """Every figure of a report over [start, end], from hand-written SQL on the cdr table."""
    cond = "calldate >= %s AND calldate <= %s" + (f" AND ({where})" if where else "")
    args = [start, end, *params]
    (total,) = _rows(f"SELECT {FIGURES_SQL}{QUALITY_SQL} FROM cdr WHERE {cond}", args)
    summary = _figures(total, True)
    responses = [
        {
            "code": code,
            "text": display_text(text),
            "calls": calls,
            "percent": round(calls * 100 / summary["calls"], 2),
        }
        for code, text, calls in _rows(
            "SELECT c.lastSIPresponseNum, r.lastSIPresponse, COUNT(*) AS n FROM cdr c "
            "LEFT JOIN cdr_sip_response r ON r.id = c.lastSIPresponse_id "
            f"WHERE {cond.replace('calldate', 'c.calldate')} "
            "GROUP BY c.lastSIPresponseNum, c.lastSIPresponse_id, r.lastSIPresponse "
            "ORDER BY n DESC, c.lastSIPresponseNum, c.lastSIPresponse_id",
            args,
        )[:top]
    ]
    tops = {}
    for key, column in (("top_callers", "caller"), ("top_called", "called")):
        tops[key] = [
            {"number": display_text(row[0]), **_figures(row[1:], False)}
            for row in _rows(
                f"SELECT {column}, {FIGURES_SQL} FROM cdr WHERE {cond} "
                f"GROUP BY {column} ORDER BY COUNT(*) DESC, {column}",
                args,
            )[:top]
        ]
    names = dict(_rows("SELECT id_sensor, name FROM sensors", []))
    sensors = [
        {"id_sensor": row[0], "name": display_text(names.get(row[0])), **_figures(row[1:], True)}
        for row in _rows(
            f"SELECT id_sensor, {FIGURES_SQL}{QUALITY_SQL} FROM cdr "
            f"WHERE {cond} GROUP BY id_sensor ORDER BY id_sensor",
            args,
        )
    ]
    hour = (
        "HOUR(calldate)"
        if connection.vendor == "mysql"
        else "CAST(strftime('%%H', calldate) AS INTEGER)"
    )
    by_hour = {
        int(row[0]): _figures(row[1:], False)
        for row in _rows(
            f"SELECT {hour}, {FIGURES_SQL} FROM cdr WHERE {cond} GROUP BY {hour}", args
        )
    }
    empty = _figures((0, 0, None), False)
    hours = [{"hour": h, **by_hour.get(h, empty)} for h in range(24)]
    day = "DATE(calldate)"
    by_day = {
        str(row[0])[:10]: _figures(row[1:], False)
        for row in _rows(f"SELECT {day}, {FIGURES_SQL} FROM cdr WHERE {cond} GROUP BY {day}", args)
    }
    return {
        "summary": summary,
        "sip_responses": responses,
        **tops,
        "sensors": sensors,
        "hours": hours,
        "by_day": by_day,
    }
