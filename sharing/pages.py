"""The public share pages (a face over sharing.service): no account needed, branded, and
nothing else of the application reachable from them.

| URL | answer |
|---|---|
| ``/share/<token>`` | the page: call summary, SIP ladder and messages (``sip_history``), audio player and PCAP link (``rtp``); a password form first for a protected link |
| ``/share/<token>/data.json`` | the same as JSON |
| ``/share/<token>/audio/<n>.wav`` | the n-th call's recording (HTTP Range) |
| ``/share/<token>/call.pcap`` | the calls' pcap, anonymised with ``anonIps`` |

Unknown link → 404, expired or revoked → 410, too many wrong passwords → 429, each with a
page that shows nothing of the call. Every visit is audited (sharing.service.visit).
``ShareSiteMiddleware`` answers only share pages on the share site's host name.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from cdr.media.spool import MediaError, MediaMissing
from cdr.siphistory import msc
from cdr.siphistory.textdump import clock
from sharing import service
from sharing.models import Share
from sharing.service import ShareRefused
from vmgui.faults import database_unavailable
from vmgui.responses import attachment, file_response

logger = logging.getLogger(__name__)

# No script at all; the audio comes from the share itself; never framed; the token in the
# URL never leaves for another site in a Referer.
CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
UNLOCK_SALT: Final = "sharing.unlock"
UNLOCK_SECONDS: Final = 12 * 3600
MSC_ROWS: Final = 500


def _secure(response: HttpResponseBase) -> HttpResponseBase:
    response["Content-Security-Policy"] = CSP
    # same-origin: the token never leaves in a Referer; "no-referrer" would make browsers send
    # "Origin: null" with the password form, which CSRF protection refuses
    response["Referrer-Policy"] = "same-origin"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _html(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    context = {"brand_name": settings.BRAND_NAME, "brand_domain": settings.BRAND_DOMAIN, **context}
    body = render_to_string(template, context, request=request)
    return _secure(HttpResponse(body, status=status, content_type="text/html; charset=utf-8"))


def _refused(request: HttpRequest, exc: ShareRefused, *, page: bool = True) -> HttpResponseBase:
    logger.info("share refused (%s): %s", exc.kind, exc.reason)
    if not page:
        body = {"success": False, "errors": {"reason": exc.reason}}
        return _secure(JsonResponse(body, status=exc.status))
    return _html(request, "sharing/error.html", {"reason": exc.reason}, exc.status)


def _cookie_name(share: Share) -> str:
    return f"vmshare{share.pk}"


def _unlocked(request: HttpRequest, share: Share) -> bool:
    try:
        value = request.get_signed_cookie(
            _cookie_name(share), salt=UNLOCK_SALT, max_age=UNLOCK_SECONDS
        )
    except (KeyError, signing.BadSignature):
        return False
    return value == share.token_hash[:32]


def _unlock(response: HttpResponseBase, share: Share, path: str) -> None:
    seconds = int(min(UNLOCK_SECONDS, (share.expires_at - timezone.now()).total_seconds()))
    response.set_signed_cookie(
        _cookie_name(share),
        share.token_hash[:32],
        salt=UNLOCK_SALT,
        max_age=max(1, seconds),
        path=path,
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )


class _Answer(Exception):
    """A response to send instead of the share (login redirect, password form)."""

    def __init__(self, response: HttpResponseBase) -> None:
        self.response = response


def _open(request: HttpRequest, token: str, what: str, *, page: bool = False):
    """The share and its calls for this visitor, or ShareRefused / _Answer."""
    share = service.find(token, request, what)
    viewer = request.user if request.user.is_authenticated else None
    if share.kind == Share.Kind.LOGIN and viewer is None:
        service.visit(share, request, what, ok=False, refused="login")
        if page:
            raise _Answer(redirect_to_login(request.get_full_path()))
        raise ShareRefused("login", "log in to open this link")
    if share.kind == Share.Kind.PROTECTED and not _unlocked(request, share):
        if page:
            raise _Answer(_password_form(request, share))
        service.visit(share, request, what, ok=False, refused="locked")
        raise ShareRefused("password", "enter the link's password on its page first")
    try:
        calls = service.calls_for(share, viewer)
    except ShareRefused as exc:
        service.visit(share, request, what, ok=False, refused=exc.kind)
        raise
    return share, calls


def _password_form(request: HttpRequest, share: Share) -> HttpResponseBase:
    """GET: the form; POST: check the password (throttled), then back to the page."""
    path = reverse("sharing:page", args=[request.resolver_match.kwargs["token"]])
    error, status = "", 200
    if request.method == "POST":
        password = request.POST.get("password", "")
        if service.check_share_password(share, password, request):
            response = HttpResponseRedirect(path)
            response.status_code = 303  # back to the page with GET
            _unlock(response, share, path)
            service.visit(share, request, "password")
            return _secure(response)
        error, status = "wrong password", 401
    else:
        service.check_throttle(share, request)
    return _html(request, "sharing/password.html", {"error": error}, status)


def _guard(run):
    """Run a view body; refusals become their pages or JSON, never a traceback."""

    def view(request: HttpRequest, token: str, **kwargs) -> HttpResponseBase:
        page = run.__name__ == "page"
        try:
            return run(request, token, **kwargs)
        except _Answer as answer:
            return _secure(answer.response)
        except ShareRefused as exc:
            return _refused(request, exc, page=page or run.__name__ != "data_json")
        except MediaMissing as exc:
            return _refused(request, ShareRefused("missing", exc.reason), page=page)
        except MediaError as exc:
            return _refused(request, ShareRefused("gone", exc.reason), page=page)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            logger.exception("share page failed")
            body = "internal error (the server log has the details)"
            return _html(request, "sharing/error.html", {"reason": body}, 500)

    view.__name__ = run.__name__
    view.__doc__ = run.__doc__
    return view


def _links(token: str, share: Share, calls, media: bool) -> dict[str, Any]:
    links: dict[str, Any] = {"json": reverse("sharing:data", args=[token])}
    if media:
        links["pcap"] = reverse("sharing:pcap", args=[token])
        links["audio"] = [reverse("sharing:audio", args=[token, n + 1]) for n in range(len(calls))]
    return links


@_guard
def page(request: HttpRequest, token: str) -> HttpResponseBase:
    """``/share/<token>``: the shared call."""
    share, calls = _open(request, token, "page", page=True)
    viewer = request.user if request.user.is_authenticated else None
    ips = service.ip_map(share, calls)
    media = service.media_allowed(share, viewer)
    context: dict[str, Any] = {
        "share": share,
        "calls": service.summaries(share, calls, ips),
        "media": media,
        "links": _links(token, share, calls, media),
        "time_zone": settings.TIME_ZONE,
    }
    if share.sip_history:
        try:
            flow = service.flow(share, calls, ips, rtp=media)
        except MediaMissing as exc:
            context["history_missing"] = exc.reason
        else:
            start = flow.start_us or 0
            diagram = msc.build(
                flow, time_zone=settings.TIME_ZONE, title="SIP call flow", max_rows=MSC_ROWS
            )
            # every text in the SVG was XML-escaped by cdr.siphistory.msc
            context["svg"] = mark_safe(msc.to_svg(diagram))
            context["messages"] = [
                {"m": m, "time": clock(m.ts_us), "rel": f"+{(m.ts_us - start) / 1e6:.3f}"}
                for m in flow.messages
            ]
            context["notes"] = flow.notes
    service.visit(share, request, "page")
    return _html(request, "sharing/page.html", context)


def _message_json(m) -> dict[str, Any]:
    return {
        "time": clock(m.ts_us),
        "src": m.src,
        "srcport": m.sport,
        "dst": m.dst,
        "dstport": m.dport,
        "transport": m.transport,
        "first_line": m.first_line,
        "brief": m.brief,
        "retransmission": m.retransmission,
        "cdr_id": m.cdr_id,
    }


def _json_value(value):
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "as_tuple"):  # Decimal
        return float(value)
    return value


@_guard
def data_json(request: HttpRequest, token: str) -> HttpResponseBase:
    """``/share/<token>/data.json``: the page's data as JSON (same checks, same addresses)."""
    share, calls = _open(request, token, "json")
    viewer = request.user if request.user.is_authenticated else None
    ips = service.ip_map(share, calls)
    media = service.media_allowed(share, viewer)
    body: dict[str, Any] = {
        "success": True,
        "brand": settings.BRAND_NAME,
        "share": {
            "type": share.kind,
            "expires": _json_value(share.expires_at),
            "rtp": media,
            "sip_history": share.sip_history,
            "anonIps": share.anon_ips,
        },
        "calls": [
            {k: _json_value(v) for k, v in row.items()}
            for row in service.summaries(share, calls, ips)
        ],
    }
    if share.sip_history:
        flow = service.flow(share, calls, ips, rtp=media)
        body["messages"] = [_message_json(m) for m in flow.messages]
        body["rtp_streams"] = [
            {
                "src": s.src,
                "srcport": s.sport,
                "dst": s.dst,
                "dstport": s.dport,
                "codec": s.codec,
                "packets": s.packets,
                "lost": s.lost,
            }  # fmt: skip
            for s in flow.streams
        ]
    if media:
        body["links"] = _links(token, share, calls, media)
    service.visit(share, request, "json")
    return _secure(JsonResponse(body, json_dumps_params={"ensure_ascii": False}))


