"""Hypothesis profiles of the property-based tests (imported by each such test module).

``ci`` (the default, used by ``make test``): few examples, derandomized (the same examples on
every run, so a failure is reproducible and CI is not flaky), a per-example deadline.
``long``: many random examples, for a hunt before a release:
``VMGUI_HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/api/legacy/test_properties.py``
(docs/security-inputs.md). No example database is written into the work tree.
"""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, settings

# The fixtures (database rows, a logged-in client) are made once per test and shared by its
# examples on purpose: every example only reads, or adds rows it then checks for itself.
_COMMON = {
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "deadline": dt.timedelta(seconds=10),
}
settings.register_profile("ci", max_examples=30, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=400, **_COMMON)

PROFILE = os.environ.get("VMGUI_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
