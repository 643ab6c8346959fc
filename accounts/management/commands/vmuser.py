"""``manage.py vmuser``: provision users, their group, flags and restrictions from the shell."""

from __future__ import annotations

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._options import (
    add_common,
    apply_common,
    audit_cli_change,
    validate,
)
from accounts.models import UserProfile, VmGroup
from accounts.permissions import effective


def user_data(user) -> dict:
    profile = UserProfile.objects.get_or_create(user=user)[0]
    eff = effective(user)
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.get_full_name(),
        "email": user.email,
        "is_admin": user.is_superuser,
        "source": profile.source,
        "id_group": profile.group_id,
        "group_name": profile.group.name if profile.group else None,
        "blocked": profile.blocked,
        "blocked_reason": profile.blocked_reason,
        "req_2fa": profile.req_2fa,
        "effective_flags": eff.flags,
        "effective_restrictions": {k: list(v) for k, v in eff.restrictions.items()},
    }


class Command(BaseCommand):
    help = "Manage users: password, group, flags (overrides), restrictions, blocking."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        setp = sub.add_parser("set", help="create or update a user")
        setp.add_argument("username")
        setp.add_argument("--password", help="new password (prefer --password-stdin)")
        setp.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        setp.add_argument("--email")
        setp.add_argument("--name", help="full name")
        setp.add_argument("--admin", action="store_true", help="make the user an admin (is_admin)")
        setp.add_argument("--no-admin", action="store_true", help="remove admin rights")
        setp.add_argument("--group", help="GUI group name ('' = no group)")
        setp.add_argument("--source", choices=[c for c, _ in UserProfile.Source.choices])
        setp.add_argument("--block", metavar="REASON", help="block the user with this reason")
        setp.add_argument("--unblock", action="store_true")
        setp.add_argument("--req-2fa", choices=["on", "off"])
        add_common(setp, inherit=True)
        show = sub.add_parser("show", help="print a user (with effective permissions) as JSON")
        show.add_argument("username")
        sub.add_parser("list", help="list users")
        delete = sub.add_parser("delete", help="delete a user")
        delete.add_argument("username")

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        action = options["action"]
        if action == "list":
            for user in User.objects.order_by("username"):
                profile = UserProfile.objects.filter(user=user).select_related("group").first()
                group = profile.group.name if profile and profile.group else "-"
                blocked = " BLOCKED" if profile and profile.blocked else ""
                admin = " admin" if user.is_superuser else ""
                self.stdout.write(f"{user.pk}\t{user.username}\t{group}{admin}{blocked}")
            return
        username = options["username"]
        if action == "set":
            self._set(User, username, options)
            return
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if action == "show":
            self.stdout.write(json.dumps(user_data(user), indent=2))
        elif action == "delete":
            user.delete()
            audit_cli_change(
                f"user:{username}",
                deleted=True,
            )
            self.stdout.write(f"user {username!r} deleted")

    def _set(self, User, username: str, options) -> None:
        if options["admin"] and options["no_admin"]:
            raise CommandError("--admin and --no-admin exclude each other")
        if options["block"] is not None and options["unblock"]:
            raise CommandError("--block and --unblock exclude each other")
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = User(username=username)
        password = options["password"]
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        if password is not None:
            if len(password) < 8:
                raise CommandError("the password must have at least 8 characters")
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        if options["email"] is not None:
            user.email = options["email"]
        if options["name"] is not None:
            first, _, last = options["name"].partition(" ")
            user.first_name, user.last_name = first, last
        if options["admin"]:
            user.is_superuser = user.is_staff = True
        if options["no_admin"]:
            user.is_superuser = user.is_staff = False
        user.save()
        profile = UserProfile.objects.get_or_create(user=user)[0]
        if options["group"] is not None:
            if options["group"] == "":
                profile.group = None
            else:
                group = VmGroup.objects.filter(name=options["group"]).first()
                if group is None:
                    raise CommandError(
                        f"no group named {options['group']!r} (create it with vmgroup set)"
                    )
                profile.group = group
        if options["source"]:
            profile.source = options["source"]
        if options["block"] is not None:
            profile.blocked, profile.blocked_reason = True, options["block"]
        if options["unblock"]:
            profile.blocked, profile.blocked_reason = False, ""
        if options["req_2fa"]:
            profile.req_2fa = options["req_2fa"] == "on"
        changed = apply_common(profile, options, inherit=True)
        validate(profile)
        profile.save()
        audit_cli_change(
            f"user:{user.pk}",
            target=username,
            changed=changed,
            created=created,
        )
        self.stdout.write(f"user {username!r} {'created' if created else 'updated'}")
