"""The spec's custom_login "return array", validated into a ``LoginAnswer``.

Every sign-in method ends here: the hook returns the array itself, LDAP / Entra ID / Google
build one from the directory's attributes and groups. Accepted shapes follow what PHP hooks
returned: booleans as ``True``/``1``/``"1"``/``"true"``, lists as Python lists or comma
strings, the id as an int or a string of digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from accounts.flags import FLAGS
from accounts.login.errors import AnswerInvalid
from accounts.models import RESTRICTION_PARSERS

MAX_ID = 2**63 - 1
# The spec's keys, besides the flags (FLAGS) and the restrictions (RESTRICTION_PARSERS).
KNOWN_KEYS = frozenset(
    {
        "username",
        "name",
        "id",
        "id_group",
        "group_name",
        "is_admin",
        "email",
        "blocked",
        "blocked_reason",
        "req_2fa",
    }
)
_USERNAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,150}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class LoginAnswer:
    """A validated return array. ``flags``/``restrictions`` hold only the keys returned."""

    username: str
    external_id: int
    is_admin: bool = False
    id_group: int | None = None
    group_name: str = ""
    email: str = ""
    name: str = ""
    flags: dict[str, bool] = field(default_factory=dict)
    restrictions: dict[str, str] = field(default_factory=dict)
    blocked: bool = False
    blocked_reason: str = ""
    req_2fa: bool = False
    subject: str = ""
    ignored_keys: tuple[str, ...] = ()


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise AnswerInvalid(
        "the sign-in returned an invalid account description; ask an administrator",
        f"{key}={value!r} is not a boolean (true/false, 1/0)",
    )


def _text(key: str, value: Any, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"{key}={value!r} is not text",
        )
    return str(value).strip()[:limit]


def _list_text(key: str, value: Any) -> str:
    """A restriction as the text the profile stores (comma separated)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        items = [str(v).strip() for v in value if not isinstance(v, bool)]
        if len(items) != len(value) or any(not isinstance(v, str | int) for v in value):
            raise AnswerInvalid(
                "the sign-in returned an invalid account description; ask an administrator",
                f"{key} holds something that is not a number or text",
            )
        text = ",".join(items)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value)
    else:
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"{key}={value!r} is not a list",
        )
    if len(text) > 65_535:
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"{key} is longer than 65535 characters",
        )
    try:
        RESTRICTION_PARSERS[key](text)
    except ValidationError as exc:
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"{key}: {'; '.join(exc.messages)}",
        ) from None
    return text


def parse_id(value: Any) -> int:
    """The spec's ``id``: a whole number 1 … 2^63-1 (an int or a string of digits)."""
    if isinstance(value, bool) or value is None:
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 19:
        number = int(value.strip())
    else:
        number = None
    if number is None or not 1 <= number <= MAX_ID:
        shown = "no id" if value is None else f"id {value!r}"
        raise AnswerInvalid(
            "your account cannot sign in: the sign-in returned no unique numeric id "
            "(administrators: see docs/login.md, 'Unique ids')",
            f"the answer has {shown}; a whole number from 1 to {MAX_ID} is required",
        )
    return number


def parse_answer(raw: Any, typed_username: str, *, subject: str = "") -> LoginAnswer:
    """Validate a return array; raises AnswerInvalid naming the bad key."""
    if not isinstance(raw, dict):
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"the hook returned {type(raw).__name__}, not a dict (or False/None to refuse)",
        )
    username = _text("username", raw.get("username", typed_username), 1000) or typed_username
    if not _USERNAME.match(username):
        raise AnswerInvalid(
            "the sign-in returned an invalid account description; ask an administrator",
            f"username {username!r} is empty, too long (150) or has spaces/control characters",
        )
    answer = LoginAnswer(username=username, external_id=parse_id(raw.get("id")), subject=subject)
    answer.is_admin = _bool("is_admin", raw.get("is_admin", False))
    group = raw.get("id_group")
    if group not in (None, "", 0, "0"):
        if isinstance(group, bool) or not str(group).strip().isdigit():
            raise AnswerInvalid(
                "the sign-in returned an invalid account description; ask an administrator",
                f"id_group={group!r} is not a group number",
            )
        answer.id_group = int(str(group).strip())
    answer.group_name = _text("group_name", raw.get("group_name"), 100)
    answer.email = _text("email", raw.get("email"), 254)
    answer.name = _text("name", raw.get("name"), 300)
    for flag in FLAGS:
        if flag in raw and raw[flag] is not None:
            answer.flags[flag] = _bool(flag, raw[flag])
    for key in RESTRICTION_PARSERS:
        if key in raw:
            answer.restrictions[key] = _list_text(key, raw[key])
    answer.blocked = _bool("blocked", raw.get("blocked", False))
    answer.blocked_reason = _text("blocked_reason", raw.get("blocked_reason"))
    answer.req_2fa = _bool("req_2fa", raw.get("req_2fa", False))
    known = KNOWN_KEYS | set(FLAGS) | set(RESTRICTION_PARSERS)
    answer.ignored_keys = tuple(sorted(str(k) for k in raw if k not in known))
    return answer
