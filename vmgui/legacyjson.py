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

from typing import Any, Final

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

# Dates go to DjangoJSONEncoder (its ISO format, as before); int dict keys become strings.
_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_ENCODER: Final = DjangoJSONEncoder(separators=(",", ":"))


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON (UTF-8 bytes)."""
    try:
        return orjson.dumps(value, default=_ENCODER.default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value).encode()


class JsonResponse(HttpResponse):
    """An ``application/json`` answer of ``data`` written by ``dumps``."""

    def __init__(self, data: Any, status: int = 200, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/json")
        super().__init__(content=dumps(data), status=status, **kwargs)
