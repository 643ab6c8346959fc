"""The call detail page and its media, downloads and share link (thin views over services).

| URL | flag | answer |
|---|---|---|
| ``/calls/<id>/`` | can_cdr | the page (summary, ladder, streams, audio, downloads, share) |
| ``/calls/<id>/audio.wav`` | can_play_audio | the recording for the page's player (HTTP Range, inline) |
| ``/calls/<id>/recording.wav`` / ``.ogg`` | can_download_audio | the recording as a download |
| ``/calls/<id>/graph/P.png`` / ``S.png`` | can_graphs | waveform / spectrogram (both sides) |
| ``/calls/<id>/call.pcap`` / ``sip.pcap`` | can_pcap | SIP+RTP / SIP-only pcap |
| ``/calls/<id>/sip.txt`` | can_pcap | every SIP message in full, as text |
| ``/calls/<id>/share/`` | can_cdr | the share form (GET) and a new link (POST; JSON for the dialog) |

A call outside the user's scope is the same 404 page as one that does not exist; a missing
spool file is a 404 and a damaged one a 422, each with a page that says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import audit
from accounts.models import AuditEvent
from cdr.media import service as media
from cdr.media.service import NoSuchCdr
from cdr.media.spool import MediaError, MediaMissing
from cdr.siphistory.extract import call_flow
from cdr.siphistory.textdump import text_dump
from gui.access import gui_page, rights
from gui.calls import summary
from gui.calls.forms import ShareForm
from sharing import service as sharing
from sharing.service import ShareRefused
from vmgui.responses import attachment, byte_range, file_response, prefetched

logger = logging.getLogger(__name__)

GRAPH_KINDS = {"P": "waveform", "S": "spectrogram"}


def _not_found(request: HttpRequest, cdr_id: int) -> HttpResponse:
    # the same words whether the call does not exist or is outside the user's scope
    return render(request, "gui/calls/not_found.html", {"cdr_id": cdr_id}, status=404)


def _media_error(request: HttpRequest, cdr_id: int, reason: str, status: int) -> HttpResponse:
    context = {"cdr_id": cdr_id, "reason": reason}
    return render(request, "gui/calls/media_error.html", context, status=status)


def call_view(flag: str) -> Callable:
    """``gui_page(flag)``, then a missing call → 404 page, media errors → 404/422 pages."""

    def wrap(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @gui_page(flag)
        @wraps(view)
        def inner(request: HttpRequest, cdr_id: int, *args, **kwargs) -> HttpResponseBase:
            if not 1 <= cdr_id <= summary.MAX_CDR_ID:
                return _not_found(request, cdr_id)
            try:
                return view(request, cdr_id, *args, **kwargs)
            except NoSuchCdr:
                return _not_found(request, cdr_id)
            except MediaMissing as exc:
                return _media_error(request, cdr_id, exc.reason, 404)
            except MediaError as exc:
                return _media_error(request, cdr_id, exc.reason, 422)

        return inner

    return wrap


def _call(request: HttpRequest, cdr_id: int) -> media.CallMedia:
    (call,) = media.find_calls([cdr_id], rights(request).scope)
    return call


def _audit(request: HttpRequest, action: str, call: media.CallMedia, **details) -> None:
    audit.record(
        action, user=request.user, request=request, face="gui", object_id=call.cdr_id, **details
    )


@require_http_methods(["GET", "HEAD"])
@call_view("can_cdr")
def call_detail(request: HttpRequest, cdr_id: int) -> HttpResponseBase:
    """The call page."""
    data = summary.page_data(cdr_id, rights(request), timezone.get_current_timezone_name())
    if data is None:
        return _not_found(request, cdr_id)
    data["cdr_id"] = cdr_id
    data["share_form"] = ShareForm()
    return render(request, "gui/calls/detail.html", data)


@require_http_methods(["GET", "HEAD"])
@call_view("can_play_audio")
def audio_play(request: HttpRequest, cdr_id: int) -> HttpResponseBase:
    """The recording for the page's player: WAV, seekable (HTTP Range), shown inline."""
    call = _call(request, cdr_id)
    item = media.recording(call, fmt="wav")
    wanted = byte_range(request.META.get("HTTP_RANGE"), item.size)
    if wanted is None or (isinstance(wanted, tuple) and wanted[0] == 0):
        # once per playback (players start at byte 0, then ask for ranges when seeking)
        _audit(request, AuditEvent.Action.AUDIO_DOWNLOAD, call, what="play")
    response = file_response(request, item)
    response["Content-Disposition"] = f'inline; filename="{item.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD"])
