"""The one declaration of the CDR filters: what each means, its kind, its name in every face.

Every ``CdrFilter`` condition is declared here once. The REST API and the GUI read their query
parameters straight from this table (``parse``); the legacy faces keep the parameter names and
quirks of the old GUI's API but their translators are checked against this table by the test
suite (``tests/cdr/test_filterspec.py``): a filter declared here must work in every face that
names it, and a ``CdrFilter`` field that is not declared here fails the suite. So a new filter
appears in every face, or in none. Faces that do not offer a filter say so with ``None`` (the
old GUI's API has no such parameter).

The RTP quality thresholds (MOS, jitter, loss, delay buckets) are declared in
``QUALITY_FILTERS``: parameter → cdr columns (either side), comparison and scaling.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cdr.query.engine import CdrFilter

# A threshold above every value a cdr column can hold (mediumint: 16.7M); a larger one would
# overflow once scaled (x10, x1000) and cannot mean anything else. Every face's bound.
MAX_NUMBER: Final = 1e12


class FilterValueError(ValueError):
    """A filter value that cannot be used; the message names the parameter and is safe to show."""


@dataclass(frozen=True)
class QualityFilter:
    """One RTP quality filter: a threshold compared against the a- or b-side column.

    The request value is in display units (MOS 3.5, ms, percent, counts); ``scale`` turns it
    into the column's unit (``*_mult10`` → ×10). The filter matches a call when ANY of
    ``columns`` compares true (``lte``: "at most", ``gte``: "at least"); a side the sniffer
    did not measure (NULL) never matches.
    """

    columns: tuple[str, ...]
    lookup: str  # "lte" | "gte"
    scale: float
    unit: str
    maximum: float | None = None
    rest: str = ""  # the REST/GUI parameter name

    def condition(self, value: float) -> tuple[str, float]:
        """The engine's ``column_conditions`` entry: ``"a__gte|b__gte"`` → scaled value."""
        key = "|".join(f"{column}__{self.lookup}" for column in self.columns)
        scaled = round(value * self.scale, 6)
        return key, int(scaled) if scaled.is_integer() else scaled


def _sides(column: str) -> tuple[str, str]:
    return f"a_{column}", f"b_{column}"


# Keys are sql.php's (the old GUI's) parameter names. RTCP fraction lost is stored on the RTP
# header's 0..255 scale (256 = 100 %); users think in percent, so percent × 2.56 is compared.
QUALITY_FILTERS: Final[dict[str, QualityFilter]] = {
    # MOS: "at most" (finds the bad calls): the caller's or the called party's MOS ≤ value.
    "fmosf1": QualityFilter(_sides("mos_f1_mult10"), "lte", 10, "MOS", 5, "mos_f1_max"),
    "fmosf2": QualityFilter(_sides("mos_f2_mult10"), "lte", 10, "MOS", 5, "mos_f2_max"),
    "fmosadapt": QualityFilter(_sides("mos_adapt_mult10"), "lte", 10, "MOS", 5, "mos_adapt_max"),
    # Jitter / loss / delay: "at least", on either side.
    "frtcp_maxjitter": QualityFilter(
        _sides("rtcp_maxjitter"), "gte", 1, "ms", None, "rtcp_max_jitter_min"
    ),
    "frtcp_avgjitter": QualityFilter(
        _sides("rtcp_avgjitter_mult10"), "gte", 10, "ms", None, "rtcp_avg_jitter_min"
    ),
    "frtcp_maxfr": QualityFilter(_sides("rtcp_maxfr"), "gte", 2.56, "%", 100, "rtcp_max_loss_min"),
    "frtcp_avgfr": QualityFilter(
        _sides("rtcp_avgfr_mult10"), "gte", 25.6, "%", 100, "rtcp_avg_loss_min"
    ),
    # floss<N>: loss bursts of exactly N packets (10: ten or more), at least this many events.
    **{
        f"floss{n}": QualityFilter(_sides(f"sl{n}"), "gte", 1, "events", None, f"loss{n}_min")
        for n in range(1, 11)
    },
    # f_d<N>: packets whose delay fell in the bucket starting at N ms, at least this many.
    **{
        f"f_d{n}": QualityFilter(_sides(f"d{n}"), "gte", 1, "packets", None, f"delay{n}_min")
        for n in (50, 70, 90, 120, 150, 200, 300)
    },
}