def _media_allowed(share: Share, request: HttpRequest) -> None:
    viewer = request.user if request.user.is_authenticated else None
    if not service.media_allowed(share, viewer):
        raise ShareRefused("missing", "this link shares no audio or PCAP")


@_guard
def audio(request: HttpRequest, token: str, n: int) -> HttpResponseBase:
    """``/share/<token>/audio/<n>.wav``: a recording (seekable)."""
    share, calls = _open(request, token, "audio")
    _media_allowed(share, request)
    if not 1 <= n <= len(calls):
        raise ShareRefused("missing", "no such recording in this share")
    item = service.recording(share, calls[n - 1])
    service.visit(share, request, "audio", cdr_id=calls[n - 1].cdr_id)
    response = file_response(request, item)
    # played in the page's <audio> element, not saved
    response["Content-Disposition"] = f'inline; filename="{item.filename}"'
    return _secure(response)


@_guard
def pcap(request: HttpRequest, token: str) -> HttpResponseBase:
    """``/share/<token>/call.pcap``: the calls' SIP and RTP packets."""
    share, calls = _open(request, token, "pcap")
    _media_allowed(share, request)
    ips = service.ip_map(share, calls)
    chunks, name = service.pcap(share, calls, ips)
    service.visit(share, request, "pcap", anonymised=share.anon_ips)
    response = StreamingHttpResponse(chunks, content_type="application/vnd.tcpdump.pcap")
    return _secure(attachment(response, name))


