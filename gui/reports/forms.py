"""The report definition form: its fields, and its CDR filters entered like the CDR list's.

Filter inputs are generated from the one filter declaration (``cdr.query.filterspec``) and
named by their REST/GUI names (``caller``, ``sip_response``, ``mos_f1_max`` …); custom headers
are name/value pairs stored as ``header.<Name>``. What is stored is checked only by
``cdr.reports.spec`` through the model's ``full_clean`` (as the REST API and the admin do); its
messages are put next to the input they name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.http import QueryDict

from cdr.query.filterspec import FILTERS, HEADER_PREFIX, QUALITY_PARAMS, FilterParam
from cdr.reports.models import ReportDefinition
from cdr.reports.spec import MAX_TOP, PERIOD_FILTERS, SECTIONS

# Labels where the REST name does not read well as a label.
LABELS: Final[dict[str, str]] = {
    "id": "CDR ids",
    "call_id": "Call-ID",
    "numbers_or": "Caller OR called",
    "caller_ip": "Caller SIP IP",
    "called_ip": "Called SIP IP",
    "sip_response": "Last SIP response",
    "duration_min": "Longer than (s)",
    "duration_max": "Shorter than (s)",
    "connected": "Answered",
    "codec": "Codec numbers",
}
NUMBER_KINDS: Final = frozenset({"number", "quality"})
HEADER_ROWS: Final = 3  # empty custom-header rows offered besides the stored ones
EDITABLE: Final = (
    "description", "notes", "filters", "metrics", "top_n", "shared", "schedule", "recipients",
)  # fmt: skip


def _label(param: FilterParam) -> str:
    if param.name in LABELS:
        return LABELS[param.name]
    words = param.name.replace("_", " ").split()
    text = " ".join(w.upper() if w in ("ip", "sip", "mos", "rtcp") else w for w in words)
    return text[:1].upper() + text[1:]


def _params(params: Iterable[FilterParam]) -> list[FilterParam]:
    return [
        p for p in params if p.name not in PERIOD_FILTERS and not p.name.startswith(HEADER_PREFIX)
    ]


MAIN_PARAMS: Final = _params(FILTERS)
QUALITY: Final = _params(QUALITY_PARAMS)
ALL_PARAMS: Final = {p.name: p for p in (*MAIN_PARAMS, *QUALITY)}


@dataclass
class FilterInput:
    """One filter input as the template draws it."""

    name: str
    kind: str
    label: str
    help: str
    example: str
    value: str
    error: str = ""

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def is_lines(self) -> bool:
        return self.kind == "texts"


@dataclass
class Draft:
    """What the form shows: the values as typed, and the errors per field."""

    values: dict[str, Any]
    filters: dict[str, str]
    headers: list[tuple[str, str]]
    errors: dict[str, str] = field(default_factory=dict)

    def inputs(self, params: Iterable[FilterParam]) -> list[FilterInput]:
        return [
            FilterInput(
                p.name, p.kind, _label(p), p.help, p.example,
                self.filters.get(p.name, ""), self.errors.get(f"filter:{p.name}", ""),
            )
            for p in params
        ]  # fmt: skip

    @property
    def main_inputs(self) -> list[FilterInput]:
        return self.inputs(MAIN_PARAMS)

    @property
    def quality_inputs(self) -> list[FilterInput]:
        return self.inputs(QUALITY)

    @property
    def quality_open(self) -> bool:
        return any(self.filters.get(p.name) for p in QUALITY) or any(
            key.startswith("filter:") and key[7:] in {p.name for p in QUALITY}
            for key in self.errors
        )

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(id of the input, message) of every error, for the summary above the form."""
        anchors = {"headers": "header_name-1", "filters": "filters", "metrics": "metrics"}
        return [
            (anchors.get(key, key.removeprefix("filter:")), message)
            for key, message in self.errors.items()
        ]

    @property
    def header_rows(self) -> list[tuple[str, str]]:
        return [*self.headers, *[("", "")] * HEADER_ROWS]


def _shown(param: FilterParam | None, value: Any) -> str:
    """A stored filter value as its input shows it."""
    items = value if isinstance(value, list) else [value]
    texts = []
    for item in items:
        if isinstance(item, bool):
            texts.append("true" if item else "false")
        elif item is not None:
            texts.append(str(item))
    if param is not None and param.kind == "texts":
        return "\n".join(texts)
    if param is not None and param.kind == "bool":
        last = texts[-1].strip().lower() if texts else ""
        if last in ("1", "true", "yes", "on"):
            return "true"
        return "false" if last in ("0", "false", "no", "off") else last
    return ", ".join(texts)


