"""Request rate per token (or per session user): ``VMGUI_REST_RATE`` (e.g. ``600/min``).

DRF's ``SimpleRateThrottle`` keeps the time of every request of the period in the cache and
reads, trims, pickles and writes that whole list on every request: its cost grows with the
rate (``100000/day`` is 100,000 floats a request). This throttle counts in constant time
(issue 19): one counter per token and fixed window of the period, and the sliding window's
count estimated from the current window and the previous one, weighted by the part of the
previous window that still lies within the last period (the "sliding window counter").
Counters live in the same cache as before: Redis when configured, else the host's cache
(diskcache); ``incr`` is atomic in both, and a request is judged by the count its own
increment returned, so concurrent workers never let more requests through than the budget.
"""

from __future__ import annotations

import math

from rest_framework.throttling import SimpleRateThrottle

from api.rest.models import ApiToken


class PerTokenRateThrottle(SimpleRateThrottle):
    """Each token has its own budget; a session counts per user, anonymous callers per IP."""

    scope = "rest"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window, into = divmod(now, self.duration)
        current, previous = f"{self.key}:{int(window)}", f"{self.key}:{int(window) - 1}"
        before = self.cache.get(previous, 0)
        # Counted first, then judged by the count the increment returned: two workers that
        # ask at once get two different counts, so the budget's last request goes to one of
        # them (a read, a decision and a write would let both through).
        done = self._count(current)
        # requests of the last period: this window's, and the share of the previous window's
        # that falls within the period (assumed spread evenly over that window)
        share = 1 - into / self.duration
        if before * share + done > self.num_requests:
            self._uncount(current)  # a refused request spends nothing
            self._wait = self._wait_for(done - 1, before, into)
            return False
        return True

    def _count(self, key: str) -> int:
        """This request counted in ``key`` (atomically); the window's count with it."""
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request, or its counter expired
            pass
        # counted for two periods: the next window still weighs it as its "previous"
        if self.cache.add(key, 1, timeout=2 * self.duration):
            return 1
        return self.cache.incr(key)  # another worker created it first

    def _uncount(self, key: str) -> None:
        try:
            self.cache.decr(key)
        except ValueError:  # expired meanwhile: nothing left to give back
            pass

    def _wait_for(self, done: int, before: int, into: float) -> float:
        """Seconds until one more request fits the estimate."""
        left = self.duration - into  # of this window
        if done + 1 > self.num_requests or not before:
            return left  # only the next window makes room
        # before * (1 - (into + t) / duration) + done + 1 <= num_requests
        excess = before * (1 - into / self.duration) + done + 1 - self.num_requests
        return min(left, max(excess * self.duration / before, 1.0))

    def wait(self) -> float:
        return math.ceil(getattr(self, "_wait", self.duration))