@call_view("can_download_audio")
def recording_download(request: HttpRequest, cdr_id: int, fmt: str) -> HttpResponseBase:
    """The recording as a WAV or OGG download (audited)."""
    call = _call(request, cdr_id)
    item = media.recording(call, fmt=fmt)
    _audit(request, AuditEvent.Action.AUDIO_DOWNLOAD, call, format=fmt)
    return file_response(request, item)


@require_http_methods(["GET", "HEAD"])
@call_view("can_graphs")
def audio_graph(request: HttpRequest, cdr_id: int, kind: str) -> HttpResponseBase:
    """The waveform (``P``) or spectrogram (``S``) of both sides, caller on top."""
    if kind not in GRAPH_KINDS:
        return _media_error(request, cdr_id, "graph: P (waveform) or S (spectrogram)", 400)
    call = _call(request, cdr_id)
    response = HttpResponse(media.audio_graph(call, kind), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "HEAD"])
@call_view("can_pcap")
def pcap_download(request: HttpRequest, cdr_id: int, rtp: bool) -> HttpResponseBase:
    """The call's SIP+RTP (or SIP-only) pcap (audited)."""
    call = _call(request, cdr_id)
    # opened and its first bytes read now: a missing or damaged file is a 404/422 page here
    chunks = prefetched(media.pcap_stream([call], rtp=rtp))
    response = StreamingHttpResponse(chunks, content_type=media.CONTENT_TYPES["pcap"])
    _audit(request, AuditEvent.Action.PCAP_DOWNLOAD, call, rtp=rtp)
    return attachment(response, call.download_name("pcap" if rtp else "sip.pcap"))


@require_http_methods(["GET", "HEAD"])
@call_view("can_pcap")
def sip_text(request: HttpRequest, cdr_id: int) -> HttpResponseBase:
    """Every SIP message in full as text (for tickets; audited like a PCAP)."""
    call = _call(request, cdr_id)
    body = text_dump(call_flow([call]), [call])
    _audit(request, AuditEvent.Action.PCAP_DOWNLOAD, call, format="text")
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    return attachment(response, call.download_name("sip.txt"))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "HEAD", "POST"])
@call_view("can_cdr")
def share(request: HttpRequest, cdr_id: int) -> HttpResponseBase:
    """GET: the share form (the dialog's page without JavaScript); POST: a new link, shown once."""
    call = _call(request, cdr_id)
    form = ShareForm(request.POST if request.method == "POST" else None)
    context = {"cdr_id": cdr_id, "call_id": call.call_id, "share_form": form}
    if request.method != "POST":
        return render(request, "gui/calls/share.html", context)
    status = 400
    if form.is_valid():
        try:
            new = sharing.create(
                request.user,
                form.cleaned_data["kind"],
                request=request,
                face="gui",
                **form.options(cdr_id, call.call_id),
            )
        except ShareRefused as exc:
            form.add_error(None, exc.reason)
            status = exc.status
        else:
            created = {
                "url": sharing.url(new.share, new.token, request),
                "password": new.password,
                "kind": new.share.get_kind_display(),
                "expires": new.share.expires_at,
                "calls": len(new.share.cdr_ids),
            }
            if _wants_json(request):
                expires = timezone.localtime(new.share.expires_at)
                response = JsonResponse(
                    {**created, "ok": True, "expires": expires.strftime("%Y-%m-%d %H:%M %Z")}
                )
            else:
                response = render(request, "gui/calls/share_created.html", {**context, **created})
            response["Cache-Control"] = "no-store"  # the link is shown this once
            return response
    if _wants_json(request):
        errors = [
            str(e) if name == "__all__" else f"{form.fields[name].label}: {e}"
            for name, errs in form.errors.items()
            for e in errs
        ]
        return JsonResponse({"ok": False, "errors": errors}, status=status)
    return render(request, "gui/calls/share.html", context, status=status)
