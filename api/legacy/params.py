"""Request fields of the legacy PHP endpoints (api.php now, sql.php later), from any transport.

Real clients send every transport (legacy-api-formats §1): GET query strings, form POSTs,
POSTs with the fields in the query string and an empty body, multipart, and raw JSON bodies
(often with a form content type, as the spec's own ``curl -d @-`` example does). Field names
may use PHP's bracket syntax (``params[startTime]=..``, ``params[cdrId][]=1``). ``params``
may be JSON text, single-quoted pseudo-JSON (``{'cdrId': 123}``), a JavaScript-style object
with bare keys, or an object already (inside a JSON body).

These are plain functions over a Django request or plain values; they return plain dicts and
raise ``ParamError`` (a user-facing message) for anything they cannot read. Precedence when
a field comes twice: JSON body, then form/multipart body, then query string (like PHP's
``$_REQUEST`` with the default ``request_order = "GP"``: POST wins).

Bounds (docs/security-inputs.md): JSON and PHP bracket names nest at most ``MAX_DEPTH``
levels; no string may hold a lone UTF-16 surrogate (``"\\ud800"`` in JSON is not text); a
list-valued parameter holds at most ``settings.MAX_LIST_VALUES`` values (id lists:
``settings.MAX_ID_VALUES``); whole numbers are at most ``MAX_WHOLE_NUMBER``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError

# The object/JSON text reader is shared with the GUI's deep link (vmgui.jsobject); its names
# stay importable from here for the legacy modules.
from vmgui.jsobject import (
    MAX_DEPTH,
    HostileValue,
    ParamError,
    check_text,
    checked,
    json_text,
    parse_object,
)
from vmgui.jsobject import parse_loose_json as parse_loose_json  # re-exported (tests, clients)

MAX_UPLOADED_FIELD = 1024 * 1024  # a params field sent as a multipart "file" (curl -F params=@f)
# The largest whole number a parameter may hold: JavaScript's exact integers (every client can
# send it), and a sum of two still fits SQL's signed 64-bit LIMIT/OFFSET and SQLite's INTEGER.
MAX_WHOLE_NUMBER = 2**53 - 1


# --- transport ----------------------------------------------------------------------------


def request_fields(request: HttpRequest) -> dict[str, Any]:
    """Every top-level field of the request, merged over all transports (see module doc)."""
    try:
        fields = php_fields(request.GET.lists())
        body_fields = _body_fields(request)
    except (RequestDataTooBig, TooManyFieldsSent) as exc:
        raise ParamError(f"request too large: {exc}") from None
    except MultiPartParserError as exc:
        raise ParamError(f"cannot read the multipart body: {exc}") from None
    fields.update(body_fields)
    for name, value in fields.items():
        check_text(str(name), "a field name")
        checked(value, str(name)[:40])
    return fields


def _body_fields(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    content_type = (request.content_type or "").lower()
    if content_type.startswith("multipart/"):
        fields = php_fields(request.POST.lists())
        for name, uploads in request.FILES.lists():
            fields.setdefault(name, _uploaded_text(name, uploads[-1]))
        return fields
    body = request.body
    if not body.strip():
        return {}
    parsed = json_body(body)
    if parsed is not None:
        return parsed
    if content_type == "application/x-www-form-urlencoded":
        return php_fields(request.POST.lists())
    # No or another content type (e.g. text/plain): read the body as a form if it is one.
    text = body.decode(request.encoding or "utf-8", errors="replace").strip()
    return php_fields(QueryDict(text, encoding=request.encoding).lists())


def _uploaded_text(name: str, upload) -> str:
    if upload.size > MAX_UPLOADED_FIELD:
        raise ParamError(f"uploaded field {name!r} is larger than {MAX_UPLOADED_FIELD} bytes")
    return upload.read().decode("utf-8", errors="replace")


def json_body(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object when it is one (detected by content, not Content-Type)."""
    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text.startswith("{"):
        return None
    try:
        value = json_text(text, "the JSON body")
    except HostileValue:
        raise
    except ParamError:
        return None  # e.g. a form body whose first field name starts with "{"
    return value if isinstance(value, dict) else None


_BRACKET = re.compile(r"\[([^\[\]]*)\]")


