"""Admin panel: users with their GUI profile, groups, sensors, settings and the audit log.

Flags are grouped in their own fieldset; restriction lists are validated on save (a bad CIDR
or pattern is refused with a message, from the models' ``clean``). Permission changes made
here are written to the audit log.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import audit
from accounts.flags import FLAGS
from accounts.forms import VmAdminAuthenticationForm
from accounts.models import AuditEvent, UserProfile, UserSetting, VmGroup

RESTRICTION_FIELDS = (
    "enable_sensors",
    "ip",
    "number",
    "domain",
    "vlan",
    "custom_headers_cdr",
    "custom_headers_message",
)
FLAG_FIELDS = tuple(FLAGS)


def _audit_change(request, obj, what: str) -> None:
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGE,
        user=request.user,
        request=request,
        face="admin",
        object_id=f"{what}:{obj.pk}",
        target=str(obj),
    )


@admin.register(VmGroup)
class VmGroupAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "description",
        "can_cdr",
        "can_pcap",
        "can_play_audio",
        "can_activecalls",
    )
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Permissions (flags)", {"fields": FLAG_FIELDS}),
        ("Row restrictions (empty = no restriction)", {"fields": RESTRICTION_FIELDS}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_change(request, obj, "group")


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    fk_name = "user"
    fieldsets = (
        (None, {"fields": ("source", "group", "blocked", "blocked_reason", "req_2fa")}),
        (
            "Permission overrides (empty = as the group says)",
            {"fields": FLAG_FIELDS, "classes": ("collapse",)},
        ),
        ("Row restrictions (non-empty replaces the group's)", {"fields": RESTRICTION_FIELDS}),
    )


# The admin login shows why a login was refused (throttled, blocked), not a generic message.
admin.site.login_form = VmAdminAuthenticationForm

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (UserProfileInline,)
    list_display = ("username", "email", "is_superuser", "profile_group", "profile_blocked")

    @admin.display(description="group")
    def profile_group(self, obj):
        profile = getattr(obj, "vm_profile", None)
        return profile.group if profile else None

    @admin.display(description="blocked", boolean=True)
    def profile_blocked(self, obj):
        profile = getattr(obj, "vm_profile", None)
        return bool(profile and profile.blocked)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _audit_change(request, form.instance, "user")


@admin.register(UserSetting)
class UserSettingAdmin(admin.ModelAdmin):
    list_display = ("user", "key")
    search_fields = ("user__username", "key")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the application only."""

    list_display = ("time", "action", "username", "ip", "face", "object_id", "success")
    list_filter = ("action", "face", "success")
    search_fields = ("username", "object_id", "ip")
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
