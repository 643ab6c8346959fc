"""/php/pcap2text.php: a call's SIP history for a logged-in session (the GUI's, or sql.php's
``bypass_login`` SID sent as the ``PHPSESSID`` cookie).

Thin adapter: request fields → ``cdr.media.service.find_calls`` / ``find_legs`` (the caller's scope)
→ ``cdr.siphistory.extract.call_flow`` → JSON, HTML table, ladder diagram (``cdr.siphistory.msc``), plain text.

| action | answer |
|---|---|
| ``brief_data`` | ``{"success":true,"total":N,"results":[..],"errors":{}}`` |
| ``brief`` | the same messages as an HTML table |
| ``getMSC`` | HTML page with the ladder diagram as inline SVG; ``format=svg`` / ``format=png``: the diagram as a download |
| ``text`` | every message in full as ``text/plain`` (needs can_pcap) |

Choices are documented in docs/sip-history.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import PermissionRefused, has_flag, require_flag
from accounts.services import ApiPrincipal, AuthRefused, ensure_not_blocked
from api.legacy.dates import DateParamError, parse_datetime_param
from api.legacy.params import (
    ParamError,
    bool_value,
    int_value,
    is_blank,
    request_fields,
    text_value,
)
from api.legacy.sql_php import failure, no_session
from api.legacy.sql_session import NoSession, session_principal, wants_html
from cdr.media import service as media
from cdr.media.service import CallMedia, NoSuchCdr
from cdr.media.spool import MediaError, MediaMissing
from cdr.query.errors import QueryError
from cdr.query.ipfilter import IPFilterError
from cdr.siphistory import msc
from cdr.siphistory.extract import CallFlow, DtmfEvent, RtpStream, SipMessage, call_flow
from cdr.siphistory.textdump import clock, text_dump
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)

ACTIONS: Final = ("brief_data", "brief", "getMSC", "text")
DEFAULT_CID_INTERVAL: Final = 60
MAX_CID_INTERVAL: Final = 86400  # as getPCAP's (api.legacy.tasks_media)
# rows of a PNG diagram (a ticket image; the text export has every message)
PNG_MAX_ROWS: Final = 300
INTERNAL_ERROR: Final = (
    "internal error while answering the request (the server log has the details)"
)
# HTML pages: no script at all, inline styles only (defence in depth against injected markup).
HTML_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"


class _Refusal(Exception):
    def __init__(self, kind: str, reason: str, status: int) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.status = kind, reason, status


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return "" if is_blank(value) else text_value(value, name).strip()


def _flag(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name)
    return False if is_blank(value) else bool_value(value, name)


def _action(fields: dict[str, Any]) -> str:
    asked = _text(fields, "action")
    for action in ACTIONS:
        if asked.lower() == action.lower():
            return action
    shown = f"'{asked[:40]}'" if asked else "missing"
    raise ParamError(f"action {shown}: expected one of {', '.join(ACTIONS)}")


def _interval(fields: dict[str, Any]) -> int:
    value = fields.get("cidInterval")
    if is_blank(value):
        return DEFAULT_CID_INTERVAL
    return int_value(value, "cidInterval", minimum=0, maximum=MAX_CID_INTERVAL)


def _calls(fields: dict[str, Any], principal: ApiPrincipal) -> list[CallMedia]:
    """The CDR (``id``) or the legs to merge (``cidMerge`` / ``cidInterval``, or ``callId``)."""
    merge = _flag(fields, "cidMerge") or not is_blank(fields.get("cidInterval"))
    interval = _interval(fields)
    raw_id = fields.get("id")
    if is_blank(raw_id):
        raw_id = fields.get("cdrId")
    if not is_blank(raw_id):
        (call,) = media.find_calls([int_value(raw_id, "id", minimum=1)], principal.scope)
        if not merge:
            return [call]
        try:
            legs = media.find_legs(
                call.call_id, principal.scope, interval_s=interval, around=call.calldate
            )
        except NoSuchCdr:  # e.g. a Call-ID with a '%' (the engine reads it as a wildcard)
            return [call]
        near = [
            leg
            for leg in legs
            if abs((leg.calldate - call.calldate).total_seconds()) <= interval
            and leg.cdr_id != call.cdr_id
        ]
        near.sort(key=lambda leg: abs((leg.calldate - call.calldate).total_seconds()))
        chosen = [call, *near[: settings.MEDIA_MAX_CALLS - 1]]
        return sorted(chosen, key=lambda leg: (leg.calldate, leg.cdr_id))
    call_id = _text(fields, "callId")
    if not call_id:
        raise ParamError("missing id (the CDR id), e.g. pcap2text.php?action=brief_data&id=123")
    around = None
    if not is_blank(fields.get("calldate")):
        around = parse_datetime_param(fields["calldate"], "calldate")
    legs = media.find_legs(call_id, principal.scope, interval_s=interval, around=around)
    return legs[-settings.MEDIA_MAX_CALLS :]


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def _relative(ts_us: int | None, start: int) -> float | None:
    return None if ts_us is None else round((ts_us - start) / 1e6, 6)


def message_item(msg: SipMessage, start: int, *, full: bool = False) -> dict[str, Any]:
    """One ``results`` item of brief_data."""
    item: dict[str, Any] = {
        "id": msg.index + 1,
        "time_timestamp": msg.ts_us / 1e6,
        "time": clock(msg.ts_us),
        "time_relative": _relative(msg.ts_us, start),
        "srcip": msg.src,
        "srcport": msg.sport,
        "dstip": msg.dst,
        "dstport": msg.dport,
        "src": msg.src_endpoint,
        "dst": msg.dst_endpoint,
        "transport": msg.transport,
        "msg": msg.brief,
        "first_line": msg.first_line,
        "method": msg.method,
        "response": msg.status,
        "callid": msg.call_id,
        "cseq": msg.cseq,
        "from": msg.from_,
        "to": msg.to,
        "length": msg.size,
        "sdp": msg.has_sdp,
        "retransmission": msg.retransmission,
        "cdr_id": msg.cdr_id,
    }
    if msg.vlan is not None:
        item["vlan"] = msg.vlan
    if msg.truncated:
        item["truncated"] = True
    if full:
        item["full"] = msg.text
    return item


def stream_item(s: RtpStream, start: int) -> dict[str, Any]:
    return {
        "srcip": s.src,
        "srcport": s.sport,
        "dstip": s.dst,
        "dstport": s.dport,
        "ssrc": None if s.ssrc is None else f"0x{s.ssrc:08X}",
        "codec": s.codec,
        "payload_type": s.payload_type,
        "packets": s.packets,
        "lost": s.lost,
        "first_timestamp": None if s.first_us is None else s.first_us / 1e6,
        "last_timestamp": None if s.last_us is None else s.last_us / 1e6,
        "first_relative": _relative(s.first_us, start),
        "last_relative": _relative(s.last_us, start),
        "source": s.source,
        "cdr_id": s.cdr_id,
    }


def dtmf_item(d: DtmfEvent, start: int) -> dict[str, Any]:
    return {
        "digit": d.digit,
        "type": d.kind,
        "time_timestamp": d.ts_us / 1e6,
        "time": clock(d.ts_us),
        "time_relative": _relative(d.ts_us, start),
        "srcip": d.src,
        "srcport": d.sport,
        "dstip": d.dst,
        "dstport": d.dport,
        "duration_ms": d.duration_ms,
    }


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


def _download(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    # names only contain [A-Za-z0-9.@_-] (CallMedia.download_name): no quoting issues
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _html(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    response = HttpResponse(
        render_to_string(template, context, request=request),
        content_type="text/html; charset=utf-8",
        status=status,
    )
    response["Content-Security-Policy"] = HTML_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _link(action: str, fields: dict[str, Any], **extra: str) -> str:
    keep = {
        k: fields[k]
        for k in ("id", "callId", "calldate", "cidInterval", "cidMerge")
        if not is_blank(fields.get(k)) and not isinstance(fields[k], (dict, list))
    }
    return f"{reverse('pcap2text_php')}?{urlencode({'action': action, **keep, **extra})}"


def _base_name(calls: list[CallMedia]) -> str:
    return calls[0].download_name("x")[:-2] if calls else "sip-history"


def _context(
    flow: CallFlow, calls: list[CallMedia], fields: dict[str, Any], can_full: bool
) -> dict[str, Any]:
    start = flow.start_us or 0
    return {
        "calls": calls,
        "call_ids": list(dict.fromkeys(c.call_id for c in calls)),
        "cdr_ids": ", ".join(str(c.cdr_id) for c in calls),
        "flow": flow,
        "messages": [
            {"m": m, "time": clock(m.ts_us), "rel": f"+{(m.ts_us - start) / 1e6:.3f}"}
            for m in flow.messages
        ],
        "streams": [stream_item(s, start) for s in flow.streams],
        "dtmf": [dtmf_item(d, start) for d in flow.dtmf],
        "can_full": can_full,
        "time_zone": settings.TIME_ZONE,
        "links": {
            "brief": _link("brief", fields),
            "brief_rtp": _link("brief", fields, rtp="1"),
            "json": _link("brief_data", fields),
            "msc": _link("getMSC", fields),
            "png": _link("getMSC", fields, format="png"),
            "svg": _link("getMSC", fields, format="svg"),
            "text": _link("text", fields),
        },
    }


def _answer(request: HttpRequest, fields: dict[str, Any], action: str) -> HttpResponseBase:
    principal = session_principal(request)
    user = principal.user
    if user is not None:
        ensure_not_blocked(user)
    require_flag(user, "can_cdr", "reading a call's SIP history")
    fmt = _text(fields, "format").lower()
    full = action == "text" or (action == "brief_data" and _flag(fields, "full"))
    if full:
        require_flag(user, "can_pcap", "reading whole SIP messages (bodies, every header)")
    if action == "getMSC" and fmt not in ("", "html", "svg", "png"):
        raise ParamError("format: expected html (default), svg or png")
    rtp_default = action == "getMSC"
    rtp = _flag(fields, "rtp") if not is_blank(fields.get("rtp")) else rtp_default
    calls = _calls(fields, principal)
    flow = call_flow(calls, rtp=rtp)
    start = flow.start_us or 0
    logger.info(
        "pcap2text %s of CDR %s by %s", action, [c.cdr_id for c in calls], principal.username
    )
    if full:
        username = "" if user is not None else "anonymous"
        for call in calls:
            audit.record(
                AuditEvent.Action.PCAP_DOWNLOAD,
                user=user,
                username=username,
                request=request,
                face="pcap2text.php",
                object_id=call.cdr_id,
                what="sip_text",
            )
    if action == "brief_data":
        body: dict[str, Any] = {
            "success": True,
            "total": len(flow.messages),
            "results": [message_item(m, start, full=full) for m in flow.messages],
            "errors": {},
            "_vm_version": settings.VM_VERSION,
        }
        if rtp:
            body["rtp_streams"] = [stream_item(s, start) for s in flow.streams]
            body["dtmf"] = [dtmf_item(d, start) for d in flow.dtmf]
        if flow.notes:
            body["notes"] = flow.notes
        return JsonResponse(body)
    if action == "text":
        response = HttpResponse(text_dump(flow, calls), content_type="text/plain; charset=utf-8")
        return _download(response, f"{_base_name(calls)}-sip.txt")
    can_full = has_flag(user, "can_pcap")
    context = _context(flow, calls, fields, can_full)
    if action == "brief":
        return _html(request, "siphistory/brief.html", context)
    title = f"SIP call flow of CDR {context['cdr_ids']} ({', '.join(context['call_ids'])})"
    rows = PNG_MAX_ROWS if fmt == "png" else msc.MAX_ROWS
    diagram = msc.build(flow, time_zone=settings.TIME_ZONE, title=title, max_rows=rows)
    if fmt == "png":
        png = HttpResponse(msc.to_png(diagram), content_type="image/png")
        return _download(png, f"{_base_name(calls)}-msc.png")
    svg = msc.to_svg(diagram)
    if fmt == "svg":
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return _download(response, f"{_base_name(calls)}-msc.svg")
    # every text in the SVG was XML-escaped by cdr.siphistory.msc: it is safe to embed as markup
    context["svg"] = mark_safe(svg)
    return _html(request, "siphistory/msc.html", context)


T = TypeVar("T")


def _refusal(run: Callable[[], T]) -> T:
    """Run ``run``; every failure becomes a _Refusal (never a traceback)."""
    try:
        return run()
    except NoSession:
        raise
    except AuthRefused as exc:
        raise _Refusal("login", exc.reason, 403) from None
    except PermissionRefused as exc:
        raise _Refusal("permission", exc.reason, 403) from None
    except NoSuchCdr as exc:
        raise _Refusal("params", exc.reason, 404) from None
    except MediaMissing as exc:
        raise _Refusal("media", exc.reason, 404) from None
    except MediaError as exc:
        raise _Refusal("media", exc.reason, 422) from None
    except (ParamError, DateParamError, QueryError, IPFilterError) as exc:
        raise _Refusal("params", str(exc), 400) from None
    except Exception as exc:
        if database_unavailable(exc):
            raise  # 503 + Retry-After (vmgui.faults)
        logger.exception("pcap2text.php failed")
        raise _Refusal("internal", INTERNAL_ERROR, 500) from None


@csrf_exempt
@xframe_options_sameorigin
def pcap2text_php(request: HttpRequest) -> HttpResponseBase:
    """/php/pcap2text.php?action=brief_data|brief|getMSC|text&id=N (session cookie)."""
    fields: dict[str, Any] = {}
    action = ""
    page = False  # the answer is an HTML page (errors too, for a browser)
    try:
        if request.method not in ("GET", "POST", "HEAD"):
            raise _Refusal(
                "params", f"method {request.method} is not supported; use GET or POST", 405
            )
        fields = _refusal(lambda: request_fields(request))
        action = _refusal(lambda: _action(fields))
        fmt = str(fields.get("format") or "").lower()
        page = action in ("brief", "getMSC") and fmt in ("", "html") and wants_html(request)
        return _refusal(lambda: _answer(request, fields, action))
    except NoSession:
        if page:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return no_session()
    except _Refusal as exc:
        logger.info("pcap2text.php refused (%s): %s", exc.kind, exc.reason)
        if page:
            return _html(request, "siphistory/error.html", {"reason": exc.reason}, exc.status)
        return failure(exc.kind, exc.reason)
