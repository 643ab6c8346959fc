"""Template filters of the GUI: times in the user's zone and format, numbers, quality cues."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def when(value, fmt: str = "Y-m-d H:i:s") -> str:
    """A datetime in the active (the user's) zone and the given Django date format."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, fmt)


@register.filter
def mos_class(value) -> str:
    """CSS class of a MOS value: good ≥ 4, fair ≥ 3.6, poor ≥ 3.1, bad below."""
    try:
        mos = float(value)
    except (TypeError, ValueError):
        return ""
    if mos >= 4:
        return "q-good"
    if mos >= 3.6:
        return "q-fair"
    if mos >= 3.1:
        return "q-poor"
    return "q-bad"


@register.filter
def loss_class(value) -> str:
    """CSS class of a packet-loss percentage: ≤ 1 % good, ≤ 3 % fair, ≤ 10 % poor, more bad."""
    try:
        loss = float(value)
    except (TypeError, ValueError):
        return ""
    if loss <= 1:
        return "q-good"
    if loss <= 3:
        return "q-fair"
    if loss <= 10:
        return "q-poor"
    return "q-bad"


@register.filter
def sip_class(value) -> str:
    """CSS class of a SIP response code: 2xx ok, 3xx/4xx caller-side, 5xx/6xx failure."""
    try:
        code = int(value)
    except (TypeError, ValueError):
        return ""
    if 200 <= code < 300:
        return "sip-ok"
    if 400 <= code < 500 or 300 <= code < 400:
        return "sip-warn"
    if code >= 500:
        return "sip-fail"
    return ""
