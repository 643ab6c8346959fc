"""Debug and administer custom login (the spec's ``php custom_login.php``, and more).

manage.py custom_login USER [--method hook|ldap] [--password-stdin]
    asks for the password, calls the hook (or LDAP), prints the returned array and what
    vmgui would do with it (create/update, group, flags, restrictions, 2FA, refusals),
    without writing anything
manage.py custom_login --list                 the id bindings (id → user)
manage.py custom_login --unbind ID            delete a binding (resolves an id collision)
manage.py custom_login --reset-2fa USER       remove the user's TOTP device and recovery codes
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.login import flow, provision, totp
from accounts.login.answer import parse_answer
from accounts.login.errors import SignInError
from accounts.management.commands._options import audit_cli_change
from accounts.models import ExternalIdentity


class Command(BaseCommand):
    help = "Test the custom_login hook or LDAP for a user; list/unbind ids; reset 2FA."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", nargs="?", help="the user name to test a sign-in with")
        parser.add_argument(
            "--method",
            choices=["hook", "ldap"],
            help="which method to test (default: the first configured, hook before LDAP)",
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        parser.add_argument("--list", action="store_true", help="list the id bindings")
        parser.add_argument("--unbind", type=int, metavar="ID", help="delete the binding of ID")
        parser.add_argument(
            "--reset-2fa", metavar="USER", help="remove USER's TOTP and recovery codes"
        )

    def handle(self, *args, **options) -> None:
        if options["list"]:
            return self._list()
        if options["unbind"] is not None:
            return self._unbind(options["unbind"])
        if options["reset_2fa"]:
            return self._reset(options["reset_2fa"])
        if not options["username"]:
            raise CommandError("give a USER to test, or --list / --unbind ID / --reset-2fa USER")
        return self._test(options["username"], options["method"], options["password_stdin"])

    def _list(self) -> None:
        for identity in ExternalIdentity.objects.select_related("user"):
            self.stdout.write(
                f"{identity.external_id}\t{identity.user.username}\t{identity.method}\t{identity.subject}"
            )

    def _unbind(self, external_id: int) -> None:
        identity = (
            ExternalIdentity.objects.select_related("user").filter(external_id=external_id).first()
        )
        if identity is None:
            raise CommandError(f"id {external_id} is not bound to any user")
        username = identity.user.username
        identity.delete()
        audit_cli_change(f"external_id:{external_id}", change="unbind", bound_username=username)
        self.stdout.write(
            f"id {external_id} unbound from {username!r}; the next user signing in with it gets it "
            f"({username!r} keeps the account and its settings, and is refused with this id "
            "until the admin renames or removes it)"
        )

    def _reset(self, username: str) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        removed = totp.reset(user)
        audit_cli_change(f"user:{user.pk}", change="reset_2fa", target=username)
        self.stdout.write(
            f"{username}: {removed} two-factor device(s) removed; they enrol again at the next sign-in"
        )

    def _test(self, username: str, method: str | None, from_stdin: bool) -> None:
        methods = flow.password_methods()
        method = method or (methods[0] if methods else None)
        if method is None or method not in methods:
            raise CommandError(
                f"{method or 'custom login'} is not configured (VMGUI_CUSTOM_LOGIN / VMGUI_LDAP_URI)"
            )
        if from_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {username}: ")
        try:
            if method == "hook":
                from accounts.login import hook

                self.stdout.write(f"hook: {settings.CUSTOM_LOGIN}")
                raw = hook.call(username, password)
                self.stdout.write("returned array:")
                self.stdout.write(json.dumps(raw, indent=2, ensure_ascii=False, default=repr))
                if raw is None or raw is False:
                    self.stdout.write("vmgui would: REFUSE (wrong user name or password)")
                    return
                answer = parse_answer(raw, username)
            else:
                from accounts.login import ldap

                answer = ldap.authenticate(username, password)
                if answer is None:
                    self.stdout.write("LDAP: wrong user name or password (or no such user)")
                    self.stdout.write("vmgui would: REFUSE (wrong user name or password)")
                    return
                shown = {
                    k: v
                    for k, v in dataclasses.asdict(answer).items()
                    if v not in ("", (), {}, None)
                }
                self.stdout.write("array built from the directory:")
                self.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False, default=str))
            plan = provision.plan(answer)
        except SignInError as exc:
            self.stdout.write(f"vmgui would: REFUSE ({exc.reason})")
            self.stdout.write(f"why: {exc.detail}")
            return
        self.stdout.write(
            f"vmgui would: {plan.action} user {plan.username!r} (id {plan.external_id})"
        )
        for change in plan.changes:
            self.stdout.write(f"  - {change}")
