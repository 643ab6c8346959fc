"""Dates of the legacy APIs (api.php, sql.php): tolerant parsing in, one fixed format out.

Clients send every date form they can produce (legacy-api-formats §2): ISO dates with or
without a time, a ``T`` or a space, millisecond fractions, RFC 3339 with ``Z`` or an offset,
and culture-formatted values such as ``7/27/2026 12:00:00 PM``. A value without a zone is a
wall-clock time in the sniffer's zone (``settings.TIME_ZONE``); a value with one is converted
to it. Every parser returns an aware datetime; garbage raises ``DateParamError`` naming the
parameter. Responses format dates as ``YYYY-MM-DD HH:MM:SS`` in the sniffer's zone.

Dates at the edges of the calendar (``0001-01-01T00:00:00+14:00``, ``9999-12-31T23:59:59-14:00``)
are clamped to ``EARLIEST`` … ``LATEST`` in the sniffer's zone: MySQL's DATETIME cannot hold a
call outside that range, so the rows are the same, and arithmetic on the result (a Call-ID
interval, a zone conversion) cannot overflow Python's datetime.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone

OUTPUT_FORMAT = "%Y-%m-%d %H:%M:%S"
# The range a date parameter is clamped to (naive, in the sniffer's zone): MySQL DATETIME's
# first day, and its last day minus one, which leaves room for a day of interval arithmetic.
EARLIEST = dt.datetime(1000, 1, 1)
LATEST = dt.datetime(9999, 12, 30, 23, 59, 59, 999999)


class DateParamError(ValueError):
    """A date parameter we cannot read; the message names the parameter and is user-facing."""


_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    # A "+02:00" offset sent unencoded in a query string arrives as " 02:00" ('+' is a space).
    r"(?:\s*(?P<tz>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)|\s+(?P<plus>\d{2}:\d{2}))?$"
)
# 7/27/2026, 7/27/2026 12:00, 7/27/2026 12:00:00 PM, 27.7.2026 13:00 (day first with dots).
_CULTURE = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"(?:,?\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$"
)
_DIGITS = re.compile(r"^\d+$")


def sniffer_zone() -> zoneinfo.ZoneInfo:
    """The zone in which the sniffer writes naive datetimes (read per call: tests override it)."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _offset(text: str) -> dt.tzinfo:
    if text.upper() in {"Z", "UTC"}:
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _micro(frac: str | None) -> int:
    return int((frac or "0")[:6].ljust(6, "0"))


def _from_iso(match: re.Match) -> tuple[dt.datetime, bool]:
    g = match.groupdict()
    value = dt.datetime(
        int(g["y"]),
        int(g["mo"]),
        int(g["d"]),
        int(g["h"] or 0),
        int(g["mi"] or 0),
        int(g["s"] or 0),
        _micro(g["frac"]),
    )
    if g["tz"] or g["plus"]:
        value = value.replace(tzinfo=_offset(g["tz"] or "+" + g["plus"]))
    return value, g["h"] is None


def _from_culture(match: re.Match) -> tuple[dt.datetime, bool]:
    g = match.groupdict()
    a, b = int(g["a"]), int(g["b"])
    if g["sep"] == ".":
        day, month = a, b  # 27.7.2026: day first wherever dots are used
    elif a > 12:
        day, month = a, b  # 27/7/2026 can only be day first
    else:
        month, day = a, b  # 7/27/2026 and ambiguous 3/4/2026: US order (en-US culture)
    hour = int(g["h"] or 0)
    if g["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM")
        pm = g["ampm"][0].lower() == "p"
        hour = hour % 12 + (12 if pm else 0)
    value = dt.datetime(
        int(g["y"]), month, day, hour, int(g["mi"] or 0), int(g["s"] or 0), _micro(g["frac"])
    )
    return value, g["h"] is None


