"""DRF's JSON renderer, written by orjson (issue 19).

The same document as ``rest_framework.renderers.JSONRenderer`` with this project's settings
(compact, UTF-8, U+2028/U+2029 escaped for scripts), about five times faster on a page of
CDRs. Values orjson does not know (dates, decimals, lazy texts, ...) go to DRF's own encoder,
so they are written as DRF writes them (``...Z`` for UTC times, decimals as numbers). An
indented answer (``Accept: application/json; indent=2``) and anything orjson refuses as a
whole (an integer beyond 64 bits, a lone surrogate) are written by DRF itself.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_DRF: Final = JSONEncoder()


class FastJSONRenderer(JSONRenderer):
    """``JSONRenderer`` with orjson doing the writing (see the module doc)."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_DRF.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: the two line separators JSON allows but JavaScript did not.
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out
