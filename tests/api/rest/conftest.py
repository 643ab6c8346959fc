"""REST API tests: each test starts with empty request budgets (the throttle counts in the
cache, which outlives a test's database rollback, and token ids are reused after it)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_request_budgets():
    cache.clear()
    yield
    cache.clear()