def _from_epoch(text: str) -> dt.datetime:
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _parse(text: str) -> tuple[dt.datetime, bool]:
    """(datetime, date_only) or ValueError; the datetime is naive when no zone was given."""
    if _DIGITS.match(text):
        if len(text) in (9, 10, 13):
            return _from_epoch(text), False
        if len(text) == 8:
            return dt.datetime.strptime(text, "%Y%m%d"), True
        if len(text) == 14:
            return dt.datetime.strptime(text, "%Y%m%d%H%M%S"), False
        raise ValueError("not a date")
    match = _ISO.match(text)
    if match:
        return _from_iso(match)
    match = _CULTURE.match(text)
    if match:
        return _from_culture(match)
    raise ValueError("not a date")


def parse_datetime_param(value: object, name: str, *, end_of_day: bool = False) -> dt.datetime:
    """Read one date parameter as an aware datetime in the sniffer's zone.

    ``end_of_day``: a date without a time means the last microsecond of that day (for upper
    bounds such as startTimeTo: ``"2024-01-31"`` includes calls on the 31st). Unix epoch
    seconds (9-10 digits) and milliseconds (13 digits) are accepted as numbers or strings.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DateParamError(f"{name}: expected a date such as '2024-01-31 10:00:00'")
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
    if not text:
        raise DateParamError(f"{name}: empty date")
    try:
        parsed, date_only = _parse(text)
    except (ValueError, OverflowError, OSError):
        raise DateParamError(
            f"{name}: cannot read {text[:60]!r} as a date/time "
            "(use YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339)"
        ) from None
    if date_only and end_of_day:
        parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999999)
    return _in_range(parsed)


def _in_range(parsed: dt.datetime) -> dt.datetime:
    """``parsed`` as an aware datetime in the sniffer's zone, clamped to EARLIEST … LATEST."""
    zone = sniffer_zone()
    low, high = EARLIEST.replace(tzinfo=zone), LATEST.replace(tzinfo=zone)
    try:
        if timezone.is_aware(parsed):
            value = parsed.astimezone(zone)
        else:
            value = parsed.replace(tzinfo=zone)
    except OverflowError:  # the offset moved it beyond year 1 or 9999
        return low if parsed.year < 5000 else high
    return min(max(value, low), high)


def format_datetime(value: dt.datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` in the sniffer's zone (fractions truncated); None stays None."""
    return None if value is None else _format_in(value, sniffer_zone())


# "HH:MM:" of every minute of a day and ":SS" of every second: a page's dates are written
# from a few cached texts instead of being formatted one by one (issue 19: two dates a row
# cost ~4 µs of a big getVoipCalls page's ~30 µs per row; this way ~1 µs).
_HOUR_MINUTES = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECONDS = tuple(f"{s:02d}" for s in range(60))


def format_datetimes(values: Sequence[dt.datetime | None]) -> list[str | None]:
    """``format_datetime`` of each value (a column of a page: the zone is looked up once and
    each day's text made once)."""
    zone = sniffer_zone()
    days: dict[dt.date, str] = {}
    minutes, seconds = _HOUR_MINUTES, _SECONDS
    out: list[str | None] = []
    append = out.append
    for value in values:
        if value is None:
            append(None)
            continue
        if value.tzinfo is not zone:  # naive, or another zone: as format_datetime does
            if value.utcoffset() is None:
                value = timezone.make_aware(value, zone)
            value = value.astimezone(zone)
        day = value.date()
        prefix = days.get(day)
        if prefix is None:
            # years before 1000 are written as OUTPUT_FORMAT writes them (not zero-padded)
            prefix = days[day] = day.isoformat() + " " if day.year >= 1000 else ""
        if prefix:
            append(prefix + minutes[value.hour * 60 + value.minute] + seconds[value.second])
        else:
            append(value.strftime(OUTPUT_FORMAT))
    return out


def _format_in(value: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    if value.utcoffset() is None:  # naive (timezone.is_naive)
        value = timezone.make_aware(value, zone)
    local = value.astimezone(zone)
    if local.year >= 1000:
        # the same text as OUTPUT_FORMAT, ~5x faster (one per date of every listed row)
        return local.isoformat(" ", "seconds")[:19]
    return local.strftime(OUTPUT_FORMAT)
