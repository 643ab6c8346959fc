"""API tokens of the REST API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A credential a user creates for a script: it acts as that user, never with more rights.

    The secret is shown once at creation; only its SHA-256 is stored (the secret is 256 random
    bits, so a fast hash is safe). ``prefix`` is the public part of the token, used to find the
    row and to name the token in lists and the audit log.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for (shown in lists).")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this time the token is refused. Empty: never."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    read_only = models.BooleanField(
        default=True,
        help_text="Sensitive: when unchecked the token may also change things its owner may "
        "change (pause active calls, revoke tokens, edit users and groups as an admin).",
    )
    allowed_ips = models.TextField(
        blank=True,
        help_text="Sensitive: client addresses or CIDR networks (one per line or comma "
        "separated) the token is accepted from. Empty: from anywhere.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
