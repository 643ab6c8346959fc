"""``/admin.php?cdr_filter={...}``: the old GUI's deep link, translated into the CDR list's URL.

``cdr_filter`` is a JavaScript-style object of sql.php LISTING field names
(``{fcallid:"abc", fcaller:"123", fdatefrom:"2026-11-26 00:00:00"}``), read by the shared
object reader (``vmgui.jsobject``: bare or quoted keys, single or double quotes, trailing
commas). Each field is translated through the filter declaration, never a table of its own:
``FilterParam.legacy["sql.php"]`` names a filter's sql.php field, ``QUALITY_FILTERS`` holds the
quality thresholds under their sql.php names, ``fcustom_header__<Name>`` is the custom header
``<Name>`` (``fcustom_header_<t>_<c>`` the dynamic header at that position).

Values keep their sql.php meaning: dates without a zone are the sniffer's wall clock
(``VMGUI_TIME_ZONE``), written into the list's URL as the user's local time (what the list's
form shows); ``fcallerd_type`` 0 is "caller OR called"; lists become comma lists (Call-IDs
repeated parameters). A link without dates searches all time (a Call-ID alone finds its call).
The list's paging and sort fields (``limit``, ``start``, ``sort``...) and the old GUI's
bookkeeping fields are ignored: the list pages and sorts itself. Any other field is an error
the list page shows.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any, Final

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cdr.query.filterspec import FILTERS, HEADER_PREFIX, QUALITY_FILTERS, FilterParam
from gui.cdrs.form import LOCAL_FORMAT
from vmgui.jsobject import ParamError, parse_object

EXAMPLE: Final = '{fcallid:"abc123"}'
# LISTING fields that are not filters (paging, sort, the old GUI's request bookkeeping).
IGNORED: Final = frozenset(
    {
        "limit", "start", "page", "sort", "dir", "task", "module", "deferTotal",
        "suppress_results", "timestampId", "clientTimezone", "clientOsTimezone", "_dc",
        "check_active_request", "timeout",
    }
)  # fmt: skip
# sql.php's fcallerd_type: 0 = caller OR called, 1 = caller AND called (the list's numbers_or).
CALLERD_TYPE: Final = {"0": "true", "1": "false"}
_FIXED_HEADER = re.compile(r"^fcustom_header__(.+)$")
_DYNAMIC_HEADER = re.compile(r"^fcustom_header_(\d{1,2})_(\d{1,2})$")


class DeepLinkError(ValueError):
    """The link cannot be followed; the message names the field and is safe to show."""


def _declared() -> dict[str, FilterParam]:
    """sql.php field name → the declared filter (only the ones sql.php has)."""
    out = {}
    for param in FILTERS:
        legacy = param.legacy.get("sql.php")
        if legacy and "<" not in legacy:
            out[legacy] = param
    return out


def _text(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dict, list)):
        raise DeepLinkError(f"{name}: expected a text or a number")
    return str(value).strip()


def _date(value: Any, name: str, *, end: bool) -> str:
    """A sql.php date (the sniffer's zone unless it carries an offset) as the user's local
    wall clock (the active zone)."""
    text = _text(value, name)
    parsed: dt.datetime | None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = parse_date(text)
            parsed = dt.datetime.combine(day, dt.time.max if end else dt.time.min) if day else None
        else:
            parsed = parse_datetime(text.replace(" ", "T", 1))
    except ValueError:
        parsed = None
    if parsed is None or not 1900 <= parsed.year <= 9998:
        raise DeepLinkError(f"{name}: expected a date such as 2026-11-26 or 2026-11-26 08:00:00")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    local = timezone.localtime(parsed)
    text = local.strftime(LOCAL_FORMAT)
    return f"{text}.999999" if end and local.microsecond == 999999 else text


def _values(param: FilterParam, value: Any, name: str) -> list[str]:
    """The list URL's value(s) of one declared filter."""
    if param.kind in ("datetime", "datetime_end"):
        return [_date(value, name, end=param.kind == "datetime_end")]
    if name == "fcallerd_type":
        text = _text(value, name)
        if text not in CALLERD_TYPE:
            raise DeepLinkError(f"{name}: 0 (caller OR called) or 1 (caller AND called)")
        return [CALLERD_TYPE[text]]
    items = value if isinstance(value, list) else [value]
    texts = [_text(item, name) for item in items]
    texts = [t for t in texts if t]
    if param.kind == "texts":  # Call-IDs may hold commas: one parameter each
        return texts
    return [",".join(texts)] if texts else []


def translate(raw: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(the list's query parameters, errors) of a ``cdr_filter`` text.

    Every field that translates is kept (the list's form shows them after an error); each
    field that does not is one error message.
    """
    try:
        fields = parse_object(raw, "cdr_filter", EXAMPLE) or {}
    except ParamError as exc:
        return [], [str(exc)]
    declared = _declared()
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    dated = False
    for name, value in fields.items():
        name = str(name)
        if name in IGNORED or value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            if name in declared:
                param = declared[name]
                values = _values(param, value, name)
                dated |= param.target in ("date_from", "date_to") and bool(values)
                pairs += [(param.name, v) for v in values]
            elif name in QUALITY_FILTERS:
                pairs.append((QUALITY_FILTERS[name].rest, _text(value, name)))
            elif match := _FIXED_HEADER.match(name):
                pairs.append((f"{HEADER_PREFIX}{match.group(1)}", _text(value, name)))
            elif match := _DYNAMIC_HEADER.match(name):
                header = f"custom_header_{match.group(1)}_{match.group(2)}"
                pairs.append((f"{HEADER_PREFIX}{header}", _text(value, name)))
            else:
                raise DeepLinkError(
                    f"cdr_filter: {name[:60]!r} is not a filter of the CDR list "
                    "(sql.php LISTING filter names, e.g. fcaller, fcallid, fdatefrom)"
                )
        except DeepLinkError as exc:
            errors.append(str(exc))
    if not dated:
        pairs.append(("window", "all"))
    return pairs, errors