def php_fields(items: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """Decode PHP-style field names: ``a[b][c]=1`` → ``{"a": {"b": {"c": "1"}}}``.

    ``a[]=1&a[]=2`` builds a list; a repeated plain name keeps its last value (as PHP does).
    """
    result: dict[str, Any] = {}
    for name, values in items:
        base, path = _split_php_name(name)
        for value in values:
            _assign(result, [base, *path], value)
    return result


def _split_php_name(name: str) -> tuple[str, list[str]]:
    start = name.find("[")
    if start <= 0 or not name.endswith("]"):
        return name, []
    rest = name[start:]
    path = _BRACKET.findall(rest)
    if "".join(f"[{p}]" for p in path) != rest:
        return name, []
    if len(path) >= MAX_DEPTH:
        raise ParamError(f"field {name[:start][:40]!r}: at most {MAX_DEPTH} levels of [..]")
    return name[:start], path


def _assign(container: dict | list, path: list[str], value: str) -> None:
    key = path[0]
    last = len(path) == 1
    if isinstance(container, list):
        if last:
            container.append(value)
            return
        child: dict | list = [] if path[1] == "" else {}
        container.append(child)
        _assign(child, path[1:], value)
        return
    if last:
        container[key] = value
        return
    existing = container.get(key)
    wanted = list if path[1] == "" else dict
    if not isinstance(existing, wanted):
        existing = wanted()
        container[key] = existing
    _assign(existing, path[1:], value)


# --- params ------------------------------------------------------------------------------


def params_object(raw: Any, name: str = "params") -> dict[str, Any] | None:
    """The ``params`` field as a dict: JSON text, pseudo-JSON, bracket dict, or None if absent."""
    return parse_object(raw, name, '{"startTime":"2024-01-01"}')


# --- typed values ------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """None, an empty/whitespace string, or an empty list: the parameter was not really given."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def text_value(value: Any, name: str) -> str:
    """A scalar as text (numbers as their digits: ``123`` and ``"123"`` are the same)."""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ParamError(f"{name}: expected a string or a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def list_limit(ids: bool = False) -> tuple[int, str]:
    """The most values one list-valued parameter may hold, and the setting that says so."""
    if ids:
        return settings.MAX_ID_VALUES, "VMGUI_MAX_ID_VALUES"
    return settings.MAX_LIST_VALUES, "VMGUI_MAX_LIST_VALUES"


def check_count(count: int, name: str, *, ids: bool = False) -> None:
    """Refuse a list of more values than list_limit allows, naming the limit and its setting."""
    limit, setting = list_limit(ids)
    if count > limit:
        raise ParamError(f"{name}: at most {limit} values per request ({setting}), got {count}")


def text_list(value: Any, name: str, *, ids: bool = False) -> list[str]:
    """One or several strings: a scalar, a list, or a comma-separated string (bounded count)."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = value.split(",")
    else:
        items = [value]
    check_count(len(items), name, ids=ids)
    result = [text_value(item, name) for item in items if not is_blank(item)]
    return [item for item in result if item]


def int_value(
    value: Any, name: str, *, minimum: int | None = None, maximum: int = MAX_WHOLE_NUMBER
) -> int:
    """A whole number from a number or a numeric string, at most ``maximum``."""
    if isinstance(value, bool):
        raise ParamError(f"{name}: expected a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ParamError(f"{name}: expected a whole number, got {value}")
        value = int(value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ParamError(f"{name}: expected a whole number, got {str(value)[:40]!r}") from None
    if minimum is not None and number < minimum:
        raise ParamError(f"{name}: must be at least {minimum}")
    if number > maximum:
        raise ParamError(f"{name}: must be at most {maximum}")
    return number


def int_list(value: Any, name: str, *, minimum: int | None = None, ids: bool = False) -> list[int]:
    """One or several whole numbers: ``12``, ``"12"``, ``[6, "7"]`` or ``"6,7"``."""
    return [int_value(item, name, minimum=minimum) for item in text_list(value, name, ids=ids)]


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


def bool_value(value: Any, name: str) -> bool:
    """1/0, "1"/"0", true/false (JSON or text), yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParamError(f"{name}: expected 1/0 or true/false, got {str(value)[:40]!r}")


def first_text(fields: dict[str, Any], *names: str) -> str:
    """The first non-blank scalar among ``names`` as text ('' when none is given)."""
    for name in names:
        value = fields.get(name)
        if value is not None and not isinstance(value, (dict, list)):
            text = text_value(value, name)
            if text:
                return text
    return ""
