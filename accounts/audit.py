"""Writing and pruning the audit log (accounts.models.AuditEvent)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
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


def prune(now: dt.datetime | None = None) -> int:
    """Delete events older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(time__lt=cutoff).delete()
    return deleted
