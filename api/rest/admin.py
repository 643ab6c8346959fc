"""API tokens in the Django admin: list, inspect, revoke (never see or change a secret)."""

from django.contrib import admin
from django.utils import timezone

from api.rest.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "read_only",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["read_only", "revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "last_used_ip", "revoked_at"]
    fields = ["user", "name", "prefix", "read_only", "allowed_ips", "expires_at", "created_at",
              "last_used_at", "last_used_ip", "revoked_at"]  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a token is created by its owner, who is shown the secret once

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked")
