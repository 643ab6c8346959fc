"""The stored share link (service layer: no HTTP here)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Share(models.Model):
    """One share link: who made it, which CDR(s), what it shows, until when.

    The link's token is never stored: only its SHA-256 (``token_hash``), so a database dump
    does not open any share. ``anon_key`` is the secret of the share's consistent IP map
    (cdr.media.anonymize.IpMap). A revoked or expired share is kept (audit, the admin) but
    opens nothing.
    """

    class Kind(models.TextChoices):
        PROTECTED = "self_protected_link", "public, password-protected"
        LOGIN = "self_login_link", "for logged-in users who may see the call"
        PUBLIC = "share_link", "public, on the share site"

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vm_shares"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cdr_ids = models.JSONField(help_text="The shared CDR ids (cdr.ID), in call order.")
    call_id = models.CharField(max_length=255, blank=True, help_text="The Call-ID asked for.")
    rtp = models.BooleanField(default=False, help_text="Audio player and PCAP download.")
    sip_history = models.BooleanField(default=True, help_text="SIP messages and the ladder.")
    anon_ips = models.BooleanField(default=False, help_text="Every IP address replaced.")
    anon_key = models.CharField(max_length=64, editable=False)
    password_hash = models.CharField(max_length=256, blank=True, editable=False)
    uses = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share {self.pk} of CDR {', '.join(map(str, self.cdr_ids or []))}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def active(self) -> bool:
        return not self.revoked and not self.expired
