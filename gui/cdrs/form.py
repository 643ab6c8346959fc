"""The CDR list's search form, generated from the one filter declaration (cdr.query.filterspec).

Every filter of ``filterspec.ALL_PARAMS`` becomes a form field: its label comes from the
filter's ``help``, its input from its ``kind``; custom headers give one field per header the
user may see. Nothing about a filter is declared here a second time: the request is read by
``filterspec.parse`` like the REST API reads it, so a filter added to the declaration appears
in this form at once.

The form is sent with GET, so a search is a URL (bookmark it, send it). Besides the filters the
URL holds the page's own parameters (``LIST_PARAMS``): the relative time ``window`` (a preset:
last hour, today, ... kept relative in a bookmark), ``sort``, ``page_size``, ``columns`` and
the position (``after``/``before`` keyset cursors, or ``page`` for other sort orders).

Times: ``<input type=datetime-local>`` sends wall-clock times without a zone; they are the
user's local times (``gui.access`` activates the user's zone, in which ``filterspec.parse``
reads naive values). Values with an offset (``Z``, ``+01:00``: deep links) keep their instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from django.http import QueryDict
from django.utils import timezone

from cdr.codecnumbers import CODEC_NAMES
from cdr.query import filterspec
from cdr.query.customheaders import header_names
from cdr.query.engine import CdrFilter
from cdr.query.filterspec import ALL_PARAMS, HEADER_PREFIX, FilterParam
from cdr.query.rows import codec_name
from cdr.query.scope import CdrScope, header_visible
from cdr.sensors import registry

# Relative time windows (presets): name → label. Kept relative in the URL: a bookmark of
# "today" shows today's calls tomorrow too.
WINDOWS: Final[dict[str, str]] = {
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "all": "All time",
}
# Without dates or a window: the last 24 hours (one day is what operators look at first and
# what keeps the default page, its chart and its count, fast on a large table;
# docs/gui-cdrs.md). A search by Call-ID or CDR id searches all time instead: an id is
# selective on its own, and a call from last week must be found by it.
DEFAULT_WINDOW: Final = "24h"
PAGE_SIZES: Final = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE: Final = 50
# The list page's own parameters (not filters).
LIST_PARAMS: Final = frozenset(
    {"window", "sort", "page_size", "page", "after", "before", "columns"}
)
# Filters shown without opening "More filters".
MAIN_FILTERS: Final = ("date_from", "date_to", "caller", "called", "numbers_or", "sip_response")
# The <input> of each filter kind.
INPUTS: Final[dict[str, str]] = {
    "datetime": "datetime-local",
    "datetime_end": "datetime-local",
    "ints": "text",
    "sensors": "select",
    "texts": "text",
    "patterns": "search",
    "ips": "text",
    "bool": "checkbox",
    "number": "number",
    "sip_responses": "text",
    "quality": "number",
    "custom_header": "search",
}
# A wall-clock value as <input type=datetime-local> shows it.
LOCAL_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"


class ListParamError(ValueError):
    """A bad list-page parameter (window, sort, page size, position); safe to show."""


@dataclass
class FormField:
    """One input of the search form."""

    name: str  # the URL parameter
    label: str
    hint: str
    input: str  # datetime-local, text, search, number, checkbox, select
    values: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    maximum: float | None = None
    example: str = ""

    @property
    def dom_id(self) -> str:
        return "f-" + "".join(c if c.isalnum() else "-" for c in self.name)

    @property
    def value(self) -> str:
        return self.values[-1] if self.values else ""

    @property
    def options(self) -> list[tuple[str, str, bool]]:
        """(value, label, selected) of a choice list."""
        chosen = {v for value in self.values for v in value.split(",")}
        return [(value, label, value in chosen) for value, label in self.choices]

    @property
    def checked(self) -> bool:
        return self.value.lower() in ("1", "true", "yes", "on")


@dataclass
class FormGroup:
    """A fieldset of the form: the main filters, more filters, quality, custom headers."""

    key: str
    legend: str
    fields: list[FormField]

    @property
    def used(self) -> bool:
        """Whether a field of the group holds a value (its <details> opens)."""
        return any(v.strip() for f in self.fields for v in f.values)


def label_of(param: FilterParam) -> tuple[str, str]:
    """(label, hint) from the declared help: its first clause is the label, all of it the hint.

    "Caller number patterns (comma list): exact, prefix%" → "Caller number patterns"; a bool's
    "true: only calls that were answered." → "Only calls that were answered".
    """
    text = param.help.strip()
    if text.lower().startswith("true:"):  # a flag: its help says what "true" does
        text = text[5:].strip()
        text = text[:1].upper() + text[1:]
    cut = len(text)
    for mark in (" (", ": ", "; ", ", e.g.", "."):
        index = text.find(mark)
        if 0 < index < cut:
            cut = index
    label = text[:cut].strip()
    return label[:1].upper() + label[1:], text


def visible_headers(scope: CdrScope) -> list[str]:
    """The custom headers this user may see (and filter on, and show as columns)."""
    return [h for h in header_names() if header_visible(scope, h)]


def _sensor_choices(scope: CdrScope) -> list[tuple[str, str]]:
    choices = [(str(s.id), f"{s.name} (#{s.id})") for s in registry.visible_sensors(scope)]
    if not scope.sensors:
        choices.append(("-1", "calls without a sensor"))
    return choices


def _codec_choices(_scope: CdrScope) -> list[tuple[str, str]]:
    return [(str(n), f"{codec_name(n)} ({n})") for n in sorted(CODEC_NAMES)]


# Filters whose values are picked from a list rather than typed (the declaration's kind stays
# the parser; these only offer the known values).
CHOICES: Final[dict[str, Callable[[CdrScope], list[tuple[str, str]]]]] = {
    "sensor": _sensor_choices,
    "codec": _codec_choices,
}


def _values(query: QueryDict, name: str) -> list[str]:
    return [v for v in query.getlist(name) if v.strip()]


def _field(param: FilterParam, name: str, query: QueryDict, scope: CdrScope) -> FormField:
    label, hint = label_of(param)
    kind = param.kind
    maximum = None
    if kind == "quality":
        maximum = filterspec.QUALITY_BY_REST[name].maximum
    choices = CHOICES[name](scope) if name in CHOICES else []
    return FormField(
        name=name,
        label=label,
        hint=hint,
        input="select" if choices else INPUTS[kind],
        values=_values(query, name),
        choices=choices,
        maximum=maximum,
        example=param.example,
    )


def build_form(
    query: QueryDict, scope: CdrScope, f: CdrFilter | None, headers: list[str]
) -> list[FormGroup]:
    """The form's groups, holding the request's values (shown again after an error);
    ``headers``: the custom headers the user may see (``visible_headers``).

    Dates the parser understood are shown as local times of the user's zone (a deep link's
    ``2026-11-26T08:00:00Z`` becomes the local wall clock the input can show).
    """
    main: list[FormField] = []
    more: list[FormField] = []
    quality: list[FormField] = []
    header_fields: list[FormField] = []
    for param in ALL_PARAMS:
        if param.kind == "custom_header":
            for header in headers:
                item = _field(param, f"{HEADER_PREFIX}{header}", query, scope)
                item.label, item.example = header, f"{header} value pattern"
                header_fields.append(item)
            continue
        item = _field(param, param.name, query, scope)
        if item.input == "datetime-local":
            # The declaration's help speaks of API values; the form's are local times.
            zone = timezone.get_current_timezone_name()
            item.hint = f"{item.label}, in your time zone ({zone})."
            parsed = getattr(f, param.target) if f is not None else None
            if isinstance(parsed, dt.datetime):
                item.values = [timezone.localtime(parsed).strftime(LOCAL_FORMAT)]
        if param.kind == "quality":
            quality.append(item)
        elif param.name in MAIN_FILTERS:
            main.append(item)
        else:
            more.append(item)
    main.sort(key=lambda item: MAIN_FILTERS.index(item.name))
    groups = [
        FormGroup("main", "Search", main),
        FormGroup("more", "More filters", more),
        FormGroup("quality", "Voice quality thresholds", quality),
    ]
    if header_fields:
        groups.append(FormGroup("headers", "Custom headers", header_fields))
    return groups


# --- reading the request ---------------------------------------------------------------------


def filter_query(query: QueryDict) -> dict[str, list[str]]:
    """The request's filter parameters for ``filterspec.parse``: without the page's own
    parameters and without empty values (a GET form sends every empty input)."""
    out: dict[str, list[str]] = {}
    for name, values in query.lists():
        if name in LIST_PARAMS:
            continue
        kept = [v for v in values if v.strip()]
        if kept:
            out[name] = kept
    return out


def parse_filter(query: QueryDict) -> CdrFilter:
    """The CdrFilter of the request's filters (FilterValueError names a bad parameter)."""
    return filterspec.parse(filter_query(query))


