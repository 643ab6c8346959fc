"""Writing, searching and pruning the audit log (accounts.models.AuditEvent)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuditEvent

logger = logging.getLogger("vmgui.audit")


def client_ip(request) -> str | None:
    """The client address as the WSGI server saw it (proxies: configure the server, not us)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    user=None,
    username: str = "",
    request=None,
    face: str = "",
    object_id: object = "",
    success: bool = True,
    **details,
) -> AuditEvent:
    """Store one audit event (and log it); never raises into the caller's action."""
    if user is not None and not username:
        username = getattr(user, "username", "")
    event = AuditEvent(
        action=action,
        user=user if getattr(user, "pk", None) else None,
        username=username[:150],
        ip=client_ip(request),
        face=face,
        object_id=str(object_id)[:255],
        success=success,
        details=details,
    )
    event.save()
    logger.info("audit %s user=%s face=%s object=%s", action, username, face, object_id)
    return event


def search(
    *,
    action: str = "",
    username: str = "",
    face: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    success: bool | None = None,
) -> QuerySet:
    """Events matching every given condition, newest first (``-id``: keyset paging by id).

    Empty texts and None mean "any". The faces that show the log (the REST API, the GUI) read
    and check their parameters; the conditions are applied here once.
    """
    qs = AuditEvent.objects.order_by("-id")
    if action:
        qs = qs.filter(action=action)
    if username:
        qs = qs.filter(username=username[:150])
    if face:
        qs = qs.filter(face=face[:32])
    if since is not None:
        qs = qs.filter(time__gte=since)
    if until is not None:
        qs = qs.filter(time__lte=until)
    if success is not None:
        qs = qs.filter(success=success)
    return qs


def prune(now: dt.datetime | None = None) -> int:
    """Delete events older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(time__lt=cutoff).delete()
    return deleted


def call_pause(request, face: str, ref: str, success: bool, details: dict, **extra) -> AuditEvent:
    """A pause/unpause of an active call's recording, from any face (``details``: sensor,
    call reference, paused or not; ``extra``: the refusal reason or the sensor's name)."""
    return record(
        AuditEvent.Action.CALL_PAUSE,
        user=request.user,
        request=request,
        face=face,
        object_id=ref,
        success=success,
        **details,
        **extra,
    )
