"""JSON of the legacy answers (api.php, sql.php, pcap2text.php, …): what PHP's json_encode writes.

The old GUI is PHP: its answers are compact (``{"success":true,"cdr":[…]}``, no spaces; the
format clients were written against, docs/legacy-api.md). They are written by orjson, about
five times faster than the standard library's encoder on a page of CDRs (the largest cost per
row of a big getVoipCalls answer; docs/benchmarks.md, issue 19). Text is UTF-8, not ``\\uXXXX``
escapes: the same strings for every JSON reader.

Values orjson cannot write are handled as Django's ``JsonResponse`` did: dates, times,
decimals and lazy texts through ``DjangoJSONEncoder``; and a document orjson refuses as a whole
(a lone surrogate echoed from a request, an integer beyond 64 bits) is written by the standard
library instead, compact too, so an answer never fails because of the text it carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse


class Encoded:
    """JSON text already written by ``dumps`` (UTF-8 bytes), placed as it is wherever it
    stands in a value ``dumps`` writes."""

    __slots__ = ("json",)

    def __init__(self, json: bytes) -> None:
        self.json = json


class _Encoder(DjangoJSONEncoder):
    """The standard library's fallback: ``Encoded`` parts are read back and written again
    (only a document orjson refuses as a whole comes here)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Encoded):
            return json.loads(o.json)
        return super().default(o)


# Dates go to DjangoJSONEncoder (its ISO format, as before); int dict keys become strings.
_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_ENCODER: Final = _Encoder(separators=(",", ":"))


def _default(value: Any) -> Any:
    if isinstance(value, Encoded):
        return orjson.Fragment(value.json)
    return _ENCODER.default(value)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON (UTF-8 bytes)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value).encode()


def json_list(chunks: Iterable[Sequence[Any]]) -> Encoded:
    """The items of ``chunks`` (lists) as one JSON list, each chunk written when it comes.

    For a face that shapes a streamed read a page at a time (``cdr.query.page.Capped``):
    the page is written while the server still sends the next one, instead of after the
    whole answer was read (docs/benchmarks.md, issue 19). The same text as ``dumps`` of the
    chunks joined into one list.
    """
    parts = [dumps(chunk)[1:-1] for chunk in chunks if chunk]  # each without its brackets
    return Encoded(b"[" + b",".join(parts) + b"]")


class JsonResponse(HttpResponse):
    """An ``application/json`` answer of ``data`` written by ``dumps``."""

    def __init__(self, data: Any, status: int = 200, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/json")
        super().__init__(content=dumps(data), status=status, **kwargs)