def draft_of(report: ReportDefinition | None) -> Draft:
    """The form of a stored definition (None: a new one with the defaults)."""
    report = report or ReportDefinition()
    values = {name: getattr(report, name) for name in EDITABLE if name != "filters"}
    values["metrics"] = report.sections if report.pk else list(SECTIONS)
    stored = report.filters if isinstance(report.filters, Mapping) else {}
    filters, headers = {}, []
    for name, value in stored.items():
        if isinstance(name, str) and name.startswith(HEADER_PREFIX):
            headers.append((name[len(HEADER_PREFIX) :], _shown(None, value)))
        else:
            filters[name] = _shown(ALL_PARAMS.get(name), value)
    return Draft(values, filters, headers)


def _number(text: str) -> Any:
    """A number input as a JSON number when it is one (else the text: the spec names it)."""
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def _filter_value(param: FilterParam, text: str) -> Any:
    if param.kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if param.kind in NUMBER_KINDS:
        return _number(text)
    if param.kind == "texts":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines if len(lines) != 1 else lines[0]
    return text


def read(post: QueryDict) -> tuple[Draft, dict[str, Any]]:
    """The posted form: what to show again, and the definition's new field values."""
    shown: dict[str, str] = {}
    stored: dict[str, Any] = {}
    for name, param in ALL_PARAMS.items():
        text = post.get(name, "").strip()
        if text:
            shown[name] = text
            stored[name] = _filter_value(param, text)
    headers: list[tuple[str, str]] = []
    missing: list[str] = []
    for raw_name, raw_value in zip(
        post.getlist("header_name"), post.getlist("header_value"), strict=False
    ):
        name, value = raw_name.strip(), raw_value.strip()
        if name or value:
            headers.append((name, value))
            stored[f"{HEADER_PREFIX}{name}"] = value
            if name and not value:  # stored empty, it would silently filter nothing
                missing.append(name)
    values: dict[str, Any] = {
        "description": post.get("description", ""),
        "notes": post.get("notes", "").replace("\r\n", "\n"),
        "metrics": [m for m in post.getlist("metrics") if m in SECTIONS],
        "top_n": post.get("top_n", "").strip(),
        "shared": post.get("shared") == "on",
        "schedule": post.get("schedule", ReportDefinition.Schedule.NONE),
        "recipients": post.get("recipients", ""),
    }
    draft = Draft(dict(values), shown, headers)
    if missing:
        draft.errors["headers"] = f"header {missing[0][:60]}: enter a value pattern (e.g. ACME%)"
    values["filters"] = stored
    return draft, values


def _top_n(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_TOP:
        raise ValidationError({"top_n": f"a whole number from 1 to {MAX_TOP}"})
    return int(text)


def _place(draft: Draft, field_name: str, message: str) -> None:
    """Put a model error next to its input (a filter error next to the filter it names)."""
    if field_name != "filters":
        draft.errors.setdefault(field_name, message)
        return
    # "filters: caller_ip: '…' is not an IP address …" or "filters.caller: at most …"
    rest = message.removeprefix("filters").lstrip(":. ")
    named = rest.split(":", 1)[0].strip()
    if named in ALL_PARAMS:
        draft.errors.setdefault(f"filter:{named}", rest)
    elif named.startswith(HEADER_PREFIX) or "header" in rest:
        draft.errors.setdefault("headers", rest)
    else:
        draft.errors.setdefault("filters", rest)


def validated(
    draft: Draft, values: dict[str, Any], report: ReportDefinition | None
) -> ReportDefinition | None:
    """The definition with ``values`` applied and checked (unsaved), or None with the errors
    in ``draft.errors``. The stored report is not touched when it fails."""
    candidate = copy.copy(report) if report is not None else ReportDefinition()
    try:
        values = {**values, "top_n": _top_n(values["top_n"])}
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            _place(draft, name, messages[0])
        values = {**values, "top_n": candidate.top_n or 10}
    for name, value in values.items():
        setattr(candidate, name, value)
    try:
        candidate.full_clean(exclude=["owner"])
    except ValidationError as exc:
        # The last message of a field is the most specific: the spec's after Django's generic
        # "This field cannot be blank."
        for name, messages in exc.message_dict.items():
            _place(draft, name, messages[-1])
    if draft.errors:
        return None
    return candidate
