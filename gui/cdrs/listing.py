"""The CDR list page as plain data: one page of calls, how to reach the others, the chart.

Every read goes through ``cdr.query`` with the user's scope (``gui.access.rights``): the rows,
the chart and the count are of the calls the user may see, and nothing else.

Paging and sorting that stay fast on millions of rows:

- Newest or oldest first (``sort=-time`` / ``sort=time``, the default and what operators use)
  pages by keyset (``engine.fetch_after``, cursors of ``cdr.query.cursor``): ``after=`` the last
  row shown, ``before=`` the first one. Each page is an index range on ``calldate``, as cheap
  deep in the past as on page 1, and stable while new calls arrive.
- Any other sortable column (duration, caller, MOS, SIP code, ...) sorts ALL the matching calls
  (``engine.fetch_rows`` with the order keys and an OFFSET, ``page=``), but only when the
  filter matches at most ``SORT_LIMIT`` calls (the count is known from the chart's query):
  then the database sorts a bounded set. Beyond it the page says so, names the limit and
  lists newest first; narrowing the filter (a shorter window, a number) makes the sort work.

The total and the chart come from ONE grouped query (``engine.hourly_counts``), run under a
time budget (``CHART_BUDGET_MS``, the database's statement timeout): a filter too wide to
count in that time shows its rows without a total or chart, and says so. An expensive
grouped query is reused for a minute (``hourly``), so paging through a wide search pays it
once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from django.core.cache import cache
from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from cdr.query import engine
from cdr.query.cursor import CursorError, decode_cursor, encode_cursor, keyset_rows
from cdr.query.engine import CdrFilter
from cdr.query.scope import CdrScope
from gui.cdrs import chart as charts
from gui.cdrs.columns import Column, Context, td
from gui.cdrs.form import ListParamError, query_without

DEFAULT_SORT: Final = "-time"
# Sorting by anything but time sorts every matching call: at most this many.
SORT_LIMIT: Final = 100_000
# The grouped count + chart query may take this long before it is given up (MySQL only).
CHART_BUDGET_MS: Final = 1000
# A grouped query at least this slow is reused this long for the same search (``hourly``).
CACHE_SLOWER_THAN_MS: Final = 250
CHART_CACHE_SECONDS: Final = 60
# Rows per keyset query of the CSV export (one small query each: flat memory).
CSV_CHUNK: Final = 2000
# Parameters that position a page; a new search or sort starts again from the first page.
POSITION: Final = ("after", "before", "page")


@dataclass(frozen=True)
class Sort:
    """The requested order: a column key, descending or not, and the engine's order keys."""

    key: str
    descending: bool
    order: tuple[str, ...]
    label: str = "Time"

    @property
    def by_time(self) -> bool:
        return self.key == "time"

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key


def sort_of(query: QueryDict, columns: Sequence[Column]) -> Sort:
    """``sort=<column>`` or ``sort=-<column>`` among the sortable columns (ListParamError)."""
    raw = query.get("sort", "").strip() or DEFAULT_SORT
    key = raw.lstrip("-")
    sortable = {c.key: c for c in columns if c.sort}
    if key not in sortable:
        names = ", ".join(sorted(sortable))
        raise ListParamError(f"sort: one of {names} (a leading - sorts descending)")
    descending = raw.startswith("-")
    order = tuple(engine.order_keys([(sortable[key].sort, descending)]))
    return Sort(key, descending, order, sortable[key].label)


@dataclass
class Row:
    """One call of the page: its id and its cells (``<td>`` HTML) in column order."""

    id: int
    cells: SafeString


@dataclass
class Pager:
    """Links to the neighbouring pages (query strings, '' = no such page) and where we are."""

    first: str = ""
    previous: str = ""
    next: str = ""
    page: int | None = None  # OFFSET pages only
    pages: int | None = None


@dataclass
class ListPage:
    rows: list[Row] = field(default_factory=list)
    pager: Pager = field(default_factory=Pager)
    chart: charts.Chart | None = None
    total: int | None = None
    notes: list[str] = field(default_factory=list)
    sort: Sort | None = None

    @property
    def total_text(self) -> str:
        return "" if self.total is None else f"{self.total:,}"


