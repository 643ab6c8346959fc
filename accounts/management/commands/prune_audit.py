"""``manage.py prune_audit``: delete audit events older than VMGUI_AUDIT_RETENTION_DAYS."""

from django.core.management.base import BaseCommand

from accounts.audit import prune


class Command(BaseCommand):
    help = "Delete audit events older than the retention period (run daily, e.g. from cron)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"deleted {prune()} audit events")
