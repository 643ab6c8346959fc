"""The REST request budget counts in constant time (a sliding window counter, issue 19)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from api.rest.throttling import PerTokenRateThrottle

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def throttle(rate: str, clock: Clock) -> PerTokenRateThrottle:
    t = PerTokenRateThrottle()
    t.rate = rate
    t.num_requests, t.duration = t.parse_rate(rate)
    t.timer = clock
    return t


USER = SimpleNamespace(auth=None, user=SimpleNamespace(is_authenticated=True, pk=7))


def asks(rate: str, clock: Clock, n: int = 1) -> list[bool]:
    return [throttle(rate, clock).allow_request(USER, None) for _ in range(n)]


def test_a_full_budget_refuses_until_the_previous_window_has_slid_out():
    clock = Clock(600 * 1000 + 50)  # 50 s into a minute window
    assert asks("10/min", clock, 11) == [True] * 10 + [False]
    clock.now += 11  # 1 s into the next window: the previous 10 still weigh 59/60
    refused = throttle("10/min", clock)
    assert refused.allow_request(USER, None) is False
    assert refused.wait() == 5  # (10 * 59/60 + 1 - 10) / 10 per second → 5 s
    clock.now += 9  # 10 s in: 10 * 50/60 + 1 = 9.3 fits
    assert asks("10/min", clock, 2) == [True, False]  # 10 * 50/60 + 1 + 1 > 10


def test_the_budget_is_a_counter_whatever_the_rate():
    """DRF's throttle keeps every request time of the period; this one two small counters."""
    clock = Clock(86400 * 100 + 10)
    assert asks("100000/day", clock, 300) == [True] * 300
    key = throttle("100000/day", clock).get_cache_key(USER, None)
    assert cache.get(f"{key}:100") == 300
    assert [v for v in (cache.get(f"{key}:99"), cache.get(f"{key}:101")) if v] == []


def test_the_wait_is_the_rest_of_the_window_when_this_window_alone_is_full():
    clock = Clock(60 * 5000 + 20)
    asks("3/min", clock, 3)
    refused = throttle("3/min", clock)
    assert refused.allow_request(USER, None) is False
    assert refused.wait() == 40


def test_each_user_and_token_has_its_own_budget():
    clock = Clock(60 * 7000 + 1)
    other = SimpleNamespace(auth=None, user=SimpleNamespace(is_authenticated=True, pk=8))
    assert asks("2/min", clock, 3) == [True, True, False]
    assert throttle("2/min", clock).allow_request(other, None) is True
