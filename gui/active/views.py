"""Views of the active-calls pages: the live table, pause/unpause, live listening.

Thin adapters: the table comes from ``gui.active.table`` (over ``cdr.sensors.registry``),
pausing from ``registry.pause_call`` and listening from ``cdr.sensors.listening``; every call
is made with the user's scope. Pause/unpause need ``can_activecalls`` (as api.php's
handleActiveCall); live listening needs ``can_listen_active_call`` as well. Every pause and
every start of a live listen is audited (face ``gui``).

The page works without JavaScript (forms, a refresh link, a meta refresh); ``active.js``
refreshes the table in place (``active_table``, an HTML fragment), posts the pause forms in
the background (the JSON answer of a ``X-Requested-With: fetch`` request) and plays live audio.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import audit
from accounts.models import AuditEvent
from cdr.sensors import listening, registry
from cdr.sensors.manager import CallNotFound, InvalidRequest, ManagerError, check_call_ref
from cdr.sensors.registry import UnknownSensor
from gui.access import forbidden, gui_page, rights
from gui.active.table import build

REFRESH_MS = 3000
NOSCRIPT_REFRESH_SECONDS = 10
COMMANDS = {"pause": "pausecall", "unpause": "unpausecall"}


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _context(request: HttpRequest) -> dict:
    return {
        "table": build(rights(request).scope),
        "refresh_ms": REFRESH_MS,
        "noscript_refresh": NOSCRIPT_REFRESH_SECONDS,
        "listen_idle": listening.idle_seconds(),
    }


@gui_page("can_activecalls")
@require_GET
def active_calls(request: HttpRequest) -> HttpResponse:
    """``/active/``: every visible sensor with its live calls (or why it is down)."""
    return render(request, "gui/active/list.html", _context(request))


@gui_page("can_activecalls")
@require_GET
def active_table(request: HttpRequest) -> HttpResponse:
    """The table alone (what the page's script swaps in every few seconds)."""
    response = render(request, "gui/active/_table.html", _context(request))
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------
# Pause / unpause
# ---------------------------------------------------------------------------


def _pause_answer(request: HttpRequest, status: int, message: str) -> HttpResponseBase:
    if _is_fetch(request):
        return JsonResponse({"ok": status == 200, "message": message}, status=status)
    if status == 400:
        context = _context(request)
        context["error"] = message
        return render(request, "gui/active/list.html", context, status=400)
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect("gui:active_calls")


def _audit_pause(request, ref: str, success: bool, details: dict, **extra) -> None:
    audit.call_pause(request, "gui", ref, success, details, **extra)


@gui_page("can_activecalls")
@require_POST
def pause(request: HttpRequest, sensor_id: int, ref: str, action: str) -> HttpResponseBase:
    """Pause (``pausecall``) or resume (``unpausecall``) the recording of an active call."""
    command = COMMANDS[action]
    try:
        ref = check_call_ref(ref)
    except InvalidRequest as exc:
        return _pause_answer(request, 400, exc.reason)
    details = {"command": command, "call_ref": ref, "sensor": sensor_id}
    try:
        sensor = registry.pause_call(rights(request).scope, sensor_id, command, ref)
    except UnknownSensor as exc:
        _audit_pause(request, ref, False, details, reason=exc.reason)
        return _pause_answer(request, 404, exc.reason)
    except CallNotFound as exc:
        _audit_pause(request, ref, False, details, reason=exc.reason)
        return _pause_answer(
            request, 404, f"call {ref} is not active on sensor {sensor_id} (it may have ended)"
        )
    except ManagerError as exc:
        _audit_pause(request, ref, False, details, reason=exc.reason)
        return _pause_answer(request, 502, f"sensor {sensor_id}: {exc.reason}")
    _audit_pause(request, ref, True, details, sensor_name=sensor.name)
    if command == "pausecall":
        done = "paused: its audio is not recorded until you resume it"
    else:
        done = "resumed: its audio is recorded again"
    return _pause_answer(request, 200, f"Call {ref} on {sensor.describe()} {done}.")


# ---------------------------------------------------------------------------
# Live listening
# ---------------------------------------------------------------------------


def listen_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in, ``can_listen_active_call`` and ``can_activecalls`` (one sees the calls)."""

    @gui_page("can_listen_active_call")
    @wraps(view)
    def inner(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not rights(request).has("can_activecalls"):
            return forbidden(request, "can_activecalls")
        return view(request, *args, **kwargs)

    return inner


def _binding(request: HttpRequest) -> dict[str, str]:
    """Who a listen session belongs to: the user and (a digest of) their web session."""
    key = request.session.session_key or ""
    digest = hashlib.sha256(f"vmgui-listen:{key}".encode()).hexdigest()[:32]
    return {"owner": str(request.user.pk), "session": digest}


def _problem(status: int, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


@listen_page
@require_POST
def listen_start(request: HttpRequest, sensor_id: int, ref: str) -> JsonResponse:
    """Start a live listen; JSON with the URLs the page polls and stops it with."""
    try:
        ref = check_call_ref(ref)
    except InvalidRequest as exc:
        return _problem(400, exc.reason)
    status, message = 200, ""
    item = None
    try:
        item = listening.start(rights(request).scope, sensor_id, ref, **_binding(request))
    except (UnknownSensor, CallNotFound) as exc:
        status = 404
        message = exc.reason
        if isinstance(exc, CallNotFound):
            message = f"call {ref} is not active on sensor {sensor_id} (it may have ended)"
    except listening.LiveAudioDisabled as exc:
        status, message = 409, exc.reason
    except listening.ListenLimit as exc:
        status, message = 429, exc.reason
    except ManagerError as exc:
        status, message = 502, f"sensor {sensor_id} cannot be asked: {exc.reason}"
    audit.record(
        AuditEvent.Action.LIVE_LISTEN,
        user=request.user,
        request=request,
        face="gui",
        object_id=ref,
        success=item is not None,
        call_ref=ref,
        sensor=sensor_id,
        **({"listen_id": item.listen_id, "sensor_name": item.sensor_name} if item else {}),
        **({"reason": message} if message else {}),
    )
    if item is None:
        return _problem(status, message)
    return JsonResponse(
        {
            "ok": True,
            "listen_id": item.listen_id,
            "call_ref": item.call_ref,
            "sensor": item.describe(),
            "sample_rate": listening.SAMPLE_RATE,
            "idle_seconds": listening.idle_seconds(),
            "audio_url": reverse("gui:active_listen_audio", args=[item.listen_id]),
            "stop_url": reverse("gui:active_listen_stop", args=[item.listen_id]),
        }
    )


@listen_page
@require_GET
def listen_audio(request: HttpRequest, listen_id: str) -> HttpResponseBase:
    """The PCM that arrived since the last poll (8 kHz mono s16le; empty while waiting)."""
    try:
        data = listening.read(listen_id, scope=rights(request).scope, **_binding(request))
    except listening.ListenNotFound as exc:
        return _problem(404, exc.reason)
    except listening.ListenEnded as exc:
        return _problem(410, exc.reason)
    except ManagerError as exc:
        return _problem(502, f"the sensor does not answer: {exc.reason}")
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = "no-store"
    response["X-Sample-Rate"] = str(listening.SAMPLE_RATE)
    return response


@listen_page
@require_POST
def listen_stop(request: HttpRequest, listen_id: str) -> JsonResponse:
    """Stop a live listen (the stop button, or the page's beacon when it closes)."""
    stopped = listening.stop(listen_id, **_binding(request))
    return JsonResponse({"ok": True, "stopped": stopped is not None})
