"""The legacy answers' JSON (vmgui.legacyjson): compact, as PHP's json_encode writes it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.utils.translation import gettext_lazy

from vmgui.legacyjson import JsonResponse, dumps, json_list


def test_it_writes_compact_json_like_php():
    assert dumps({"success": True, "cdr": [], "total": 5}) == b'{"success":true,"cdr":[],"total":5}'


def test_text_is_utf8_and_reads_back_the_same():
    text = 'Jiří 山田 😀 "quoted" \\ back/slash \n'
    raw = dumps({"name": text})
    assert "Jiří 山田 😀".encode() in raw
    assert json.loads(raw) == {"name": text}


def test_dates_decimals_lazy_text_and_int_keys_are_written_as_django_did():
    value = {
        "when": dt.datetime(2026, 11, 27, 10, 0, 1, 123456, tzinfo=dt.UTC),
        "day": dt.date(2026, 11, 27),
        "price": Decimal("1.50"),
        "label": gettext_lazy("Yes"),
        7: "seven",
    }
    assert json.loads(dumps(value)) == {
        "when": "2026-11-27T10:00:01.123Z",
        "day": "2026-11-27",
        "price": "1.50",
        "label": "Yes",
        "7": "seven",
    }


def test_a_lone_surrogate_or_a_huge_int_is_still_answered():
    """orjson refuses them; the answer is written by the standard library instead."""
    assert json.loads(dumps({"reason": "bad \ud800 text"})) == {"reason": "bad \ud800 text"}
    assert json.loads(dumps({"n": 2**70})) == {"n": 2**70}
    assert b" " not in dumps({"n": 2**70, "m": [1, 2]})  # compact there too


def test_the_response_is_application_json_with_a_status():
    response = JsonResponse({"success": False}, status=400)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"success":false}'


def test_json_written_ahead_is_placed_as_it_is():
    rows = [[{"n": 1, "t": "Jiří"}], [], [{"n": 2, "t": "山田 😀"}, {"n": 3, "t": None}]]
    written = json_list(rows)
    whole = [row for chunk in rows for row in chunk]
    assert dumps({"success": True, "cdr": written}) == dumps({"success": True, "cdr": whole})
    assert dumps({"cdr": json_list([])}) == b'{"cdr":[]}'


def test_json_written_ahead_survives_the_standard_librarys_fallback():
    """A document orjson refuses as a whole (here a huge int beside it) still carries it."""
    written = json_list([[{"n": 1}], [{"n": 2}]])
    assert json.loads(dumps({"cdr": written, "big": 2**70})) == {
        "cdr": [{"n": 1}, {"n": 2}],
        "big": 2**70,
    }