page = require_http_methods(["GET", "HEAD", "POST"])(page)
data_json = require_http_methods(["GET", "HEAD"])(data_json)
audio = require_http_methods(["GET", "HEAD"])(audio)
pcap = require_http_methods(["GET", "HEAD"])(pcap)


# ---------------------------------------------------------------------------
# The share site on its own host name
# ---------------------------------------------------------------------------


def share_site_host() -> str:
    site = service.share_site()
    return _hostname(site.split("://", 1)[-1].split("/", 1)[0]) if site else ""


def _hostname(host: str) -> str:
    """``host`` without its port, lower case."""
    host = host.lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]


class ShareSiteMiddleware:
    """On the share site's host (VMGUI_BRAND_SHARESITE / share.VMGUI_BRAND_DOMAIN), answer
    share pages only: every other path is a plain 404, so nothing else of the application
    is reachable under the operator's public share domain."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        host = share_site_host()
        if host and _hostname(request.get_host()) == host:
            prefix = get_script_prefix().rstrip("/")
            allowed = (f"{prefix}/share/", f"{prefix}/{settings.STATIC_URL.lstrip('/')}")
            if not request.path.startswith(allowed):
                return _secure(HttpResponse("not found", status=404, content_type="text/plain"))
        return self.get_response(request)


def not_found(request: HttpRequest) -> HttpResponseBase:
    """Any other path under /share/: the branded "no such link" page."""
    return _html(request, "sharing/error.html", {"reason": "this share link does not exist"}, 404)
