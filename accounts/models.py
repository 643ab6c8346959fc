"""Accounts: vmgui users extend Django's auth users with the old GUI's attributes.

This first version carries what the legacy APIs need (where the account comes from, blocking).
The full flag set, groups and row restrictions arrive with the accounts/permissions issue;
``accounts.scope.scope_for`` is the single function that turns a user into a CdrScope.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserProfile(models.Model):
    """Per-user attributes of the old GUI that Django's User does not have.

    ``id`` of this row is the user's stable numeric id (the old GUI keys per-user settings by
    it; custom_login must return a unique one).
    """

    class Source(models.TextChoices):
        LOCAL = "local", "Local (password in vmgui)"
        LDAP = "ldap", "LDAP"
        ENTRA = "entra", "Microsoft Entra ID"
        GOOGLE = "google", "Google"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vm_profile"
    )
    source = models.CharField(
        max_length=16,
        choices=Source.choices,
        default=Source.LOCAL,
        help_text=(
            "Where the account authenticates. Only local accounts may use the legacy HTTP APIs "
            "(api.php, sql.php) with user/password, as in the old GUI."
        ),
    )
    blocked = models.BooleanField(
        default=False,
        help_text="Sensitive: a blocked user is refused on every face (GUI, APIs, share links).",
    )
    blocked_reason = models.CharField(
        max_length=255, blank=True, help_text="Shown to the blocked user when they are refused."
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"
