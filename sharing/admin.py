"""Share links in the Django admin: who shared what until when, and revoking."""

from __future__ import annotations

from django.contrib import admin, messages

from sharing import service
from sharing.models import Share


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = (
        "id", "kind", "created_by", "created_at", "expires_at", "revoked_at", "cdr_ids",
        "rtp", "sip_history", "anon_ips", "uses", "last_used_at",
    )  # fmt: skip
    list_filter = ("kind", "rtp", "anon_ips", "revoked_at")
    search_fields = ("created_by__username", "call_id")
    readonly_fields = (
        "kind", "created_by", "created_at", "expires_at", "revoked_at", "revoked_by", "cdr_ids",
        "call_id", "rtp", "sip_history", "anon_ips", "uses", "last_used_at",
    )  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # shares are made by their creators (api.php, utilities.php, REST)

    @admin.action(description="Revoke the selected share links")
    def revoke(self, request, queryset) -> None:
        done = sum(service.revoke(s, request.user, request=request, face="admin") for s in queryset)
        self.message_user(request, f"{done} share link(s) revoked.", messages.SUCCESS)
