"""Call media on the legacy paths: api.php getPCAP / getVoiceRecording / getAudioGraph, and
/php/pcap.php, /php/wav.php. Thin adapters: params → cdr.media.service services → HTTP responses.

Every answer is a file (streamed; WAV/OGG with HTTP Range) or, on any failure before the first
byte, the api.php JSON error envelope. Choices are documented in docs/media.md.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from typing import Any, Final

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.views.decorators.csrf import csrf_exempt

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import PermissionRefused, require_flag
from accounts.services import ApiPrincipal, AuthRefused, ensure_not_blocked, scope_for
from api.legacy.dates import DateParamError, parse_datetime_param
from api.legacy.params import (
    ParamError,
    bool_value,
    first_text,
    int_list,
    int_value,
    is_blank,
    request_fields,
    text_value,
)
from cdr.media import service as media
from cdr.media.service import CONTENT_TYPES, CallMedia, MediaFile, ZipEntry
from cdr.media.spool import MediaError
from cdr.query.errors import QueryError
from cdr.query.ipfilter import IPFilterError
from cdr.query.scope import CdrScope
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse
from vmgui.responses import file_response, prefetched, stream_download

logger = logging.getLogger(__name__)

DEFAULT_CID_INTERVAL: Final = 60
# Legs of one Call-ID are searched at most a day around each other: a larger interval cannot
# find more legs of one call, and 1e20 s overflowed the date arithmetic.
MAX_CID_INTERVAL: Final = 86400


def _failure(reason: str) -> JsonResponse:
    """The api.php error envelope (HTTP 200), shared by pcap.php and wav.php."""
    return JsonResponse({"success": False, "errors": {"reason": reason}})


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    return False if is_blank(value) else bool_value(value, f"params.{name}")


def _cdr_ids(params: dict[str, Any]) -> list[int]:
    value = params.get("cdrId")
    if is_blank(value):
        return []
    ids = int_list(value, "params.cdrId", minimum=1)
    limit = settings.MEDIA_MAX_CALLS
    if len(ids) > limit:
        raise ParamError(f"params.cdrId: at most {limit} calls per request")
    return ids


def _calls(params: dict[str, Any] | None, principal: ApiPrincipal) -> tuple[list[CallMedia], bool]:
    """The CDRs a media task names (cdrId, or callId legs) and whether cdrId was a list."""
    params = params or {}
    ids = _cdr_ids(params)
    if ids:
        listed = isinstance(params.get("cdrId"), list) or len(ids) > 1
        return media.find_calls(ids, principal.scope), listed
    call_id = params.get("callId")
    if is_blank(call_id):
        raise ParamError('params.cdrId or params.callId is required, e.g. {"cdrId": 123}')
    interval = params.get("cidInterval")
    seconds = (
        DEFAULT_CID_INTERVAL
        if is_blank(interval)
        else int_value(interval, "params.cidInterval", minimum=0, maximum=MAX_CID_INTERVAL)
    )
    around = None
    if not is_blank(params.get("calldate")):
        around = parse_datetime_param(params["calldate"], "params.calldate")
    legs = media.find_legs(
        text_value(call_id, "params.callId"), principal.scope, interval_s=seconds, around=around
    )
    return legs, False


def _audit(action: str, calls: Sequence[CallMedia], user, request, face: str, **details) -> None:
    username = "" if user is not None else ("anonymous" if face == "api.php" else face)
    for call in calls:
        audit.record(
            action,
            user=user,
            username=username,
            request=request,
            face=face,
            object_id=call.cdr_id,
            **details,
        )


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


def _zip_name(calls: Sequence[CallMedia], what: str) -> str:
    return f"{what}-{media.ids_label([c.cdr_id for c in calls])}.zip"


# ---------------------------------------------------------------------------
# api.php tasks
# ---------------------------------------------------------------------------


def _pcap_response(
    calls: Sequence[CallMedia], *, rtp: bool, merged: bool, as_zip: bool
) -> HttpResponseBase:
    """One merged pcap, or a ZIP (one pcap per call, or the merged one when ``merged``)."""
    if merged or len(calls) == 1:
        # opened now, and its first bytes read: errors there become JSON (see _prefetched)
        chunks = prefetched(media.pcap_stream(calls, rtp=rtp))
        name = calls[0].download_name("pcap")
        if not as_zip:
            return stream_download(chunks, CONTENT_TYPES["pcap"], name)
        entries = [ZipEntry(name, lambda: chunks)]
    else:
        for call in calls:  # fail early when a call has no pcap at all
            media.pcap_files(call, rtp=rtp)
        entries = [
            ZipEntry(
                f"{c.cdr_id}-{c.download_name('pcap')}",
                lambda c=c: media.pcap_stream([c], rtp=rtp),
            )
            for c in calls
        ]
    return stream_download(
        media.zip_stream(entries), CONTENT_TYPES["zip"], _zip_name(calls, "pcap")
    )


def get_pcap(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest
) -> HttpResponseBase:
    """getPCAP: cdrId (one or a list) or callId (+ cidInterval), cidMerge, zip."""
    require_flag(principal.user, "can_pcap", "downloading PCAPs")
    params = params or {}
    calls, _listed = _calls(params, principal)
    merged = _flag(params, "cidMerge")
    as_zip = _flag(params, "zip") or (len(calls) > 1 and not merged)
    response = _pcap_response(calls, rtp=True, merged=merged, as_zip=as_zip)
    _audit(AuditEvent.Action.PCAP_DOWNLOAD, calls, principal.user, request, "api.php")
    return response


def _recording_params(params: dict[str, Any]) -> tuple[str, bool]:
    fmt = "ogg" if _flag(params, "ogg") else "wav"
    value = params.get("saveaudio_afterconnect")
    after = False if is_blank(value) else bool_value(value, "params.saveaudio_afterconnect")
    return fmt, after


def _distinct_files(calls: Sequence[CallMedia]) -> list[CallMedia]:
    """Legs merged into one call share its files: keep one leg per set of files."""
    seen: set[tuple] = set()
    out = []
    for c in calls:
        key = (c.ref.base, c.ref.calldate.replace(second=0, microsecond=0), c.ref.spool_index)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def recordings_response(
    request: HttpRequest, calls: Sequence[CallMedia], *, fmt: str, after: bool, as_zip: bool
) -> HttpResponseBase:
    """One recording (Range-capable file) or a ZIP of several (decoded before answering)."""
    if len(calls) == 1 and not as_zip:
        return file_response(request, media.recording(calls[0], fmt=fmt, after_connect=after))
    files: list[tuple[CallMedia, MediaFile]] = []
    errors: list[str] = []
    try:
        for call in calls:
            try:
                files.append((call, media.recording(call, fmt=fmt, after_connect=after)))
            except MediaError as exc:
                errors.append(f"CDR {call.cdr_id}: {exc.reason}")
        if not files:
            raise MediaError(errors[0].split(": ", 1)[1] if len(errors) == 1 else "; ".join(errors))
    except BaseException:
        for _, item in files:
            item.file.close()
        raise
    entries = [
        ZipEntry(f"{c.cdr_id}-{item.filename}", lambda item=item: media.file_chunks(item), False)
        for c, item in files
    ]
    if errors:
        text = ("\n".join(errors) + "\n").encode()
        entries.append(ZipEntry("errors.txt", lambda: [text]))
    return stream_download(
        media.zip_stream(entries), CONTENT_TYPES["zip"], _zip_name(calls, "audio")
    )


def get_voice_recording(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest
) -> HttpResponseBase:
    """getVoiceRecording: cdrId (one, or a list → ZIP), callId (+calldate), zip, ogg,
    saveaudio_afterconnect."""
    require_flag(principal.user, "can_download_audio", "downloading recordings")
    params = params or {}
    calls, listed = _calls(params, principal)
    calls = _distinct_files(calls) if not listed else calls
    fmt, after = _recording_params(params)
    as_zip = _flag(params, "zip") or listed or len(calls) > 1
    response = recordings_response(request, calls, fmt=fmt, after=after, as_zip=as_zip)
    _audit(AuditEvent.Action.AUDIO_DOWNLOAD, calls, principal.user, request, "api.php")
    return response


def get_audio_graph(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest
) -> HttpResponseBase:
    """getAudioGraph: cdrId, type S (spectrogram) / P (waveform) / ALL, side L / R → PNG."""
    require_flag(principal.user, "can_graphs", "viewing audio graphs")
    params = params or {}
    if is_blank(params.get("cdrId")):
        raise ParamError('params.cdrId is required, e.g. {"cdrId": 123, "type": "S"}')
    cdr_id = int_value(params["cdrId"], "params.cdrId", minimum=1)
    kind = "ALL" if is_blank(params.get("type")) else text_value(params["type"], "params.type")
    kind = kind.upper()
    if kind not in ("S", "P", "ALL"):
        raise ParamError("params.type: expected S (spectrogram), P (waveform peaks) or ALL")
    side = None if is_blank(params.get("side")) else text_value(params["side"], "params.side")
    side = side.upper() if side else None
    if side not in (None, "L", "R"):
        raise ParamError("params.side: expected L (caller) or R (called)")
    (call,) = media.find_calls([cdr_id], principal.scope)
    png = media.audio_graph(call, kind, side)
    response = HttpResponse(png, content_type=CONTENT_TYPES["png"])
    suffix = f"-{side}" if side else ""
    response["Content-Disposition"] = (
        f'inline; filename="{call.download_name("png")[:-4]}-{kind}{suffix}.png"'
    )
    return response


MEDIA_TASKS = {
    "getPCAP": get_pcap,
    "getVoiceRecording": get_voice_recording,
    "getAudioGraph": get_audio_graph,
}


# ---------------------------------------------------------------------------
# /php/pcap.php and /php/wav.php
# ---------------------------------------------------------------------------


def _fields(request: HttpRequest) -> dict[str, Any]:
    """pcap.php / wav.php fields from the query string or a form/JSON body (GET or POST)."""
    if request.method not in ("GET", "POST", "HEAD"):
        raise ParamError(f"method {request.method} is not supported; use GET or POST")
    return request_fields(request)


def _id_param(fields: dict[str, Any]) -> int:
    raw = first_text(fields, "id")
    if not raw:
        raise ParamError("missing id (the CDR id), e.g. pcap.php?id=123")
    return int_value(raw, "id", minimum=1)


def _guard(view):
    """Map every failure of a legacy media view to the JSON error envelope."""

    def wrapped(request: HttpRequest) -> HttpResponseBase:
        try:
            return view(request)
        except (AuthRefused, PermissionRefused, MediaError) as exc:
            logger.info("%s refused: %s", request.path, exc.reason)
            return _failure(exc.reason)
        except (ParamError, DateParamError, QueryError, IPFilterError) as exc:
            return _failure(str(exc))
        except Exception as exc:
            if database_unavailable(exc):
                raise  # 503 + Retry-After (vmgui.faults)
            logger.exception("%s failed", request.path)
            return _failure(
                "internal error while answering the request (the server log has the details)"
            )

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    # GET and POST read the same fields. Exempt from CSRF: both only read (a download), and
    # the token check answered scripts' POSTs with Django's HTML page instead of the envelope.
    return csrf_exempt(wrapped)


@_guard
def pcap_php(request: HttpRequest) -> HttpResponseBase:
    """/php/pcap.php?id=N[&disable_rtp=1]: the call's pcap for a logged-in browser session."""
    user = request.user
    if not user.is_authenticated:
        raise AuthRefused("not logged in: pcap.php needs a GUI session (log in first)")
    ensure_not_blocked(user)
    require_flag(user, "can_pcap", "downloading PCAPs")
    fields = _fields(request)
    cdr_id = _id_param(fields)
    disable = first_text(fields, "disable_rtp")
    rtp = not (disable and bool_value(disable, "disable_rtp"))
    (call,) = media.find_calls([cdr_id], scope_for(user))
    response = _pcap_response([call], rtp=rtp, merged=True, as_zip=False)
    _audit(AuditEvent.Action.PCAP_DOWNLOAD, [call], user, request, "pcap.php", rtp=rtp)
    return response


@_guard
def wav_php(request: HttpRequest) -> HttpResponseBase:
    """/php/wav.php?id=N&key=K: a recording for other applications, guarded by a shared key."""
    configured = settings.WAV_PHP_KEY
    if not configured:
        raise PermissionRefused("wav.php is disabled on this server (VMGUI_WAV_PHP_KEY is not set)")
    fields = _fields(request)
    key = first_text(fields, "key")
    # Constant-time comparison: the key is the only thing protecting this path.
    if not hmac.compare_digest(key.encode(), configured.encode()):
        raise PermissionRefused("wrong or missing key")
    cdr_id = _id_param(fields)
    fmt = "ogg" if first_text(fields, "format").lower() == "ogg" else "wav"
    (call,) = media.find_calls([cdr_id], CdrScope.unrestricted("wav.php key"))
    response = recordings_response(request, [call], fmt=fmt, after=False, as_zip=False)
    _audit(AuditEvent.Action.AUDIO_DOWNLOAD, [call], None, request, "wav.php")
    return response
