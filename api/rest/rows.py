"""Engine rows → JSON values of the REST API (ISO 8601 times with offset, plain numbers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cdr.codecnumbers import codec_name


def value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return timezone.localtime(v).isoformat() if timezone.is_aware(v) else v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    return v


def cdr_json(row: dict) -> dict:
    """One engine row as the REST API shows a CDR: sniffer column names, plus codec names."""
    out = {k: value(v) for k, v in row.items()}
    for side in ("a", "b"):
        payload = row.get(f"{side}_payload")
        if payload is not None:
            out[f"{side}_codec"] = codec_name(payload)
    return out
