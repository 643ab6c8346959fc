"""The CDR query engine: one typed filter → one index-friendly query, for every face.

``CdrFilter`` is what a face fills from its own parameters (api.php's getVoipCalls, sql.php's
LISTING filters, the REST API, the GUI). ``cdr_queryset`` turns it, together with the caller's
``CdrScope`` (cdr.restrictions, the one restriction point), into a queryset on ``cdr`` that:

- bounds ``calldate`` whenever a time range is known (partition pruning, calldate index);
- compares raw columns only (no functions on indexed columns; suffix searches use *_reverse);
- takes every user value as a query parameter, never as SQL text.

``fetch_rows`` runs it and enriches one page of rows with the lookup tables (SIP response
texts, user agents, sensor names) and cdr_next data (Call-ID, custom headers) in a few batched
queries, returning plain dicts (cdr.rows) that faces format as they need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from cdr import schema
from cdr.customheaders import CustomHeader, resolve_custom_header
from cdr.ipfilter import ip_q
from cdr.models import CDR_NEXT_MODELS, Cdr, CdrNext
from cdr.patterns import Pattern, pattern_q
from cdr.restrictions import CdrScope, header_visible, scope_q


class QueryError(ValueError):
    """A filter that cannot be run (unknown custom header, bad IP ...); message is user-facing."""


@dataclass
class CdrFilter:
    """Every CDR filter any face supports. Unset (None / empty) means "no condition".

    Datetimes are aware (faces convert user input from the user's zone). Number/domain values
    are patterns (cdr.patterns). ``numbers_or`` combines ``caller`` and ``called`` with OR
    instead of AND (api.php's ``msisdn``, sql.php's ``fcallerd_type=0``).
    """

    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    callend_to: dt.datetime | None = None
    cdr_ids: Sequence[int] = ()
    call_ids: Sequence[str] = ()
    caller: Sequence[str] = ()
    called: Sequence[str] = ()
    numbers_or: bool = False
    caller_domain: Sequence[str] = ()
    called_domain: Sequence[str] = ()
    sipcallerip: Sequence[str] = ()
    sipcalledip: Sequence[str] = ()
    sensors: Sequence[int | None] = ()
    sip_responses: Sequence[int] = ()
    duration_gt: float | None = None
    duration_lt: float | None = None
    only_connected: bool = False
    codecs: Sequence[int] = ()
    custom_headers: dict[str, str] = field(default_factory=dict)
    # Extra conditions on plain cdr columns, built by faces from declared filter tables
    # (e.g. sql.php's RTP quality filters): column lookup → value.
    column_conditions: dict[str, object] = field(default_factory=dict)


def _any_pattern(column: str, values: Iterable[str], reverse: str | None = None) -> Q:
    q = Q()
    for value in values:
        q |= pattern_q(column, value, reverse)
    return q


def _callid_q(f: CdrFilter) -> Q:
    q = Q()
    for value in f.call_ids:
        pattern = Pattern.parse(value)
        lookup = "fbasename" if pattern.kind == "exact" else "fbasename__vmlike"
        inner = CdrNext.objects.filter(
            **{lookup: pattern.value if pattern.kind == "exact" else pattern.like_text()}
        )
        if schema.cdr_is_partitioned():
            if f.date_from:
                inner = inner.filter(calldate__gte=f.date_from)
            if f.date_to:
                inner = inner.filter(calldate__lte=f.date_to)
        q |= Q(ID__in=inner.values("cdr_id"))
    return q


def _custom_header_q(f: CdrFilter, scope: CdrScope) -> Q:
    q = Q()
    for name, raw in f.custom_headers.items():
        header = _header_or_error(name, scope)
        pattern = Pattern.parse(raw)
        if header.dynamic_table:
            model = CDR_NEXT_MODELS[header.dynamic_table]
            column = f"custom_header_{header.dynamic_column}"
            lookup = column if pattern.kind == "exact" else f"{column}__vmlike"
            value = pattern.value if pattern.kind == "exact" else pattern.like_text()
            q &= Q(ID__in=model.objects.filter(**{lookup: value}).values("cdr_id"))
        else:
            qn = connection.ops.quote_name
            op = "=" if pattern.kind == "exact" else "LIKE"
            escape = "" if pattern.kind == "exact" else " ESCAPE '!'"
            value = pattern.value if pattern.kind == "exact" else pattern.like_text()
            # The column name comes from introspection (schema), never from the request.
            sql = (
                f"SELECT {qn('cdr_ID')} FROM {qn('cdr_next')} "  # noqa: S608 - identifiers from introspection
                f"WHERE {qn(header.column)} {op} %s{escape}"
            )
            q &= Q(ID__in=RawSQL(sql, [value]))
    return q


def cdr_queryset(f: CdrFilter, scope: CdrScope) -> QuerySet:
    """The filtered, restricted queryset on ``cdr`` (unordered, unsliced)."""
    qs = Cdr.objects.all()
    q = Q()
    if f.date_from:
        q &= Q(calldate__gte=f.date_from)
    if f.date_to:
        q &= Q(calldate__lte=f.date_to)
    if f.callend_to:
        # A call that ended by T also started by T: the extra calldate bound keeps pruning.
        q &= Q(callend__lte=f.callend_to, calldate__lte=f.callend_to)
    if f.cdr_ids:
        q &= Q(ID__in=list(f.cdr_ids))
    caller_q = _any_pattern("caller", f.caller, "caller_reverse") if f.caller else None
    called_q = _any_pattern("called", f.called, "called_reverse") if f.called else None
    if caller_q is not None and called_q is not None:
        q &= (caller_q | called_q) if f.numbers_or else (caller_q & called_q)
    elif caller_q is not None:
        q &= caller_q
    elif called_q is not None:
        q &= called_q
    if f.caller_domain:
        q &= _any_pattern("caller_domain", f.caller_domain)
    if f.called_domain:
        q &= _any_pattern("called_domain", f.called_domain)
    for column, values in (("sipcallerip", f.sipcallerip), ("sipcalledip", f.sipcalledip)):
        if values:
            ips = Q()
            for value in values:
                ips |= ip_q(column, value)
            q &= ips
    if f.sensors:
        ids = [s for s in f.sensors if s is not None]
        sensors_q = Q(id_sensor__in=ids) if ids else Q(pk__in=[])
        if None in f.sensors:
            sensors_q |= Q(id_sensor__isnull=True)
        q &= sensors_q
    if f.sip_responses:
        q &= Q(lastSIPresponseNum__in=list(f.sip_responses))
    if f.duration_gt is not None:
        q &= Q(duration__gt=f.duration_gt)
    if f.duration_lt is not None:
        q &= Q(duration__lt=f.duration_lt)
    if f.only_connected:
        q &= Q(connect_duration__isnull=False)
    if f.codecs:
        codecs = list(f.codecs)
        q &= Q(a_payload__in=codecs) | Q(b_payload__in=codecs) | Q(payload__in=codecs)
    for lookup, value in f.column_conditions.items():
        column = lookup.split("__", 1)[0]
        if not schema.has_column("cdr", column):
            raise QueryError(f"this database has no column {column!r} (the sniffer skipped it)")
        q &= Q(**{lookup: value})
    if f.call_ids:
        q &= _callid_q(f)
    if f.custom_headers:
        q &= _custom_header_q(f, scope)
    return qs.filter(q & scope_q(scope))


def count(f: CdrFilter, scope: CdrScope) -> int:
    return cdr_queryset(f, scope).count()


# Columns a listing row may contain; only those present in the real table are selected.
ROW_COLUMNS = [
    "ID",
    "calldate",
    "callend",
    "duration",
    "connect_duration",
    "progress_time",
    "first_rtp_time",
    "caller",
    "callername",
    "caller_domain",
    "called",
    "called_domain",
    "sipcallerip",
    "sipcallerport",
    "sipcalledip",
    "sipcalledport",
    "whohanged",
    "bye",
    "lastSIPresponse_id",
    "lastSIPresponseNum",
    "reason_sip_cause",
    "reason_q850_cause",
    "id_sensor",
    "vlan",
    "a_payload",
    "b_payload",
    "payload",
    "a_ua_id",
    "b_ua_id",
    "a_received",
    "b_received",
    "a_lost",
    "b_lost",
    "lost",
    "a_mos_f1_mult10",
    "a_mos_f2_mult10",
    "a_mos_adapt_mult10",
    "b_mos_f1_mult10",
    "b_mos_f2_mult10",
    "b_mos_adapt_mult10",
    "mos_min_mult10",
    "a_mos_min_mult10",
    "b_mos_min_mult10",
    "a_avgjitter_mult10",
    "b_avgjitter_mult10",
    "a_maxjitter",
    "b_maxjitter",
    "jitter_mult10",
    "packet_loss_perc_mult1000",
    "a_packet_loss_perc_mult1000",
    "b_packet_loss_perc_mult1000",
    "a_rtcp_avgjitter_mult10",
    "b_rtcp_avgjitter_mult10",
    "a_rtcp_maxjitter",
    "b_rtcp_maxjitter",
    "a_rtcp_avgfr_mult10",
    "b_rtcp_avgfr_mult10",
    "a_rtcp_maxfr",
    "b_rtcp_maxfr",
    "delay_avg_mult100",
    "a_index",
    "b_index",
    "flags",
]


def row_columns() -> list[str]:
    """ROW_COLUMNS that exist in this database's cdr table."""
    info = schema.table_info("cdr")
    if info is None:
        raise QueryError("this database has no cdr table (run manage.py create_sniffer_schema)")
    return [c for c in ROW_COLUMNS if info.has(c)]


def _ordered(qs: QuerySet, order: Sequence[str]) -> QuerySet:
    keys = list(order) or ["calldate"]
    tiebreak = "-ID" if keys[0].startswith("-") else "ID"
    if tiebreak.lstrip("-") not in {k.lstrip("-") for k in keys}:
        keys.append(tiebreak)
    return qs.order_by(*keys)


def fetch_rows(
    f: CdrFilter,
    scope: CdrScope,
    *,
    order: Sequence[str] = ("calldate",),
    offset: int = 0,
    limit: int | None = None,
    custom_headers: Sequence[str] = (),
) -> list[dict]:
    """One page of CDRs as plain dicts (see cdr.rows for the keys), enriched in batches."""
    from cdr.rows import enrich

    qs = _ordered(cdr_queryset(f, scope), order).values(*row_columns())
    if limit is not None:
        qs = qs[offset : offset + limit]
    elif offset:
        qs = qs[offset:]
    rows = list(qs)
    headers = [_header_or_error(name, scope) for name in custom_headers]
    return enrich(rows, headers)


def iter_rows(
    f: CdrFilter,
    scope: CdrScope,
    *,
    order: Sequence[str] = ("calldate",),
    chunk: int = 1000,
    custom_headers: Sequence[str] = (),
):
    """Every matching row, streamed in enriched chunks (for ``limit=-1`` listings)."""
    from cdr.rows import enrich

    headers = [_header_or_error(name, scope) for name in custom_headers]
    qs = _ordered(cdr_queryset(f, scope), order).values(*row_columns())
    batch: list[dict] = []
    for row in qs.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            yield from enrich(batch, headers)
            batch = []
    if batch:
        yield from enrich(batch, headers)


def _header_or_error(name: str, scope: CdrScope) -> CustomHeader:
    if not header_visible(scope, name):
        # Same answer as for a header that does not exist: no hint about what is hidden.
        raise QueryError(f"unknown custom header {name!r}")
    header = resolve_custom_header(name)
    if header is None:
        raise QueryError(f"unknown custom header {name!r}")
    return header
