"""Shared helpers of the GUI report tests (no tests here): stored definitions, page parsing."""

from __future__ import annotations

import html
import re

from cdr.reports.models import ReportDefinition


def report(description: str, owner=None, **fields) -> ReportDefinition:
    """A stored, checked definition (as the admin or the REST API would store it)."""
    obj = ReportDefinition(description=description, owner=owner, **fields)
    obj.full_clean(exclude=["owner"])
    obj.save()
    return obj


def text_of(body: str, element_id: str) -> str:
    """The text inside the element with this id (tags removed, entities decoded)."""
    match = re.search(
        rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(?:dd|td|p|h1|span|div)>', body, re.S
    )
    assert match, f"no element #{element_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def table_rows(body: str, table_id: str) -> list[list[str]]:
    """The body cells of a table (``th`` and ``td``) as texts, row by row."""
    match = re.search(rf'<table[^>]*id="{re.escape(table_id)}".*?<tbody>(.*?)</tbody>', body, re.S)
    assert match, f"no table #{table_id}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def field_error(body: str, name: str) -> str | None:
    """The error shown under a form input, or None."""
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', body, re.S)
    return html.unescape(match.group(1)).strip() if match else None
