"""Fixtures of the /metrics tests."""

from __future__ import annotations

import pytest

from monitoring import collect
from tests.cdr.sensors.test_manager_support import closed_port
from tests.monitoring.test_metrics_support import NOW, TOKEN


@pytest.fixture
def metrics_on(settings, tmp_path, monkeypatch):
    """/metrics on with a token, no cache, no manager ports, the window ending at NOW."""
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW_IPS = []
    settings.METRICS_WINDOW_SECONDS = 300
    settings.METRICS_CACHE_SECONDS = 0
    settings.METRICS_ACTIVE_CALLS = False
    settings.DATA_DIR = tmp_path
    # Never a real manager port of this machine (a simulator may listen on 5029).
    settings.MANAGER_PORT = closed_port()
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 0.8
    monkeypatch.setattr(collect, "clock", lambda: NOW)
    return settings
