"""``manage.py demo``: sniffer schema + demo CDRs + real pcaps in the spool + an admin user."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cdr.demo.dataset import DemoOptions, DemoRefused, build_demo

ADMIN_USER = "admin"


class Command(BaseCommand):
    help = "Create the demo data set (idempotent) and a demo admin user; print its credentials."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--anchor",
            help="last day of demo calls, YYYY-MM-DD (default: yesterday, so no call lies in the future)",
        )
        parser.add_argument("--calls", type=int, default=3000)
        parser.add_argument("--pcap-calls", type=int, default=250)
        parser.add_argument("--days", type=int, default=4)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--no-spool", action="store_true", help="CDRs only, no pcap files")
        parser.add_argument("--plain-spool", action="store_true", help="tar=no spool layout")

    def handle(self, *args, **options) -> None:
        try:
            anchor = (
                dt.date.fromisoformat(options["anchor"])
                if options["anchor"]
                else dt.date.today() - dt.timedelta(days=1)
            )
        except ValueError:
            raise CommandError("--anchor must be YYYY-MM-DD") from None
        for name in ("calls", "pcap_calls", "days"):
            if options[name] < (1 if name != "pcap_calls" else 0):
                raise CommandError(f"--{name.replace('_', '-')} is too small")
        opts = DemoOptions(
            anchor=anchor,
            calls=options["calls"],
            pcap_calls=options["pcap_calls"],
            days=options["days"],
            seed=options["seed"],
            spool_dir=None if options["no_spool"] else settings.SPOOL_DIR,
            tar=not options["plain_spool"],
        )
        try:
            result = build_demo(opts)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        if result.created:
            self.stdout.write(
                f"demo: {result.calls} CDRs ({result.ipv6_calls} IPv6), "
                f"{result.pcap_calls} with pcaps in {settings.SPOOL_DIR}"
            )
        else:
            self.stdout.write(f"demo: {result.message}")
        password = self._admin_password()
        self.stdout.write(f"demo admin: user {ADMIN_USER!r} password {password!r}")

    def _admin_password(self) -> str:
        """Create the demo admin once; its password is kept in the data dir and printed each run."""
        secret_file = settings.DATA_DIR / "demo-admin-password"
        User = get_user_model()
        user = User.objects.filter(username=ADMIN_USER).first()
        if user is not None and secret_file.exists():
            return secret_file.read_text().strip()
        password = secrets.token_urlsafe(9)
        if user is None:
            user = User.objects.create_superuser(ADMIN_USER, "admin@example.com", password)
        else:
            user.set_password(password)
            user.save()
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(password + "\n")
        secret_file.chmod(0o600)
        return password
