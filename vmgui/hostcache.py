"""The cache of one host without Redis: diskcache's SQLite files, kept open between requests.

Django closes every cache at the end of each request (``request_finished`` →
``close_caches``). For diskcache that closes the SQLite connection of every shard, and the
next request opens them again: about 2 ms a request, more than the rest of a one-row api.php
answer (measured: docs/benchmarks.md, issue 19). A worker keeps its connections instead, as
it keeps its database connection (diskcache opens new ones in a forked child by itself).
"""

from __future__ import annotations

from diskcache import DjangoCache


class HostCache(DjangoCache):
    """``diskcache.DjangoCache`` whose connections outlive the request."""

    def close(self, **kwargs) -> None:
        """Kept open: closed with the process."""
