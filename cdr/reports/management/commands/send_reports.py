"""``manage.py send_reports``: e-mail every scheduled report for its last complete period.

Run it from cron (e.g. hourly, or daily after midnight): each report with a schedule is sent
once per period (daily: the previous day; weekly: the previous Monday … Sunday; monthly: the
previous month, in the sniffer's zone). A ``ReportDelivery`` row is claimed before sending, so
another run (or a concurrent one) for the same period sends nothing; a failed send is retried
by the next run. The report runs with its owner's rights (flags and row restrictions): a
report without an owner, or whose owner is blocked, inactive or lacks ``can_cdr``, is not sent
(the delivery is marked failed with the reason). docs/reports.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The one place this package asks the permission layer: the e-mail runs as the report's owner.
from accounts.permissions import effective, load_profile
from cdr.query.errors import QueryError
from cdr.reports import chart, mail
from cdr.reports.models import ReportDefinition, ReportDelivery
from cdr.reports.schedule import last_period
from cdr.reports.service import Period, run
from cdr.reports.spec import ReportError


class Refused(Exception):
    """The report cannot be sent (the reason is stored on the delivery)."""


class Command(BaseCommand):
    help = "E-mail every scheduled report once for its last complete period."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--now",
            help="the moment to compute the periods from (ISO 8601; default: now)",
        )
        parser.add_argument("--report", help="only the report with this Description")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be sent, send nothing"
        )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        if options["now"]:
            parsed = parse_datetime(options["now"])
            if parsed is None:
                raise CommandError("--now: expected an ISO 8601 date-time")
            now = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        reports = ReportDefinition.objects.exclude(schedule=ReportDefinition.Schedule.NONE)
        if options["report"]:
            reports = reports.filter(description=options["report"])
        sent = skipped = failed = 0
        for report in reports.select_related("owner").order_by("pk"):
            period = last_period(report.schedule, now)
            label = f"{report.description!r} {mail.period_text(period)}"
            if options["dry_run"]:
                done = ReportDelivery.objects.filter(
                    report=report, period_start=period.start, status=ReportDelivery.Status.SENT
                ).exists()
                self.stdout.write(f"{'already sent' if done else 'would send'}: {label}")
                continue
            delivery = self._claim(report, period)
            if delivery is None:
                skipped += 1
                self.stdout.write(f"already sent: {label}")
                continue
            try:
                recipients = self._send(report, period)
            except (Refused, ReportError, QueryError) as exc:
                self._finish(delivery, ReportDelivery.Status.FAILED, error=str(exc))
                failed += 1
                self.stderr.write(f"not sent: {label}: {exc}")
                continue
            except Exception as exc:  # SMTP errors and the like: retried by the next run
                self._finish(
                    delivery, ReportDelivery.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
                )
                failed += 1
                self.stderr.write(f"not sent: {label}: {type(exc).__name__}: {exc}")
                continue
            self._finish(delivery, ReportDelivery.Status.SENT, recipients=", ".join(recipients))
            sent += 1
            self.stdout.write(f"sent: {label} to {len(recipients)} recipient(s)")
        self.stdout.write(f"{sent} sent, {skipped} already sent, {failed} failed")

    @staticmethod
    def _claim(report: ReportDefinition, period: Period) -> ReportDelivery | None:
        """The delivery row this run owns, or None when the period is sent (or being sent)."""
        try:
            with transaction.atomic():
                delivery, created = ReportDelivery.objects.get_or_create(
                    report=report,
                    period_start=period.start,
                    defaults={"period_end": period.end},
                )
        except IntegrityError:  # a concurrent run claimed it first
            return None
        if created:
            return delivery
        # Only a failed delivery is taken over, and by one run only (a conditional update).
        retried = ReportDelivery.objects.filter(
            pk=delivery.pk, status=ReportDelivery.Status.FAILED
        ).update(status=ReportDelivery.Status.SENDING, error="")
        return delivery if retried else None

    @staticmethod
    def _send(report: ReportDefinition, period: Period) -> list[str]:
        owner = report.owner
        if owner is None:
            raise Refused("the report has no owner whose rights it could run with")
        profile = load_profile(owner)
        if not owner.is_active or profile.blocked:
            raise Refused(f"the owner {owner.username!r} is blocked or inactive")
        rights = effective(owner)
        if not rights.has("can_cdr"):
            raise Refused(f"the owner {owner.username!r} lacks the can_cdr permission")
        recipients = report.recipient_list
        if not recipients:
            raise Refused("the report has no recipients")
        data = run(report, period, rights.scope)
        png = chart.report_png(report.description, period, data)
        mail.message(report.description, period, data, png, recipients).send(fail_silently=False)
        return recipients

    @staticmethod
    def _finish(
        delivery: ReportDelivery, status: str, *, error: str = "", recipients: str = ""
    ) -> None:
        ReportDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            error=error[:2000],
            recipients=recipients,
            sent_at=timezone.now() if status == ReportDelivery.Status.SENT else None,
        )
