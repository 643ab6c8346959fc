"""Hostile values (issue 12): the cost of a ``%`` run in a Call-ID / number pattern.

Run: ``.venv/bin/python -m bench.hostile``. Prints one row per number of ``%`` signs: the time
to match the issue's pattern (``%%%...%#``, no ``#`` in any Call-ID) against three active
calls' Call-IDs with the old backtracking regex (the baseline, measured in the same run and
only up to 7 signs: it grows ~10x per sign on these Call-IDs) and with the linear matchers now used by
``listActiveCalls`` (``api.legacy.tasks_active``) and by row scopes (``cdr.query.patterns
.like_match``). docs/benchmarks.md ("Hostile values") records a run.
"""

from __future__ import annotations

import os
import re
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
django.setup()

from api.legacy.tasks_active import _call_id_matcher  # noqa: E402
from cdr.query.patterns import like_match  # noqa: E402

CALL_IDS = [
    "7a2b3c23f5e94c23a1b2c3d4e5f60718@pbx.alpha.example.com",
    "1-23776@127.0.0.51",
    "a84b4c76e66710@[2001:db8::1]:5060;transport=tcp",
]
OLD_UP_TO = 7  # the old regex: 63 s at 8 signs on these Call-IDs


def old_regex(pattern: str):
    """The matcher before issue 12 (each % a backtracking .*)."""
    regex = re.compile(
        "".join(".*" if part == "%" else re.escape(part) for part in re.split("(%)", pattern)),
        re.S,
    )
    return lambda call_id: regex.fullmatch(call_id) is not None


def seconds(match, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        for call_id in CALL_IDS:
            assert not match(call_id)
    return (time.perf_counter() - start) / runs


def main() -> None:
    print(f"{'% signs':>8} {'old regex':>12} {'listActiveCalls':>16} {'like_match':>12}")
    for signs in (2, 4, 5, 6, 7, 8, 9, 12, 40, 200, 1000):
        pattern = "%" * signs + "#"
        old = f"{seconds(old_regex(pattern), 1) * 1e3:9.1f} ms" if signs <= OLD_UP_TO else "-"
        new = seconds(_call_id_matcher(pattern), 2000) * 1e6
        twin = seconds(lambda v, p=pattern: like_match(p, v), 2000) * 1e6
        print(f"{signs:>8} {old:>12} {new:>13.1f} µs {twin:>9.1f} µs", flush=True)


if __name__ == "__main__":
    main()
