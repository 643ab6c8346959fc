"""What a report definition may hold: its filters, metric sections and e-mail recipients.

Every value is checked here once, for the admin, the REST API and the ``send_reports`` command:
a definition that passes ``check_*`` can always be run (apart from a custom header that was
deleted since, which the query engine names at run time).

Filters are a JSON object ``{name: value}`` in the REST/GUI filter names of
``cdr.query.filterspec`` (``{"caller": "+420%", "sip_response": "4xx", "connected": true,
"header.X-Account-Code": "ACME%"}``), parsed by ``filterspec.parse``, so a report filters
exactly like every other face. The period is not part of a definition: it comes with each run,
so the date filters are refused here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cdr.query.engine import CdrFilter
from cdr.query.filterspec import FilterValueError, parse

# Metric sections a definition may show, in the order of the answer (the summary figures
# calls, answered, ASR, ACD, MOS, loss and jitter are always part of a report).
SECTIONS: Final[dict[str, str]] = {
    "sip_responses": "Top last SIP responses",
    "top_callers": "Top callers",
    "top_called": "Top called numbers",
    "sensors": "Per sensor",
    "hours": "Per hour of day",
    "days": "Per day",
}
PERIOD_FILTERS: Final = frozenset({"date_from", "date_to", "callend_to"})
MAX_FILTERS: Final = 50
MAX_NAME_LENGTH: Final = 200
MAX_RECIPIENTS: Final = 50
MAX_TOP: Final = 100

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class ReportError(ValueError):
    """A report that cannot be run or stored as given; the message is safe to show."""


def _text_ok(value: str, what: str, limit: int) -> None:
    if len(value) > limit:
        raise ReportError(f"{what}: at most {limit} characters")
    if _CONTROL.search(value):
        raise ReportError(f"{what}: control characters or lone surrogates are not text")


def check_name(value: object) -> str:
    """A report's Description (the name api.php's report_name matches), trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ReportError("description: a name is required (report_name matches it)")
    name = value.strip()
    _text_ok(name, "description", MAX_NAME_LENGTH)
    return name


_CONTROL_IN_NOTES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_notes(value: object) -> str:
    """Free text about the report (line breaks allowed)."""
    text = value if isinstance(value, str) else ""
    if len(text) > 2000:
        raise ReportError("notes: at most 2000 characters")
    if _CONTROL_IN_NOTES.search(text):
        raise ReportError("notes: control characters or lone surrogates are not text")
    return text


def _values(name: str, value: Any) -> list[str]:
    """A filter value as filterspec.parse's list of texts (JSON scalars and lists accepted)."""
    items = value if isinstance(value, list) else [value]
    if len(items) > 1000:
        raise ReportError(f"filters.{name}: at most 1000 values")
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int | float) and not isinstance(item, bool):
            out.append(repr(item) if isinstance(item, float) else str(item))
        elif isinstance(item, str):
            _text_ok(item, f"filters.{name}", 1024)
            out.append(item)
        else:
            raise ReportError(f"filters.{name}: expected a text, a number, true/false or a list")
    return out


def filter_query(filters: object) -> dict[str, list[str]]:
    """The stored filter object as ``filterspec.parse``'s input (checked, bounded)."""
    if filters in (None, ""):
        return {}
    if not isinstance(filters, Mapping):
        raise ReportError('filters: expected a JSON object such as {"caller": "+420%"}')
    if len(filters) > MAX_FILTERS:
        raise ReportError(f"filters: at most {MAX_FILTERS} filters")
    query: dict[str, list[str]] = {}
    for name, value in filters.items():
        if not isinstance(name, str):
            raise ReportError("filters: names must be texts")
        _text_ok(name, "filters (a name)", 140)
        if name in PERIOD_FILTERS:
            raise ReportError(
                f"filters.{name}: the period is chosen when the report runs, not stored"
            )
        if value is None or value == "" or value == []:
            continue
        query[name] = _values(name, value)
    return query


def report_filter(filters: object) -> CdrFilter:
    """The definition's ``CdrFilter`` (ReportError naming the bad filter)."""
    try:
        return parse(filter_query(filters))
    except FilterValueError as exc:
        raise ReportError(f"filters: {exc}") from None


def check_metrics(metrics: object) -> list[str]:
    """The metric sections (a list of SECTIONS names), without duplicates, in SECTIONS order."""
    if metrics in (None, ""):
        return []
    if not isinstance(metrics, list) or len(metrics) > len(SECTIONS) * 2:
        raise ReportError(f"metrics: expected a list of {', '.join(SECTIONS)}")
    for item in metrics:
        if not isinstance(item, str) or item not in SECTIONS:
            shown = str(item)[:40]
            raise ReportError(
                f"metrics: unknown section {shown!r} (sections: {', '.join(SECTIONS)})"
            )
    return [name for name in SECTIONS if name in metrics]


_SPLIT = re.compile(r"[\s,;]+")


def recipient_list(text: object) -> list[str]:
    """E-mail addresses from a comma/semicolon/whitespace separated text (or a list), checked."""
    if text in (None, ""):
        return []
    if isinstance(text, list):
        items = text
    elif isinstance(text, str):
        items = _SPLIT.split(text)
    else:
        raise ReportError("recipients: expected e-mail addresses")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ReportError("recipients: expected e-mail addresses")
        address = item.strip()
        if not address:
            continue
        _text_ok(address, "recipients", 254)
        try:
            validate_email(address)
        except ValidationError:
            raise ReportError(f"recipients: {address[:80]!r} is not an e-mail address") from None
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    if len(out) > MAX_RECIPIENTS:
        raise ReportError(f"recipients: at most {MAX_RECIPIENTS} addresses")
    return out
