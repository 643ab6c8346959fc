"""``/audit/``: the audit log (``can_audit``): who did what, filterable, newest first.

Filters: action, user name (exact, as stored: failed logins keep what was typed), face,
outcome, and a range of days in the user's time zone; all in the URL. Paging is by event id
(``before``/``after``: newer and older pages), so a deep page costs what the first one does on
a large log. The conditions are applied by ``accounts.audit.search`` (shared with the REST
API's ``/api/v1/audit/``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import audit
from accounts.models import AuditEvent
from accounts.preferences import preferences_of
from gui.access import gui_page

PAGE_SIZE: Final = 50
# The faces that write audit events (a datalist: other values may be typed).
FACES: Final = ("gui", "admin", "api.php", "sql.php", "rest", "share", "cli", "pcap2text.php")
SUCCESS: Final = {"": None, "yes": True, "no": False}


class BadFilter(ValueError):
    """A filter value the page cannot use; the message is shown above the form."""


@dataclass(frozen=True)
class Filters:
    """The audit page's filters as typed (shown again in the form and kept by the pager)."""

    action: str = ""
    username: str = ""
    face: str = ""
    success: str = ""
    date_from: str = ""
    date_to: str = ""

    def query(self, **extra: object) -> str:
        pairs = {
            "action": self.action,
            "username": self.username,
            "face": self.face,
            "success": self.success,
            "from": self.date_from,
            "to": self.date_to,
            **extra,
        }
        return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


def _filters(query: QueryDict) -> Filters:
    return Filters(
        action=query.get("action", "").strip()[:32],
        username=query.get("username", "").strip()[:150],
        face=query.get("face", "").strip()[:32],
        success=query.get("success", "").strip()[:3],
        date_from=query.get("from", "").strip()[:10],
        date_to=query.get("to", "").strip()[:10],
    )


def _day(name: str, text: str) -> dt.date | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9998:  # the bounds of every face's dates
        raise BadFilter(f"{name}: expected a date such as 2026-11-26")
    return day


def _id(name: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 15:
        raise BadFilter(f"{name}: expected an event number")
    return int(text)


def _search(f: Filters, zone: dt.tzinfo) -> QuerySet:
    if f.action and f.action not in AuditEvent.Action.values:
        raise BadFilter(f"action: unknown action {f.action!r}")
    if f.success not in SUCCESS:
        raise BadFilter("success: yes, no or empty")
    first, last = _day("from", f.date_from), _day("to", f.date_to)
    if first and last and last < first:
        raise BadFilter("to: the last day is before the first day")
    since = dt.datetime.combine(first, dt.time.min, tzinfo=zone) if first else None
    until = None
    if last:  # up to the end of the last day, in the user's zone
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        until -= dt.timedelta(microseconds=1)
    return audit.search(
        action=f.action,
        username=f.username,
        face=f.face,
        since=since,
        until=until,
        success=SUCCESS[f.success],
    )


def _page(qs: QuerySet, before: int | None, after: int | None) -> tuple[list, bool, bool]:
    """(events newest first, is there a newer page, is there an older page)."""
    if after is not None:
        events = list(qs.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        newer = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE][::-1]
        return events, newer, qs.filter(id__lte=after).exists()
    if before is not None:
        qs_older = qs.filter(id__lt=before)
        events = list(qs_older[: PAGE_SIZE + 1])
        return events[:PAGE_SIZE], qs.filter(id__gte=before).exists(), len(events) > PAGE_SIZE
    events = list(qs[: PAGE_SIZE + 1])
    return events[:PAGE_SIZE], False, len(events) > PAGE_SIZE


@require_GET
@gui_page("can_audit")
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    error = ""
    events: list = []
    newer = older = False
    try:
        qs = _search(filters, preferences_of(request.user).zone)
        before = _id("before", request.GET.get("before", "").strip())
        after = _id("after", request.GET.get("after", "").strip())
        events, newer, older = _page(qs, before, after)
    except BadFilter as exc:
        error = str(exc)
    return render(
        request,
        "gui/reports/audit.html",
        {
            "filters": filters,
            "events": events,
            "error": error,
            "actions": AuditEvent.Action.choices,
            "faces": FACES,
            "newer_query": filters.query(after=events[0].pk) if newer and events else "",
            "older_query": filters.query(before=events[-1].pk) if older and events else "",
            "newest_query": filters.query(),
            "paged": newer,
        },
        status=400 if error else 200,
    )