def window_of(query: QueryDict, f: CdrFilter) -> str | None:
    """The relative window in force: None when the filter has dates (they win)."""
    if f.date_from is not None or f.date_to is not None:
        return None
    raw = query.get("window", "").strip()
    if raw:
        if raw not in WINDOWS:
            raise ListParamError(f"window: one of {', '.join(WINDOWS)}")
        return raw
    if f.call_ids or f.cdr_ids:
        return "all"
    return DEFAULT_WINDOW


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def window_range(
    window: str | None, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(from, to) of a window in the active (the user's) zone; (None, None) for "all".

    Relative windows start on a whole minute: the same search within a minute is the same
    filter (its expensive chart query can be reused, gui.cdrs.listing.hourly).
    """
    if window is None or window == "all":
        return None, None
    now = now.replace(second=0, microsecond=0)
    if window == "1h":
        return now - dt.timedelta(hours=1), None
    if window == "24h":
        return now - dt.timedelta(hours=24), None
    if window == "7d":
        return now - dt.timedelta(days=7), None
    today = timezone.localtime(now).date()
    if window == "today":
        return _midnight(today), None
    # yesterday: up to the last instant before today's midnight (date_to is inclusive)
    start = _midnight(today - dt.timedelta(days=1))
    return start, _midnight(today) - dt.timedelta(microseconds=1)


def apply_window(f: CdrFilter, window: str | None, now: dt.datetime) -> CdrFilter:
    """``f`` bounded by the window (a relative window never overrides explicit dates)."""
    start, end = window_range(window, now)
    if start is not None:
        f.date_from = start
    if end is not None:
        f.date_to = end
    return f


def page_size_of(query: QueryDict) -> int:
    raw = query.get("page_size", "").strip()
    if not raw:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or int(raw) not in PAGE_SIZES:
        raise ListParamError(f"page_size: one of {', '.join(map(str, PAGE_SIZES))}")
    return int(raw)


def query_without(query: QueryDict, drop: Iterable[str], **replace: str) -> str:
    """The request's query string without ``drop`` (and empty values), with ``replace`` set:
    the links of presets, sort headers and pages keep every other parameter."""
    dropped = set(drop) | set(replace)
    out = QueryDict(mutable=True)
    for name, values in query.lists():
        if name in dropped:
            continue
        for value in values:
            if value.strip():
                out.appendlist(name, value)
    for name, value in replace.items():
        out[name] = value
    return out.urlencode()


def hidden_state(query: QueryDict, names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, value) pairs of page parameters the form carries as hidden inputs."""
    return [(n, v) for n in names for v in query.getlist(n) if v.strip()]
