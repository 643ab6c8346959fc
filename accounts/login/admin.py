"""Admin page of the id bindings: deleting one resolves an id collision (audited)."""

from __future__ import annotations

from django.contrib import admin

from accounts import audit
from accounts.models import AuditEvent, ExternalIdentity


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    """Read-only bindings; delete one to let the id bind to the next username that signs in."""

    list_display = ("external_id", "user", "method", "subject", "created", "last_login")
    list_filter = ("method",)
    search_fields = ("user__username", "subject", "=external_id")
    readonly_fields = ("external_id", "user", "method", "subject", "created", "last_login")

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        _audit_unbind(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _audit_unbind(request, obj)
        super().delete_queryset(request, queryset)


def _audit_unbind(request, obj: ExternalIdentity) -> None:
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGE,
        user=request.user,
        request=request,
        face="admin",
        object_id=f"external_id:{obj.external_id}",
        change="unbind",
        bound_username=obj.user.username,
    )
