"""Text that real clients send as an object: JSON, pseudo-JSON and JavaScript-style objects.

Shared by the faces that read such text from a request: the legacy endpoints (api.php's
``params``, sql.php's ``sort``/``group_by``) and the GUI's ``/admin.php?cdr_filter={...}`` deep
link (``{fcallid:"abc", fcaller:1001}``). ``parse_object`` / ``json_text`` accept JSON, and what
``json`` rejects but clients produce (``parse_loose_json``): single quotes, bare keys, trailing
commas, Python's ``True``/``False``/``None``.

Bounds (docs/security-inputs.md): values nest at most ``MAX_DEPTH`` levels and no string may
hold a lone UTF-16 surrogate (``"\\ud800"`` in JSON is not text). Errors are ``ParamError``
(``HostileValue`` for the bounds), whose message names the field and is safe to show.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Nesting of JSON values and PHP bracket names (a[b][c]); real requests use 2-3 levels.
MAX_DEPTH = 32


class ParamError(ValueError):
    """A request value cannot be read; the message is safe to show to the client."""


class HostileValue(ParamError):
    """Well-formed but refused: nested too deeply, or text that is not text (a surrogate)."""


def json_text(text: str, name: str) -> Any:
    """JSON (or the loose JSON of parse_loose_json) → a checked value, or ParamError.

    A value nested deeper than MAX_DEPTH or holding a lone surrogate is refused: json.loads
    itself raises RecursionError at ~1000 levels, and code walking a deep value would too.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise HostileValue(f"{name} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError:
        value = parse_loose_json(text, name)
    return checked(value, name)


def checked(value: Any, name: str) -> Any:
    """``value`` unchanged when it nests at most MAX_DEPTH levels and all its text is text.

    Walks without recursion. A lone UTF-16 surrogate (JSON ``"\\ud800"``) cannot be encoded
    as UTF-8 by anything downstream (database drivers, hashers, logs): refused here, once.
    """
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise HostileValue(f"{path} is nested too deeply (at most {MAX_DEPTH} levels)")
            if isinstance(item, dict):
                for key, child in item.items():
                    check_text(str(key), path)
                    stack.append((child, f"{path}.{str(key)[:40]}", depth + 1))
            else:
                stack.extend((child, f"{path}[]", depth + 1) for child in item)
    return value


def check_text(text: str, path: str) -> None:
    """Refuse text holding a lone UTF-16 surrogate (HostileValue naming ``path``)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise HostileValue(
            f"{shown}: contains a lone UTF-16 surrogate (like \\ud800), which is not text"
        ) from None


def parse_object(raw: Any, name: str, example: str = '{"name":"value"}') -> dict[str, Any] | None:
    """A field holding an object, as a dict: JSON text, pseudo-JSON, an already decoded dict
    (bracket fields, a JSON body), or None when absent or blank. ``example`` is shown in the
    error when the text is not an object."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        raise ParamError(f"{name} must be a JSON object such as {example}")
    text = str(raw).strip()
    if not text:
        return None
    value = json_text(text, name)
    if not isinstance(value, dict):
        raise ParamError(f"{name} must be a JSON object such as {example}")
    return value


def parse_loose_json(text: str, name: str = "params") -> Any:
    """Parse JSON-like text that real clients produce but ``json`` rejects.

    Accepts single-quoted strings (``{'cdrId': 123}``), bare identifier keys
    (``{fcallid:"abc"}``), trailing commas, and ``True``/``False``/``None`` next to
    ``true``/``false``/``null``. Everything else must be well formed.
    """
    parser = _LooseParser(text, name)
    value = parser.value()
    parser.end()
    return value


class _LooseParser:
    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
    _WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$\-]*")
    _WORDS = {
        "true": True,
        "false": False,
        "null": None,
        "True": True,
        "False": False,
        "None": None,
    }
    _ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.pos = 0
        self.name = name
        self.depth = 0

    def fail(self, what: str) -> ParamError:
        return ParamError(f"{self.name} is not valid JSON ({what} at character {self.pos + 1})")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def end(self) -> None:
        if self.peek():
            raise self.fail("unexpected text")

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.container("{", "}", keyed=True)
        if char == "[":
            return self.container("[", "]", keyed=False)
        if char in ("'", '"'):
            return self.string()
        match = self._NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            number = match.group()
            try:
                return float(number) if any(c in number for c in ".eE") else int(number)
            except ValueError:  # more digits than Python converts (4300)
                raise self.fail("number too long") from None
        match = self._WORD.match(self.text, self.pos)
        if match and match.group() in self._WORDS:
            self.pos = match.end()
            return self._WORDS[match.group()]
        raise self.fail("unexpected character" if char else "unexpected end")

    def container(self, open_: str, close: str, *, keyed: bool) -> dict | list:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("nesting too deep")
        self.pos += 1
        result: dict | list = {} if keyed else []
        while True:
            if self.peek() == close:
                self.pos += 1
                self.depth -= 1
                return result
            if keyed:
                key = self.key()
                if self.peek() != ":":
                    raise self.fail("expected ':'")
                self.pos += 1
                result[key] = self.value()
            else:
                result.append(self.value())
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != close:
                raise self.fail(f"expected ',' or '{close}'")

    def key(self) -> str:
        char = self.peek()
        if char in ("'", '"'):
            return self.string()
        match = self._WORD.match(self.text, self.pos) or self._NUMBER.match(self.text, self.pos)
        if not match:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            if self.pos >= len(self.text):
                break
            esc = self.text[self.pos]
            self.pos += 1
            if esc == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", self.text[self.pos : self.pos + 4]):
                code = int(self.text[self.pos : self.pos + 4], 16)
                self.pos += 4
                low = self.text[self.pos : self.pos + 6]
                if 0xD800 <= code < 0xDC00 and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", low):
                    # a surrogate pair (as json.loads combines it): one character
                    code = 0x10000 + ((code - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00)
                    self.pos += 6
                out.append(chr(code))
            else:
                out.append(self._ESCAPES.get(esc, esc))
        raise self.fail("unterminated string")
