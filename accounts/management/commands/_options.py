"""Shared option handling of the vmuser / vmgroup commands."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.flags import FLAGS, UnknownFlag, check_flag_name

RESTRICTION_OPTIONS = {
    "sensors": "enable_sensors",
    "ip": "ip",
    "number": "number",
    "domain": "domain",
    "vlan": "vlan",
    "custom_headers_cdr": "custom_headers_cdr",
    "custom_headers_message": "custom_headers_message",
}
ON = {"on", "1", "true", "yes"}
OFF = {"off", "0", "false", "no"}


def add_common(parser, *, inherit: bool) -> None:
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME=on|off" + ("|inherit" if inherit else ""),
        help=f"set a permission flag (repeatable); flags: {', '.join(FLAGS)}",
    )
    for option, field in RESTRICTION_OPTIONS.items():
        parser.add_argument(
            f"--{option.replace('_', '-')}",
            dest=option,
            metavar="LIST",
            help=f"comma-separated {field} restriction ('' clears it)",
        )


def apply_common(obj, options, *, inherit: bool) -> list[str]:
    """Apply --flag and restriction options to a group or profile; returns what changed."""
    changed = []
    for item in options["flag"]:
        name, sep, value = item.partition("=")
        try:
            check_flag_name(name.strip())
        except UnknownFlag as exc:
            raise CommandError(str(exc)) from None
        value = value.strip().lower()
        if not sep or value not in ON | OFF | ({"inherit"} if inherit else set()):
            allowed = "on/off" + ("/inherit" if inherit else "")
            raise CommandError(f"--flag {item!r}: expected {name.strip()}={allowed}")
        setattr(obj, name.strip(), None if value == "inherit" else value in ON)
        changed.append(name.strip())
    for option, field in RESTRICTION_OPTIONS.items():
        if options.get(option) is not None:
            setattr(
                obj, field, "\n".join(p.strip() for p in options[option].split(",") if p.strip())
            )
            changed.append(field)
    return changed


def validate(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise CommandError(messages) from None


def audit_cli_change(object_id: str, **details) -> None:
    """Audit a permission change made from the shell (face ``cli``)."""
    from accounts import audit
    from accounts.models import AuditEvent

    audit.record(
        AuditEvent.Action.PERMISSION_CHANGE,
        username="(cli)",
        face="cli",
        object_id=object_id,
        **details,
    )
