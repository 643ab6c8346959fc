"""The api.php concurrency cap across app hosts (VMGUI_REDIS_URL): one count for every host,
leases of a lost host expire, and a Redis outage falls back to the host's own slots."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from api.legacy.concurrency import (
    REDIS_KEY,
    SharedSlot,
    TooManyApiRequests,
    acquire_slot,
    release_slot,
)
from tests.redisserver import redis_server  # noqa: F401 (fixture)
from vmgui.sharedstate import redis_client


def test_two_hosts_share_one_cap_through_redis(redis_server, tmp_path):  # noqa: F811
    host_a, host_b = tmp_path / "a", tmp_path / "b"  # each host's own lock directory
    with override_settings(REDIS_URL=redis_server.url):
        first = acquire_slot(2, host_a)
        second = acquire_slot(2, host_b)
        assert isinstance(first, SharedSlot) and isinstance(second, SharedSlot)
        with pytest.raises(TooManyApiRequests, match=r"limit 2"):
            acquire_slot(2, host_a)
        with pytest.raises(TooManyApiRequests):
            acquire_slot(2, host_b)
        release_slot(first)
        third = acquire_slot(2, host_b)
        assert redis_client().zcard(REDIS_KEY) == 2
        release_slot(second)
        release_slot(third)
        assert redis_client().zcard(REDIS_KEY) == 0
    # No lock file was used: the hosts counted in Redis only.
    assert not host_a.exists() and not host_b.exists()


def test_without_redis_each_host_counts_its_own_slots(tmp_path):
    host_a, host_b = tmp_path / "a", tmp_path / "b"
    first, second = acquire_slot(1, host_a), acquire_slot(1, host_b)
    assert isinstance(first, int) and isinstance(second, int)
    release_slot(first)
    release_slot(second)


def test_the_lease_of_a_lost_host_expires(redis_server, tmp_path):  # noqa: F811
    with override_settings(REDIS_URL=redis_server.url, API_SLOT_LEASE_SECONDS=1):
        acquire_slot(1, tmp_path)  # never released: its host "died"
        with pytest.raises(TooManyApiRequests):
            acquire_slot(1, tmp_path)
        time.sleep(1.2)
        release_slot(acquire_slot(1, tmp_path))


def test_a_redis_outage_falls_back_to_the_hosts_own_slots(redis_server, tmp_path, caplog):  # noqa: F811
    url = redis_server.url
    redis_server.stop()
    with override_settings(REDIS_URL=url):
        slot = acquire_slot(1, tmp_path)
        assert isinstance(slot, int)  # a file slot
        with pytest.raises(TooManyApiRequests):
            acquire_slot(1, tmp_path)
        release_slot(slot)
    assert "Redis unavailable" in caplog.text
