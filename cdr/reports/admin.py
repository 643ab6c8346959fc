"""Admin for report definitions ("Reports → Daily Report" of the old GUI) and their deliveries.

Staff users see the reports visible to them (shared ones and their own; admins all). Creating,
changing and deleting need ``can_reports_edit`` (admins always); a non-admin changes and
deletes only the reports they own. Everything is validated by the model (filters parsed with
the query engine's filter declaration, metric names, e-mail addresses). A definition's PNG
can be previewed for the previous day from its change page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

# The admin acts for the signed-in user: it asks the permission layer for their flags.
from accounts.permissions import effective
from cdr.query.errors import QueryError
from cdr.reports import chart
from cdr.reports.models import ReportDefinition, ReportDelivery
from cdr.reports.schedule import last_period
from cdr.reports.service import run, visible_reports
from cdr.reports.spec import SECTIONS, ReportError


def _can_edit(request) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or effective(user).has("can_reports_edit")))


def _can_run(request) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or effective(user).has("can_cdr")))


class ReportForm(forms.ModelForm):
    metrics = forms.MultipleChoiceField(
        choices=list(SECTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Shown besides the summary figures (calls, answered, ASR, ACD, MOS, loss, jitter).",
    )
    filters = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=ReportDefinition._meta.get_field("filters").help_text,
    )

    class Meta:
        model = ReportDefinition
        fields = [
            "description", "notes", "filters", "metrics", "top_n", "shared", "owner",
            "schedule", "recipients",
        ]  # fmt: skip
        widgets = {"recipients": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def clean_filters(self):
        value = self.cleaned_data.get("filters")
        return {} if value in (None, "") else value


@admin.register(ReportDefinition)
class ReportDefinitionAdmin(admin.ModelAdmin):
    form = ReportForm
    list_display = ("description", "owner", "shared", "schedule", "updated_at", "preview")
    list_filter = ("schedule", "shared")
    search_fields = ("description", "notes")

    def get_queryset(self, request):
        user = request.user
        return visible_reports(user.pk, is_admin=user.is_superuser).select_related("owner")

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ("owner",)

    def has_module_permission(self, request) -> bool:
        return _can_run(request) or _can_edit(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _can_run(request) or _can_edit(request)

    def has_add_permission(self, request) -> bool:
        return _can_edit(request)

    def has_change_permission(self, request, obj=None) -> bool:
        if not _can_edit(request):
            return False
        return obj is None or request.user.is_superuser or obj.owner_id == request.user.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="PNG")
    def preview(self, obj) -> str:
        url = reverse("admin:reports_reportdefinition_preview", args=[obj.pk])
        return format_html('<a href="{}">previous day</a>', url)

    def get_urls(self):
        extra = [
            path(
                "<int:report_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="reports_reportdefinition_preview",
            )
        ]
        return extra + super().get_urls()

    def preview_view(self, request, report_id: int) -> HttpResponse:
        """The report's PNG for the previous day, computed with the viewer's own rights."""
        if not _can_run(request):
            return HttpResponse("running reports needs the can_cdr permission", status=403)
        report = self.get_queryset(request).filter(pk=report_id).first()
        if report is None:
            return HttpResponse("no such report", status=404)
        period = last_period("daily", timezone.now())
        try:
            data = run(report, period, effective(request.user).scope)
        except (ReportError, QueryError) as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        png = chart.report_png(report.description, period, data)
        return HttpResponse(png, content_type="image/png")


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    """What send_reports sent (read-only; delete a failed row to have it retried at once)."""

    list_display = ("report", "period_start", "period_end", "status", "sent_at", "recipients")
    list_filter = ("status",)
    readonly_fields = (
        "report", "period_start", "period_end", "status", "recipients", "error", "created_at",
        "sent_at",
    )  # fmt: skip

    def has_module_permission(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)
