"""sql.php's GUI filter parameters → ``cdr.query.engine.CdrFilter``, paging and sort keys.

Only translation lives here: every condition is run by the CDR query engine (cdr/query/engine.py)
with the caller's scope. The RTP quality filters are declared once, with every other filter, in
the query engine's filter declaration (``cdr.query.filterspec.QUALITY_FILTERS``: parameter →
cdr columns (either side), comparison and scaling), handed to the engine as
``column_conditions``. The semantics chosen where the spec is silent are in
docs/legacy-sql.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from api.legacy.dates import parse_datetime_param
from api.legacy.params import (
    MAX_WHOLE_NUMBER,
    ParamError,
    check_count,
    int_list,
    int_value,
    is_blank,
    json_text,
    text_list,
    text_value,
)
from cdr.query import engine as query
from cdr.query.engine import CdrFilter
from cdr.query.filterspec import MAX_NUMBER, QUALITY_FILTERS, expand_sip_responses

DEFAULT_LIMIT = 100  # rows of a page when the client sends no limit (ExtJS grids always do)
DEFAULT_ORDER = ("-calldate",)  # the GUI's CDR list: newest first


_DYNAMIC_HEADER = re.compile(r"^fcustom_header_(\d{1,2})_(\d{1,2})$")
_FIXED_HEADER = re.compile(r"^fcustom_header__(.+)$")


def _given(fields: dict[str, Any], name: str) -> Any | None:
    """The field's value, or None when absent or blank (blank = not a condition)."""
    value = fields.get(name)
    return None if is_blank(value) else value