@dataclass(frozen=True)
class FilterParam:
    """One filter: its REST/GUI name, value kind, the ``CdrFilter`` field it sets, help text,
    and its parameter name in each legacy face (``None``: that face has no such filter)."""

    name: str
    kind: str  # see PARSERS
    target: str  # CdrFilter field
    help: str
    legacy: Mapping[str, str | None] = field(default_factory=dict)
    example: str = ""


FILTERS: Final[tuple[FilterParam, ...]] = (
    FilterParam(
        "date_from", "datetime", "date_from",
        "Calls that started at or after this time (ISO 8601; without an offset: the sniffer's zone).",
        {"api.php": "startTime", "sql.php": "fdatefrom"}, "2026-11-26T00:00:00Z",
    ),
    FilterParam(
        "date_to", "datetime_end", "date_to",
        "Calls that started at or before this time (a date alone: the end of that day).",
        {"api.php": "startTimeTo", "sql.php": "fdateto"}, "2026-11-26T23:59:59Z",
    ),
    FilterParam(
        "callend_to", "datetime_end", "callend_to", "Calls that ended at or before this time.",
        {"api.php": "callEnd", "sql.php": None},
    ),
    FilterParam(
        "id", "ints", "cdr_ids", "CDR ids (comma list).",
        {"api.php": "cdrId", "sql.php": None}, "1,2,3",
    ),
    FilterParam(
        "call_id", "texts", "call_ids",
        "Call-ID (repeat the parameter for several; % and _ are wildcards).",
        {"api.php": "callId", "sql.php": "fcallid"},
    ),
    FilterParam(
        "caller", "patterns", "caller",
        "Caller number patterns (comma list): exact, prefix%, %suffix, %part%.",
        {"api.php": "caller", "sql.php": "fcaller"}, "+42060%",
    ),
    FilterParam(
        "called", "patterns", "called", "Called number patterns (comma list), like caller.",
        {"api.php": "called", "sql.php": "fcalled"},
    ),
    FilterParam(
        "numbers_or", "bool", "numbers_or",
        "true: a call matches when its caller OR its called number matches (default AND).",
        {"api.php": "msisdn", "sql.php": "fcallerd_type"},
    ),
    FilterParam(
        "caller_domain", "patterns", "caller_domain", "Caller domain patterns (comma list).",
        {"api.php": None, "sql.php": "fcaller_domain"},
    ),
    FilterParam(
        "called_domain", "patterns", "called_domain", "Called domain patterns (comma list).",
        {"api.php": None, "sql.php": "fcalled_domain"},
    ),
    FilterParam(
        "caller_ip", "ips", "sipcallerip", "Caller SIP IP addresses or CIDR networks (comma list).",
        {"api.php": None, "sql.php": "fsipcallerip"}, "192.0.2.0/24",
    ),
    FilterParam(
        "called_ip", "ips", "sipcalledip", "Called SIP IP addresses or CIDR networks (comma list).",
        {"api.php": None, "sql.php": "fsipcalledip"},
    ),
    FilterParam(
        "sensor", "sensors", "sensors", "Sensor ids (comma list; -1: calls without a sensor).",
        {"api.php": "id_sensor", "sql.php": "fsensor_id"},
    ),
    FilterParam(
        "sip_response", "sip_responses", "sip_responses",
        "Last SIP response codes or classes (comma list: 486,503 or 4xx).",
        {"api.php": None, "sql.php": "fsipresponse"}, "4xx",
    ),
    FilterParam(
        "duration_min", "number", "duration_gt", "Calls longer than this many seconds.",
        {"api.php": None, "sql.php": "fdurationgt"},
    ),
    FilterParam(
        "duration_max", "number", "duration_lt", "Calls shorter than this many seconds.",
        {"api.php": None, "sql.php": "fdurationlt"},
    ),
    FilterParam(
        "connected", "bool", "only_connected", "true: only calls that were answered.",
        {"api.php": "onlyConnected", "sql.php": None},
    ),
    FilterParam(
        "codec", "ints", "codecs", "Sniffer codec numbers (comma list; 0 PCMU, 8 PCMA, 9 G.722 …).",
        {"api.php": None, "sql.php": "fcodec"},
    ),
    FilterParam(
        "header.<Name>", "custom_header", "custom_headers",
        "A custom header's value pattern, e.g. header.X-Account-Code=ACME%.",
        {"api.php": None, "sql.php": "fcustom_header__<Name>"},
    ),
)  # fmt: skip

