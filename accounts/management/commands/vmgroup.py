"""``manage.py vmgroup``: create, update, show, list and delete GUI groups from the shell."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from accounts.flags import FLAGS
from accounts.management.commands._options import (
    add_common,
    apply_common,
    audit_cli_change,
    validate,
)
from accounts.models import RESTRICTION_PARSERS, VmGroup


def group_data(group: VmGroup) -> dict:
    return {
        "name": group.name,
        "description": group.description,
        "flags": {name: getattr(group, name) for name in FLAGS},
        "restrictions": {
            name: list(parse(getattr(group, name))) for name, parse in RESTRICTION_PARSERS.items()
        },
        "members": list(group.members.values_list("user__username", flat=True)),
    }


class Command(BaseCommand):
    help = "Manage GUI groups (flags and row restrictions their members inherit)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        setp = sub.add_parser("set", help="create or update a group")
        setp.add_argument("name")
        setp.add_argument("--description")
        add_common(setp, inherit=False)
        show = sub.add_parser("show", help="print a group as JSON")
        show.add_argument("name")
        sub.add_parser("list", help="list groups")
        delete = sub.add_parser("delete", help="delete a group (members keep their overrides)")
        delete.add_argument("name")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            for group in VmGroup.objects.all():
                self.stdout.write(
                    f"{group.name}\t{group.members.count()} members\t{group.description}"
                )
            return
        name = options["name"]
        if action == "set":
            group = VmGroup.objects.filter(name=name).first() or VmGroup(name=name)
            if options.get("description") is not None:
                group.description = options["description"]
            changed = apply_common(group, options, inherit=False)
            validate(group)
            created = group.pk is None
            group.save()
            audit_cli_change(
                f"group:{group.pk}",
                target=name,
                changed=changed,
                created=created,
            )
            self.stdout.write(f"group {name!r} {'created' if created else 'updated'}")
            return
        group = VmGroup.objects.filter(name=name).first()
        if group is None:
            raise CommandError(f"no group named {name!r}")
        if action == "show":
            self.stdout.write(json.dumps(group_data(group), indent=2))
        elif action == "delete":
            group.delete()
            audit_cli_change(
                f"group:{name}",
                deleted=True,
            )
            self.stdout.write(f"group {name!r} deleted")
