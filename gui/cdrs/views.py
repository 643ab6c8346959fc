"""Views of the CDR list: the page (``/cdrs/``), its CSV export and the /admin.php deep link.

Thin: read the request (gui.cdrs.form), ask the listing service (gui.cdrs.listing, over
cdr.query with the user's scope), render. A bad parameter is the page again with the form as
sent and a message (HTTP 400), never a traceback.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.preferences import preferences_of
from cdr.query.engine import CdrFilter, QueryError
from cdr.query.filterspec import HEADER_PREFIX, FilterValueError
from gui.access import gui_page, rights
from gui.cdrs import columns as cols
from gui.cdrs import deeplink, form, listing
from gui.cdrs.chart import CLASS_LABELS
from vmgui.csvstream import csv_chunks
from vmgui.responses import stream_download

USER_ERRORS = (FilterValueError, form.ListParamError, QueryError)


def _call_url(cdr_id: int) -> str:
    try:
        return reverse("gui:call_detail", args=[cdr_id])
    except NoReverseMatch:  # the call page group is not installed in this build
        return f"/calls/{cdr_id}/"


def _pcap_url(cdr_id: int) -> str:
    return reverse("gui:call_pcap", args=[cdr_id])


def _has_pcap_page() -> bool:
    """Whether the call pages' PCAP download exists in this build (gui.calls)."""
    try:
        _pcap_url(1)
    except NoReverseMatch:
        return False
    return True


class _State:
    """What every answer of the list reads from the request: rights, columns, headers."""

    def __init__(self, request: HttpRequest, query: QueryDict) -> None:
        self.request = request
        self.query = query
        self.granted = rights(request)
        self.scope = self.granted.scope
        self.prefs = preferences_of(request.user)
        self.headers = form.visible_headers(self.scope)
        pcap = _has_pcap_page()
        self.available = cols.offered(self.headers, self.granted.has, pcap)
        asked = query.getlist("columns")
        if asked:
            self.columns = cols.choose(cols.split_keys(asked), self.available)
            # the page's links carry the columns shown (one comma list), not what was asked
            self.query = query = query.copy()
            query.setlist("columns", [",".join(c.key for c in self.columns)])
        else:
            stored = cols.stored_keys(request.user)
            self.columns = cols.choose(stored or cols.DEFAULT_KEYS, self.available)
        self.header_names = [
            c.key[len(HEADER_PREFIX) :] for c in self.columns if c.key.startswith(HEADER_PREFIX)
        ]
        self.context = cols.Context(self.prefs.date_format, _call_url, _pcap_url if pcap else None)


def _render(
    request: HttpRequest,
    state: _State,
    *,
    errors: list[str],
    f=None,
    page: listing.ListPage | None = None,
    window: str | None = None,
) -> HttpResponse:
    query = state.query
    chosen = {c.key for c in state.columns}
    context = {
        "groups": form.build_form(query, state.scope, f, state.headers),
        "errors": errors,
        "page": page,
        "columns": state.columns,
        "chooser": [(c, c.key in chosen) for c in state.available],
        "required_column": cols.REQUIRED,
        "page_sizes": form.PAGE_SIZES,
        "page_size": _safe(form.page_size_of, query, form.DEFAULT_PAGE_SIZE),
        "windows": [
            (
                key,
                label,
                form.query_without(query, ("date_from", "date_to", *listing.POSITION), window=key),
            )
            for key, label in form.WINDOWS.items()
        ],
        "window": window,
        # the sort and the relative window stay when the form is sent (explicit dates win)
        "hidden": form.hidden_state(query, ("sort", "window")),
        "heads": _heads(query, state.columns, page),
        "csv_query": form.query_without(query, listing.POSITION),
        "class_labels": CLASS_LABELS,
        "list_url": reverse("gui:cdr_list"),
    }
    return render(request, "gui/cdrs/list.html", context, status=400 if errors else 200)


def _safe(read, query, default):
    try:
        return read(query)
    except form.ListParamError:
        return default


def _heads(query: QueryDict, columns, page) -> list[dict]:
    """The table's column heads: a sortable one links to its sort (toggling the direction
    when it is the current one) and says how the table is sorted (aria-sort)."""
    current = page.sort if page is not None else None
    heads = []
    for column in columns:
        head = {"column": column, "href": "", "state": ""}
        if column.sort:
            active = current is not None and current.key == column.key
            descending = not current.descending if active else column.descending_first
            param = f"-{column.key}" if descending else column.key
            head["href"] = "?" + form.query_without(query, listing.POSITION, sort=param)
            if active:
                head["state"] = "descending" if current.descending else "ascending"
        heads.append(head)
    return heads


def _search(query: QueryDict) -> tuple[CdrFilter, str | None, dt.datetime]:
    """(the CdrFilter of the search with its time window applied, the window, now)."""
    f = form.parse_filter(query)
    window = form.window_of(query, f)
    now = listing.now()
    return form.apply_window(f, window, now), window, now


def render_list(
    request: HttpRequest, query: QueryDict, errors: list[str] | None = None
) -> HttpResponse:
    """The list page for ``query`` (the deep link renders it too when its filter is bad)."""
    state = _State(request, query)
    query = state.query
    if errors:
        return _render(request, state, errors=errors)
    try:
        f, window, now = _search(query)
        size = form.page_size_of(query)
        # the chart's range: the search's dates; a relative window ends now
        span = (f.date_from, f.date_to or (now if window not in (None, "all") else None))
        page = listing.list_page(
            f,
            state.scope,
            query,
            columns=state.columns,
            sortable=state.available,
            size=size,
            headers=state.header_names,
            context=state.context,
            span=span,
            date_only_format=state.prefs.date_only_format,
        )
    except USER_ERRORS as exc:
        return _render(request, state, errors=[str(exc)])
    if query.getlist("columns"):
        cols.remember(request.user, state.columns)
    return _render(request, state, errors=[], f=f, page=page, window=window)


@gui_page("can_cdr")
def cdr_list(request: HttpRequest) -> HttpResponse:
    """``/cdrs/``: the search form, the chart, one page of calls."""
    return render_list(request, request.GET)


@gui_page("can_cdr")
def cdr_csv(request: HttpRequest) -> HttpResponseBase:
    """``/cdrs/export.csv``: every call of the search, the page's columns, streamed."""
    state = _State(request, request.GET)
    try:
        f, _window, now = _search(request.GET)
        sort = listing.sort_of(request.GET, state.available)
        # Time order by keyset whatever the page's sort: an export of any size stays cheap.
        descending = sort.descending if sort.by_time else True
        names, records = listing.csv_records(
            f, state.scope, state.columns, state.header_names, descending
        )
    except USER_ERRORS as exc:
        return _render(request, state, errors=[str(exc)])
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return stream_download(
        csv_chunks(records, names), "text/csv; charset=utf-8", f"cdrs-{stamp}.csv"
    )


@gui_page("can_cdr")
def deep_link(request: HttpRequest) -> HttpResponseBase:
    """``/admin.php?cdr_filter={...}``: the old GUI's link → the list with those filters."""
    raw = request.GET.get("cdr_filter", "")
    if not raw.strip():
        return redirect("gui:cdr_list")
    pairs, errors = deeplink.translate(raw)
    if errors:
        query = QueryDict(urlencode(pairs))
        return render_list(request, query, [f"This link cannot be opened: {e}" for e in errors])
    return redirect(f"{reverse('gui:cdr_list')}?{urlencode(pairs)}")