# The quality thresholds, one parameter each (REST/GUI names), all setting column_conditions.
QUALITY_PARAMS: Final[tuple[FilterParam, ...]] = tuple(
    FilterParam(
        q.rest,
        "quality",
        "column_conditions",
        f"{'At most' if q.lookup == 'lte' else 'At least'} this {q.unit} on either side"
        f" ({', '.join(q.columns)}).",
        {"api.php": None, "sql.php": legacy},
    )
    for legacy, q in QUALITY_FILTERS.items()
)
QUALITY_BY_REST: Final[dict[str, QualityFilter]] = {q.rest: q for q in QUALITY_FILTERS.values()}
ALL_PARAMS: Final[tuple[FilterParam, ...]] = FILTERS + QUALITY_PARAMS
HEADER_PREFIX: Final = "header."


# ---------------------------------------------------------------------------
# Parsing REST/GUI query values (strict; the legacy faces keep their own lenient readers)
# ---------------------------------------------------------------------------


def _items(name: str, values: list[str], *, split: bool = True, ids: bool = False) -> list[str]:
    """The values of a list parameter (repeated and/or comma-separated), bounded like every
    face's lists: ``VMGUI_MAX_LIST_VALUES`` values (id lists: ``VMGUI_MAX_ID_VALUES``) of at
    most ``VMGUI_MAX_PATTERN_LENGTH`` characters."""
    limit, setting = (
        (settings.MAX_ID_VALUES, "VMGUI_MAX_ID_VALUES")
        if ids
        else (settings.MAX_LIST_VALUES, "VMGUI_MAX_LIST_VALUES")
    )
    if len(values) > limit:
        raise FilterValueError(f"{name}: at most {limit} values ({setting})")
    out: list[str] = []
    for raw in values:
        parts = raw.split(",", limit + 1) if split else [raw]
        out += [p.strip() for p in parts if p.strip()]
        if len(out) > limit:
            raise FilterValueError(f"{name}: at most {limit} values ({setting})")
    for item in out:
        if len(item) > settings.MAX_PATTERN_LENGTH:
            raise FilterValueError(
                f"{name}: a value is longer than {settings.MAX_PATTERN_LENGTH} characters "
                "(VMGUI_MAX_PATTERN_LENGTH)"
            )
        if "\x00" in item or any(0xD800 <= ord(c) <= 0xDFFF for c in item):
            raise FilterValueError(f"{name}: a value holds characters that cannot be stored")
    return out


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _datetime(name: str, values: list[str], *, end: bool = False) -> dt.datetime:
    text = values[-1].strip()
    if len(text) > 40:
        raise FilterValueError(f"{name}: expected an ISO 8601 date-time")
    value: dt.datetime | None
    try:
        if _DATE_ONLY.fullmatch(text):  # a whole day: its start, or its end for "to" bounds
            day = parse_date(text)
            value = dt.datetime.combine(day, dt.time.max if end else dt.time.min) if day else None
        else:
            value = parse_datetime(text.replace(" ", "T", 1))
    except (ValueError, OverflowError):
        value = None
    if value is None or not 1900 <= value.year <= 9998:
        raise FilterValueError(f"{name}: expected an ISO 8601 date-time, e.g. 2026-11-26T08:00:00Z")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _int_items(name: str, values: list[str], minimum: int, *, ids: bool = False) -> list[int]:
    out = []
    for item in _items(name, values, ids=ids):
        if not re.fullmatch(r"-?\d{1,18}", item) or int(item) < minimum:
            raise FilterValueError(f"{name}: expected whole numbers of at least {minimum}")
        out.append(int(item))
    return out