def hourly(f: CdrFilter, scope: CdrScope) -> list[dict] | None:
    """``engine.hourly_counts`` of the search; an expensive answer is reused for a minute.

    A grouped query over a week of calls costs more than the page itself, and paging through
    that week would repeat it on every page; so when it took at least ``CACHE_SLOWER_THAN_MS``
    (or ran out of time), its result is kept ``CHART_CACHE_SECONDS`` for the same search and
    scope (relative windows are whole minutes, so the key holds within a minute). Cheap ones
    (the default day) always run: their total is live.
    """
    key = "gui.cdrs.hourly:" + hashlib.sha256(repr((f, scope)).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached["rows"]
    started = time.monotonic()
    rows = engine.hourly_counts(f, scope, budget_ms=CHART_BUDGET_MS)
    if (time.monotonic() - started) * 1000 >= CACHE_SLOWER_THAN_MS:
        cache.set(key, {"rows": rows}, CHART_CACHE_SECONDS)
    return rows


def summary(
    f: CdrFilter, scope: CdrScope, start: dt.datetime | None, end: dt.datetime | None, fmt: str
) -> charts.Chart | None:
    """The chart (and the total) of the filter, or None when the query ran out of time."""
    rows = hourly(f, scope)
    if rows is None:
        return None
    return charts.build_chart(rows, start, end, fmt)


def _cursor(query: QueryDict, name: str, descending: bool) -> tuple[dt.datetime, int] | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return decode_cursor(text, descending)
    except CursorError:
        raise ListParamError(
            f"{name}: this page link does not belong to this list or sort order; "
            "start again from the first page"
        ) from None


def keyset_page(
    f: CdrFilter,
    scope: CdrScope,
    query: QueryDict,
    sort: Sort,
    size: int,
    headers: Sequence[str],
) -> tuple[list[dict], Pager]:
    """A page in time order by keyset: ``after`` (older pages of newest-first) or ``before``
    (the page shown before this one)."""
    descending = sort.descending
    after = _cursor(query, "after", descending)
    before = _cursor(query, "before", not descending) if after is None else None
    if before is not None:
        rows = engine.fetch_after(
            f, scope, after=before, descending=not descending, limit=size + 1,
            custom_headers=headers,
        )  # fmt: skip
        if len(rows) > size:
            rows = rows[:size][::-1]
            has_previous = True
        else:  # fewer than a page before this one: that is the first page
            rows = engine.fetch_after(
                f, scope, descending=descending, limit=size + 1, custom_headers=headers
            )
            has_previous = False
        has_next = len(rows) > size if not has_previous else True
        rows = rows[:size]
    else:
        rows = engine.fetch_after(
            f, scope, after=after, descending=descending, limit=size + 1, custom_headers=headers
        )
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after is not None
    pager = Pager()
    if has_previous:
        pager.first = query_without(query, POSITION)
        if rows:
            pager.previous = query_without(
                query, POSITION, before=encode_cursor(rows[0], not descending)
            )
    if has_next and rows:
        pager.next = query_without(query, POSITION, after=encode_cursor(rows[-1], descending))
    return rows, pager


def offset_page(
    f: CdrFilter,
    scope: CdrScope,
    query: QueryDict,
    sort: Sort,
    size: int,
    total: int,
    headers: Sequence[str],
) -> tuple[list[dict], Pager]:
    """A page of a column sort: ``page=N`` of the whole (bounded) result, sorted by the
    database."""
    raw = query.get("page", "").strip() or "1"
    pages = max(1, math.ceil(total / size))
    if not raw.isdigit() or not 1 <= int(raw) <= pages:
        raise ListParamError(f"page: a page number from 1 to {pages}")
    number = int(raw)
    rows = engine.fetch_rows(
        f, scope, order=sort.order, offset=(number - 1) * size, limit=size, custom_headers=headers
    )
    pager = Pager(page=number, pages=pages)
    if number > 1:
        pager.first = query_without(query, POSITION)
        pager.previous = query_without(query, POSITION, page=str(number - 1))
    if number < pages:
        pager.next = query_without(query, POSITION, page=str(number + 1))
    return rows, pager


def list_page(
    f: CdrFilter,
    scope: CdrScope,
    query: QueryDict,
    *,
    columns: Sequence[Column],
    sortable: Sequence[Column],
    size: int,
    headers: Sequence[str],
    context: Context,
    span: tuple[dt.datetime | None, dt.datetime | None],
    date_only_format: str,
) -> ListPage:
    """The page: chart and total first (they decide whether a column sort may run), then the
    rows of the requested position."""
    page = ListPage(sort=sort_of(query, sortable))
    page.chart = summary(f, scope, span[0], span[1], date_only_format)
    if page.chart is None:
        page.notes.append(
            f"This search matches too many calls to count and chart within "
            f"{CHART_BUDGET_MS / 1000:g} s; narrow it (a shorter time window, a number) "
            "for the total and the chart."
        )
    else:
        page.total = page.chart.total
    sort = page.sort
    if not sort.by_time and (page.total is None or page.total > SORT_LIMIT):
        page.notes.append(
            f"Sorting by {sort.label} needs a search matching at most {SORT_LIMIT:,} calls "
            "(the database sorts all of them); showing the newest first. Narrow the search to "
            "sort by it."
        )
        sort = page.sort = Sort("time", True, ("-calldate",))
        query = _with_sort(query, sort)
    if sort.by_time:
        rows, page.pager = keyset_page(f, scope, query, sort, size, headers)
    else:
        rows, page.pager = offset_page(f, scope, query, sort, size, page.total or 0, headers)

    def cells(row: dict) -> SafeString:
        return mark_safe("".join(td(c, c.cell(row, context)) for c in columns))  # td escapes

    page.rows = [Row(r["ID"], cells(r)) for r in rows]
    return page


def _with_sort(query: QueryDict, sort: Sort) -> QueryDict:
    return QueryDict(query_without(query, POSITION, sort=sort.param))


def now() -> dt.datetime:
    """The current time (one place, so tests can pin it)."""
    return timezone.now()


def csv_records(
    f: CdrFilter,
    scope: CdrScope,
    columns: Sequence[Column],
    headers: Sequence[str],
    descending: bool,
) -> tuple[list[str], Iterator[dict]]:
    """(field names, records) of the CSV export: the page's columns for every matching call,
    read in keyset pages (flat memory; the first page is read now, so a bad filter raises
    before the download starts)."""
    names: list[str] = []
    for column in columns:  # a column's CSV labels do not depend on the row
        names += [label for label, _ in column.csv({})]
    source = keyset_rows(f, scope, descending=descending, chunk=CSV_CHUNK, custom_headers=headers)

    def records() -> Iterator[dict]:
        for row in source:
            record: dict[str, object] = {}
            for column in columns:
                record.update(column.csv(row))
            yield record

    return names, records()
