"""The Python twin of the number/Call-ID patterns (active calls, row scopes) is linear.

Issue 12, finding 1: ``listActiveCalls`` with ``callId="%%%%%%%%%#"`` took 4 s with 9 ``%``
and over 30 s with 12, because each ``%`` became a backtracking ``.*``. ``like_match`` now
collapses ``%`` runs and finds the fixed pieces between them leftmost-first. These tests check
that it means exactly what SQL LIKE means (against SQLite's own LIKE), and that patterns whose
regex form is catastrophic finish at once (the bound is a hang guard hundreds of times above
the measured time, not a benchmark: docs/benchmarks.md "Hostile values" has the timings).
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.hypothesis_profiles  # noqa: F401 - registers and loads the profile
from cdr.query.errors import QueryError
from cdr.query.patterns import Pattern, like_match
from cdr.query.scope import CdrScope, scope_allows

HANG_GUARD_S = 2.0

_sqlite = sqlite3.connect(":memory:")


def sql_like(pattern: str, value: str) -> bool:
    """SQLite's LIKE (ASCII case-insensitive), with the engine's exact-match rule."""
    if "%" not in pattern:
        return pattern.lower() == value.lower()
    escaped = pattern.replace("!", "!!")
    row = _sqlite.execute("SELECT ? LIKE ? ESCAPE '!'", (value, escaped)).fetchone()
    return bool(row[0])


ALPHABET = st.sampled_from("ab%_!#Ab")


@given(st.text(ALPHABET, max_size=12), st.text(st.sampled_from("abAB#!%_"), max_size=14))
def test_it_matches_exactly_what_sql_like_matches(pattern, value):
    assert like_match(pattern, value) == sql_like(pattern, value)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("+420%", "+420601111111", True),
        ("%1111", "+420601111111", True),
        ("%06_1%", "+420601111111", True),
        ("%06_2%", "+420601111111", False),
        ("a%b%c", "abc", True),
        ("a%b%c", "acb", False),
        ("%%%%", "", True),
        ("%a%a%", "a", False),
        ("1001", "1001", True),
        ("10_1", "1001", False),  # without % the value is exact: _ is literal
        (r"a%\b", "a\\b", True),
        ("A%", "abc", True),  # case-insensitive like the SQL collations
    ],
)
def test_it_answers_the_documented_examples(pattern, value, expected):
    assert like_match(pattern, value) is expected


@pytest.mark.parametrize("percents", [9, 12, 30, 200])
def test_a_pattern_of_many_percent_signs_is_answered_at_once(percents):
    value = "x" * 5000  # no "#": a backtracking matcher tries every split of the %s
    start = time.perf_counter()
    assert like_match("%" * percents + "#", value) is False
    assert like_match("%a" * percents + "%#", "a" * 4000) is False
    assert time.perf_counter() - start < HANG_GUARD_S


def test_a_restricted_scope_with_a_hostile_number_pattern_stays_linear():
    scope = CdrScope(numbers=("%" * 12 + "#",))
    start = time.perf_counter()
    assert not scope_allows(scope, caller="1" * 3000, called="2" * 3000)
    assert time.perf_counter() - start < HANG_GUARD_S


def test_runs_of_percent_collapse_in_the_sql_pattern_too():
    assert Pattern.parse("%%%%%%%%%#").value == "%#"


def test_a_pattern_longer_than_the_setting_is_refused(settings):
    settings.MAX_PATTERN_LENGTH = 32
    with pytest.raises(QueryError, match=r"at most 32 .*VMGUI_MAX_PATTERN_LENGTH"):
        like_match("%" * 33, "x")
    assert like_match("%" * 32, "x")
