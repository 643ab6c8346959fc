"""Accounts: groups, users' GUI attributes and flags, row restrictions, per-user settings, audit.

Django's ``auth.User`` holds the login (username, password, email, name, is_superuser = the old
GUI's ``is_admin``). ``UserProfile`` adds the old GUI's attributes; ``VmGroup`` carries default
flags and restrictions that a user inherits and may override (a NULL flag on the profile means
"as the group says"; a non-empty restriction on the profile replaces the group's).
``accounts.permissions`` is the only code that combines them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts import restrictions as r
from accounts.flags import DEFAULT_ON, FLAGS

RESTRICTION_HELP = {
    "enable_sensors": "Sensor ids this account may see, comma or newline separated; empty = all sensors.",
    "ip": "IPs/CIDRs: only calls whose caller or called SIP IP is inside one (e.g. 10.0.0.0/8); empty = any.",
    "number": "Number patterns: only calls whose caller or called number matches one (420%, %1234); empty = any.",
    "domain": "Domain patterns: only calls whose caller or called domain matches one; empty = any.",
    "vlan": "VLAN ids: only calls captured on these VLANs; empty = any.",
    "custom_headers_cdr": "Custom CDR headers this account may see; empty = all.",
    "custom_headers_message": "Custom MESSAGE headers this account may see; empty = all.",
}
RESTRICTION_PARSERS = {
    "enable_sensors": r.parse_sensors,
    "ip": r.parse_networks,
    "number": r.parse_patterns,
    "domain": lambda text: r.parse_patterns(text, "domain"),
    "vlan": r.parse_vlans,
    "custom_headers_cdr": r.parse_names,
    "custom_headers_message": r.parse_names,
}


class RestrictionsMixin(models.Model):
    """Row restrictions (validated on save by ``clean``)."""

    enable_sensors = models.TextField(blank=True, help_text=RESTRICTION_HELP["enable_sensors"])
    ip = models.TextField("IP restriction", blank=True, help_text=RESTRICTION_HELP["ip"])
    number = models.TextField(
        "number restriction", blank=True, help_text=RESTRICTION_HELP["number"]
    )
    domain = models.TextField(
        "domain restriction", blank=True, help_text=RESTRICTION_HELP["domain"]
    )
    vlan = models.TextField("VLAN restriction", blank=True, help_text=RESTRICTION_HELP["vlan"])
    custom_headers_cdr = models.TextField(
        blank=True, help_text=RESTRICTION_HELP["custom_headers_cdr"]
    )
    custom_headers_message = models.TextField(
        blank=True, help_text=RESTRICTION_HELP["custom_headers_message"]
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = {}
        for name, parse in RESTRICTION_PARSERS.items():
            try:
                parse(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)


class VmGroup(RestrictionsMixin):
    """A GUI group: default flags and restrictions for its members (the old GUI's id_group)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "group"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


for _flag, _help in FLAGS.items():
    VmGroup.add_to_class(_flag, models.BooleanField(default=_flag in DEFAULT_ON, help_text=_help))


class UserProfile(RestrictionsMixin):
    """Per-user attributes of the old GUI that Django's User does not have.

    The numeric ``user_id`` is the user's stable unique id; per-user settings are keyed by it
    (the old GUI's custom_login must return a unique one for the same reason).
    """

    class Source(models.TextChoices):
        LOCAL = "local", "Local (password in vmgui)"
        LDAP = "ldap", "LDAP"
        ENTRA = "entra", "Microsoft Entra ID"
        GOOGLE = "google", "Google"
        CUSTOM = "custom", "Custom login hook"

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
    group = models.ForeignKey(
        VmGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="Flags and restrictions come from this group unless overridden below.",
    )
    blocked = models.BooleanField(
        default=False,
        help_text="Sensitive: a blocked user is refused on every face (GUI, APIs, share links).",
    )
    blocked_reason = models.CharField(
        max_length=255, blank=True, help_text="Shown to the blocked user when they are refused."
    )
    req_2fa = models.BooleanField(
        "requires 2FA",
        default=False,
        help_text="Sensitive: the user must pass a second factor at GUI login (2FA issue).",
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"


for _flag, _help in FLAGS.items():
    UserProfile.add_to_class(
        _flag,
        models.BooleanField(null=True, blank=True, help_text=f"{_help} Empty = as the group says."),
    )


class UserSetting(models.Model):
    """A per-user preference (time zone, default filters, ...), keyed by the user's numeric id."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    value = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_user_setting")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class AuditEvent(models.Model):
    """One security-relevant action on any face (logins, downloads, shares, pauses, changes).

    Kept ``VMGUI_AUDIT_RETENTION_DAYS`` days (``manage.py prune_audit``). Failed logins here also
    drive login throttling (accounts.throttle), so there is one source of truth.
    """

    class Action(models.TextChoices):
        LOGIN_OK = "login_ok", "login succeeded"
        LOGIN_FAILED = "login_failed", "login failed"
        LOGIN_THROTTLED = "login_throttled", "login refused: too many failures"
        LOGIN_BLOCKED = "login_blocked", "login refused: the user is blocked"
        LOGOUT = "logout", "logged out"
        LOGIN_REFUSED = "login_refused", "login refused: the sign-in provider's answer"
        LOGIN_COLLISION = "login_collision", "login refused: id bound to another user"
        AUDIO_DOWNLOAD = "audio_download", "recording downloaded"
        PCAP_DOWNLOAD = "pcap_download", "PCAP downloaded"
        SHARE_CREATE = "share_create", "share link created"
        SHARE_USE = "share_use", "share link opened"
        CALL_PAUSE = "call_pause", "active call paused/unpaused"
        LIVE_LISTEN = "live_listen", "active call listened to live"
        PERMISSION_CHANGE = "permission_change", "permissions changed"
        PERMISSION_DENIED = "permission_denied", "action refused for lack of permission"

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(
        max_length=150, blank=True, help_text="As typed (kept for failed logins)."
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    face = models.CharField(
        max_length=32, blank=True, help_text="api.php, sql.php, gui, admin, rest, share"
    )
    object_id = models.CharField(
        max_length=255, blank=True, help_text="CDR id, share token, sensor/call ..."
    )
    success = models.BooleanField(default=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time"]
        indexes = [
            models.Index(fields=["action", "username", "time"], name="audit_user_time"),
            models.Index(fields=["action", "ip", "time"], name="audit_ip_time"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.username}"


class ExternalIdentity(models.Model):
    """The binding of a custom-login id (hook, LDAP, Entra ID, Google) to one local user.

    The old GUI keys everything of a user by the numeric ``id`` its custom_login returns, so
    two usernames returning one id would silently share settings. vmgui binds each id to the
    first username that signs in with it and refuses any other username returning that id
    (accounts.login.provision). An admin resolves a collision by renaming the bound user or by
    deleting this binding (``manage.py custom_login unbind ID``).
    """

    external_id = models.BigIntegerField(
        unique=True,
        help_text=(
            "Sensitive: the numeric id the sign-in returned (hook id, LDAP uidNumber, derived "
            "Entra/Google id). Whoever signs in with it becomes this user."
        ),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vm_external_identity"
    )
    method = models.CharField(
        max_length=16, help_text="The sign-in that created the binding: hook, ldap, entra, google."
    )
    subject = models.CharField(
        max_length=255, blank=True, help_text="The provider's own name for the user (DN, oid, sub)."
    )
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "external identity"
        verbose_name_plural = "external identities"
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} → {self.user}"