def _date(fields: dict[str, Any], name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    value = _given(fields, name)
    return None if value is None else parse_datetime_param(value, name, end_of_day=end_of_day)


def number_value(value: Any, name: str, *, minimum: float = 0, maximum: float | None = None):
    """A decimal number (``3.5``, ``"3.5"``, ``"3,5"``) within bounds, else ParamError."""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ParamError(f"{name}: expected a number")
    text = str(value).strip().replace(",", ".")
    try:
        number = float(text)
    except (ValueError, OverflowError):
        raise ParamError(f"{name}: expected a number, got {text[:40]!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ParamError(f"{name}: must be a number of at least {minimum:g}")
    maximum = MAX_NUMBER if maximum is None else maximum
    if number > maximum:
        raise ParamError(f"{name}: must be at most {maximum:g}")
    return number


def sip_responses(value: Any, name: str = "fsipresponse") -> list[int]:
    """Codes (``486``), comma lists (``486,503``) and classes (``4`` or ``4xx`` = 400-499)."""
    return expand_sip_responses(
        text_list(value, name), lambda item: int_value(item, name, minimum=0, maximum=65535)
    )


def _numbers(f: CdrFilter, fields: dict[str, Any]) -> None:
    """fcaller / fcalled, combined by fcallerd_type: 0 = OR, 1 = AND (the default).

    Numbers, domains and IPs are read as comma lists (none of them can hold a comma).
    """
    for name, attr in (("fcaller", "caller"), ("fcalled", "called")):
        value = _given(fields, name)
        if value is not None:
            setattr(f, attr, text_list(value, name))
    kind = _given(fields, "fcallerd_type")
    if kind is not None:
        number = int_value(kind, "fcallerd_type")
        if number not in (0, 1):
            raise ParamError("fcallerd_type: 0 (caller OR called) or 1 (caller AND called)")
        f.numbers_or = number == 0


def _custom_headers(f: CdrFilter, fields: dict[str, Any]) -> None:
    """``fcustom_header_<table>_<column>`` (dynamic) and ``fcustom_header__<Header>`` (fixed)."""
    given = [n for n, v in fields.items() if n.startswith("fcustom_header_") and not is_blank(v)]
    check_count(len(given), "fcustom_header_* filters")
    for name, value in fields.items():
        if is_blank(value) or not name.startswith("fcustom_header_"):
            continue
        dynamic = _DYNAMIC_HEADER.match(name)
        fixed = _FIXED_HEADER.match(name)
        if dynamic:
            key = f"custom_header_{dynamic.group(1)}_{dynamic.group(2)}"
        elif fixed:
            key = fixed.group(1)
        else:
            raise ParamError(
                f"{name}: use fcustom_header_<table>_<column> (dynamic headers) "
                "or fcustom_header__<Header-Name> (fixed headers)"
            )
        f.custom_headers[key] = text_value(value, name)


def _quality(f: CdrFilter, fields: dict[str, Any]) -> None:
    for name, declared in QUALITY_FILTERS.items():
        value = _given(fields, name)
        if value is not None:
            number = number_value(value, name, maximum=declared.maximum)
            key, scaled = declared.condition(number)
            f.column_conditions[key] = scaled


def listing_filter(fields: dict[str, Any], *, require_date: bool = True) -> CdrFilter:
    """Translate LISTING fields (query string, form or deep-link object) into a CdrFilter."""
    f = CdrFilter()
    f.date_from = _date(fields, "fdatefrom")
    f.date_to = _date(fields, "fdateto", end_of_day=True)
    if require_date and f.date_from is None and f.date_to is None:
        raise ParamError(
            "fdatefrom or fdateto is required (e.g. fdatefrom=2024-01-01T00:00:00): "
            "a listing is bounded in time"
        )
    _numbers(f, fields)
    for name, attr in (
        ("fcaller_domain", "caller_domain"),
        ("fcalled_domain", "called_domain"),
        ("fsipcallerip", "sipcallerip"),
        ("fsipcalledip", "sipcalledip"),
    ):
        value = _given(fields, name)
        if value is not None:
            setattr(f, attr, text_list(value, name))
    callid = _given(fields, "fcallid")
    if callid is not None:
        # A Call-ID may contain commas: one value (or a JSON list from a deep link).
        items = callid if isinstance(callid, list) else [callid]
        check_count(len(items), "fcallid", ids=True)
        f.call_ids = [text_value(item, "fcallid") for item in items if not is_blank(item)]
    if (value := _given(fields, "fsipresponse")) is not None:
        f.sip_responses = sip_responses(value)
    if (value := _given(fields, "fdurationgt")) is not None:
        f.duration_gt = number_value(value, "fdurationgt")
    if (value := _given(fields, "fdurationlt")) is not None:
        f.duration_lt = number_value(value, "fdurationlt")
    if (value := _given(fields, "fsensor_id")) is not None:
        ids = int_list(value, "fsensor_id", minimum=-1)
        f.sensors = [None if i == -1 else i for i in ids]  # -1: calls without a sensor id
    if (value := _given(fields, "fcodec")) is not None:
        f.codecs = int_list(value, "fcodec", minimum=0)
    _custom_headers(f, fields)
    _quality(f, fields)
    return f


@dataclass(frozen=True)
class Page:
    """Which rows of the ordered result: ``limit`` None = all of them (``limit=-1``)."""

    offset: int
    limit: int | None


def page_of(fields: dict[str, Any]) -> Page:
    """ExtJS paging: ``start`` (offset) wins over ``page`` (1-based); ``limit=-1`` = all."""
    limit: int | None = DEFAULT_LIMIT
    if (value := _given(fields, "limit")) is not None:
        limit = int_value(value, "limit", minimum=-1)
        if limit == 0:
            raise ParamError("limit: -1 (all rows) or at least 1")
        limit = None if limit == -1 else limit
    if (value := _given(fields, "start")) is not None:
        return Page(int_value(value, "start", minimum=0), limit)
    if (value := _given(fields, "page")) is not None:
        page = int_value(value, "page", minimum=1)
        offset = (page - 1) * limit if limit else 0
        if offset > MAX_WHOLE_NUMBER:
            raise ParamError(f"page: page x limit must be at most {MAX_WHOLE_NUMBER}")
        return Page(offset, limit)
    return Page(0, limit)


def order_of(fields: dict[str, Any]) -> list[str]:
    """``sort`` as the spec's JSON list, a bare column name with ``dir``, or the default."""
    raw = _given(fields, "sort")
    if raw is None:
        return list(DEFAULT_ORDER)
    if isinstance(raw, str) and raw.strip()[:1] in "[{":
        raw = json_text(raw, "sort")
    if isinstance(raw, dict):
        raw = [raw]
    if isinstance(raw, str):
        raw = [{"property": raw, "direction": fields.get("dir") or "ASC"}]
    if not isinstance(raw, list):
        raise ParamError('sort: expected [{"property":"calldate","direction":"DESC"}]')
    check_count(len(raw), "sort")
    keys = []
    for item in raw:
        if not isinstance(item, dict) or is_blank(item.get("property")):
            raise ParamError('sort: expected [{"property":"calldate","direction":"DESC"}]')
        direction = str(item.get("direction") or "ASC").strip().upper()
        if direction not in ("ASC", "DESC"):
            raise ParamError(f"sort: direction must be ASC or DESC, got {direction[:20]!r}")
        keys.append((text_value(item["property"], "sort.property"), direction == "DESC"))
    return query.order_keys(keys) or list(DEFAULT_ORDER)