def _bool(name: str, values: list[str]) -> bool:
    text = values[-1].strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise FilterValueError(f"{name}: expected true or false")


def _number(name: str, values: list[str], maximum: float | None = None) -> float:
    text = values[-1].strip().replace(",", ".")
    try:
        number = float(text) if len(text) <= 40 else math.nan
    except ValueError:
        number = math.nan
    maximum = MAX_NUMBER if maximum is None else maximum
    if not math.isfinite(number) or not 0 <= number <= maximum:
        raise FilterValueError(f"{name}: expected a number from 0 to {maximum:g}")
    return number


_RESPONSE_CLASS = re.compile(r"^([1-6])(?:xx)?$", re.IGNORECASE)


def expand_sip_responses(items: Iterable[str], code: Callable[[str], int]) -> list[int]:
    """SIP response codes (``486``) and classes (``4`` or ``4xx`` = 400-499) → the codes, each
    once (an ordered set: "4,4xx,4" is one class, not 300 values). ``code`` reads an item that
    is not a class (each face with its own bounds and error)."""
    codes: dict[int, None] = {}
    for item in items:
        match = _RESPONSE_CLASS.match(item)
        if match:
            first = int(match.group(1)) * 100
            codes.update(dict.fromkeys(range(first, first + 100)))
        else:
            codes[code(item)] = None
    return list(codes)


def _sip_responses(name: str, values: list[str]) -> list[int]:
    def code(item: str) -> int:
        if item.isdigit() and len(item) <= 3:
            return int(item)
        raise FilterValueError(f"{name}: expected SIP codes (486) or classes (4xx)")

    return expand_sip_responses(_items(name, values), code)


def _ips(name: str, values: list[str]) -> list[str]:
    import ipaddress

    out = _items(name, values)
    for item in out:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise FilterValueError(
                f"{name}: {item[:60]!r} is not an IP address or network"
            ) from None
    return out


PARSERS: Final[dict[str, Callable[[str, list[str]], Any]]] = {
    "datetime": _datetime,
    "datetime_end": lambda n, v: _datetime(n, v, end=True),
    "ints": lambda n, v: _int_items(n, v, 1, ids=True),
    "sensors": lambda n, v: [None if i == -1 else i for i in _int_items(n, v, -1)],
    "texts": lambda n, v: _items(n, v, split=False, ids=True),
    "patterns": _items,
    "ips": _ips,
    "bool": _bool,
    "number": _number,
    "sip_responses": _sip_responses,
}

# Parameters of a listing that are not filters (paging, ordering, output format).
NOT_FILTERS: Final = frozenset({"cursor", "limit", "ordering", "format", "count", "columns"})


def parse(query: Mapping[str, list[str]]) -> CdrFilter:
    """A ``CdrFilter`` from REST/GUI query parameters (``{name: [values]}``, e.g. a QueryDict's
    ``lists()``). Unknown parameters are refused by name so that a typo never silently widens
    a search; FilterValueError names the bad parameter."""
    f = CdrFilter()
    by_name = {p.name: p for p in FILTERS}
    for name, values in query.items():
        if not values or name in NOT_FILTERS:
            continue
        if name.startswith(HEADER_PREFIX):
            header = name[len(HEADER_PREFIX) :].strip()
            if not header or len(header) > 128:
                raise FilterValueError(f"{name}: header.<Header-Name>=<pattern>")
            (value,) = _items(name, values[-1:], split=False) or [""]
            if value:
                if len(f.custom_headers) >= 20:
                    raise FilterValueError("at most 20 custom header filters")
                f.custom_headers[header] = value
            continue
        if name in QUALITY_BY_REST:
            q = QUALITY_BY_REST[name]
            key, scaled = q.condition(_number(name, values, q.maximum))
            f.column_conditions[key] = scaled
            continue
        param = by_name.get(name)
        if param is None:
            raise FilterValueError(f"unknown parameter {name[:60]!r}")
        setattr(f, param.target, PARSERS[param.kind](name, values))
    return f
