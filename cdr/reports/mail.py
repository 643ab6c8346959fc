"""A report as an e-mail: a plain-text summary, the PNG chart and the JSON figures attached."""

from __future__ import annotations

import json
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from cdr.reports.service import Period

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def period_text(period: Period) -> str:
    """``2026-11-27 00:00:00 – 2026-11-27 23:59:59 (Europe/Prague)``: the sniffer's wall clock."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = period.start.astimezone(zone).strftime(DATE_FORMAT)
    end = period.end.astimezone(zone).strftime(DATE_FORMAT)
    return f"{start} – {end} ({settings.TIME_ZONE})"


def file_stem(name: str, period: Period) -> str:
    """A safe attachment name: ``report-daily-summary-2026-11-27``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "report"
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return f"report-{slug}-{period.start.astimezone(zone):%Y-%m-%d}"


def _body(name: str, period: Period, data: dict[str, Any]) -> str:
    s = data["summary"]
    lines = [
        f"{name}",
        period_text(period),
        "",
        f"Calls:     {s['calls']}",
        f"Answered:  {s['answered']}",
        f"ASR:       {s['asr'] if s['asr'] is not None else '-'} %",
        f"ACD:       {s['acd'] if s['acd'] is not None else '-'} s",
        f"MOS:       avg {s.get('mos_avg')}, min {s.get('mos_min')}",
        f"Loss:      avg {s.get('loss_avg')} %, max {s.get('loss_max')} %",
        f"Jitter:    avg {s.get('jitter_avg')} ms, max {s.get('jitter_max')} ms",
    ]
    for key, title in (("top_callers", "Top callers"), ("top_called", "Top called")):
        if data.get(key):
            lines += ["", f"{title}:"]
            lines += [f"  {r['number']}: {r['calls']} calls" for r in data[key]]
    lines += ["", f"-- {settings.BRAND_NAME}: the chart and the JSON figures are attached."]
    return "\n".join(lines)


def message(
    name: str, period: Period, data: dict[str, Any], png: bytes, recipients: list[str]
) -> EmailMessage:
    """The e-mail of one report run (Django's configured e-mail backend sends it)."""
    stem = file_stem(name, period)
    subject = f"[{settings.BRAND_NAME}] {name}: {period_text(period)}"
    mail = EmailMessage(
        subject=subject.replace("\n", " ")[:250],
        body=_body(name, period, data),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    mail.attach(f"{stem}.png", png, "image/png")
    figures = {"report": name, "period": period_text(period), **data}
    mail.attach(
        f"{stem}.json",
        json.dumps(figures, ensure_ascii=False, indent=1, default=str),
        "application/json",
    )
    return mail
