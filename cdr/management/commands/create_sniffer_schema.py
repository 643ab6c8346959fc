"""``manage.py create_sniffer_schema``: create the sniffer's tables on a fresh database."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from cdr.ddl import SchemaOptions, create_schema


class Command(BaseCommand):
    help = (
        "Create the VoIPmonitor sniffer's tables (cdr, cdr_next, ...) where they do not exist. "
        "Existing tables are never altered."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ipv6", action="store_true", help="IP columns as varbinary(16)")
        parser.add_argument(
            "--no-ms", action="store_true", help="datetime / whole seconds instead of ms precision"
        )
        parser.add_argument(
            "--no-partitions", action="store_true", help="unpartitioned cdr with foreign keys"
        )
        parser.add_argument("--partition-from", help="first daily partition, YYYY-MM-DD")
        parser.add_argument("--partition-days", type=int, default=45)

    def handle(self, *args, **options) -> None:
        start = None
        if options["partition_from"]:
            try:
                start = dt.date.fromisoformat(options["partition_from"])
            except ValueError:
                raise CommandError("--partition-from must be YYYY-MM-DD") from None
        if options["partition_days"] < 1:
            raise CommandError("--partition-days must be at least 1")
        opts = SchemaOptions(
            ipv6=options["ipv6"],
            ms=not options["no_ms"],
            partitioned=not options["no_partitions"],
            partition_from=start,
            partition_days=options["partition_days"],
        )
        created = create_schema(opts)
        if created:
            self.stdout.write(f"created {len(created)} tables: {', '.join(created)}")
        else:
            self.stdout.write("all sniffer tables already exist; nothing changed")
