"""Report definitions and their e-mail deliveries (vmgui's own tables, migrated)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cdr.reports.spec import (
    MAX_NAME_LENGTH,
    MAX_TOP,
    SECTIONS,
    ReportError,
    check_metrics,
    check_name,
    check_notes,
    recipient_list,
    report_filter,
)


def _all_sections() -> list[str]:
    return list(SECTIONS)


class ReportDefinition(models.Model):
    """A stored report: what to count (filters), what to show (metrics), who gets it by e-mail.

    ``description`` is the name api.php's ``reportSummary`` matches (``report_name``), as the
    old GUI's Description field. A report is visible to every user when ``shared``, otherwise
    only to its owner and to admins. Scheduled e-mails run with the owner's rights (flags and
    row restrictions), never more.
    """

    class Schedule(models.TextChoices):
        NONE = "none", "no e-mail"
        DAILY = "daily", "daily (the previous day)"
        WEEKLY = "weekly", "weekly (the previous Monday to Sunday)"
        MONTHLY = "monthly", "monthly (the previous calendar month)"

    description = models.CharField(
        max_length=MAX_NAME_LENGTH,
        unique=True,
        help_text="The report's name; api.php reportSummary's report_name must match it.",
    )
    notes = models.TextField(blank=True, max_length=2000)
    filters = models.JSONField(
        default=dict,
        blank=True,
        help_text='CDR filters in the REST/GUI names, e.g. {"caller": "+420%", '
        '"sip_response": "4xx", "connected": true, "header.X-Account-Code": "ACME%"} '
        "(docs/reports.md). The period is chosen when the report runs.",
    )
    metrics = models.JSONField(
        default=_all_sections,
        blank=True,
        help_text="Sections shown besides the summary figures: " + ", ".join(SECTIONS) + ".",
    )
    top_n = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TOP)],
        help_text=f"Rows of the top SIP responses / callers / called lists (1 … {MAX_TOP}).",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vm_reports",
        help_text="Its creator; scheduled e-mails run with this user's rights.",
    )
    shared = models.BooleanField(
        default=True, help_text="Visible to every user (else to its owner and admins only)."
    )
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.NONE)
    recipients = models.TextField(
        blank=True, max_length=13000, help_text="E-mail addresses (comma or one per line)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["description"]
        verbose_name = "report"

    def __str__(self) -> str:
        return self.description

    @property
    def sections(self) -> list[str]:
        return check_metrics(self.metrics)

    @property
    def recipient_list(self) -> list[str]:
        return recipient_list(self.recipients)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        checks = {
            "description": lambda: check_name(self.description),
            "notes": lambda: check_notes(self.notes),
            "filters": lambda: report_filter(self.filters),
            "metrics": lambda: check_metrics(self.metrics),
            "recipients": lambda: recipient_list(self.recipients),
        }
        for name, check in checks.items():
            try:
                check()
            except ReportError as exc:
                errors[name] = str(exc)
        if "description" not in errors:
            self.description = check_name(self.description)
        if "metrics" not in errors:
            self.metrics = check_metrics(self.metrics)
        if "recipients" not in errors:
            self.recipients = ", ".join(recipient_list(self.recipients))
            if self.schedule != self.Schedule.NONE and not self.recipients:
                errors["recipients"] = "a scheduled report needs at least one recipient"
        if errors:
            raise ValidationError(errors)


class ReportDelivery(models.Model):
    """One scheduled e-mail of a report for one period: the claim that makes sending idempotent.

    ``send_reports`` creates the row before sending (unique per report and period start), so
    a second run for the same period, or a concurrent one, sends nothing; a failed send is
    retried by the next run.
    """

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    report = models.ForeignKey(
        ReportDefinition, on_delete=models.CASCADE, related_name="deliveries"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    recipients = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "report_id"]
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["report", "period_start"], name="reports_delivery_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.period_start:%Y-%m-%d} {self.status}"
