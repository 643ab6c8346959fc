"""Fixtures of the active-calls page tests: simulated sensors on loopback.

``sensors`` starts two sensor simulators (sensor 1 ``praha-edge``, sensor 2 ``brno-core``),
every call talking for minutes, and registers a third sensor whose port is closed (``ostrava``,
down). Live-listening state goes to a temporary directory; the idle reaper thread is off
unless a test turns it on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from cdr.models import Sensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.cdr.sensors.test_manager_support import closed_port


@pytest.fixture
def conf(settings, tmp_path):
    settings.LISTEN_STATE_DIR = tmp_path / "listen"
    settings.LISTEN_REAPER = False
    settings.LISTEN_MAX_PER_USER = 2
    settings.LISTEN_IDLE_SECONDS = 15
    settings.MANAGER_AES = "off"
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 1.5
    return settings


def talking_pool(n: int, seed: int, sensor_id: int) -> CallPool:
    pool = CallPool(low=n, high=n, seed=seed, id_sensors=(sensor_id,))
    now = time.time()
    for call in pool.calls:
        call.answer_at, call.end = now - 4, now + 600
    return pool


@dataclass
class Sensors:
    one: ManagerSimulator
    two: ManagerSimulator


@pytest.fixture
def sensors(db, conf):
    with (
        ManagerSimulator(pool=talking_pool(3, 21, 1)) as one,
        ManagerSimulator(pool=talking_pool(2, 22, 2)) as two,
    ):
        Sensor.objects.create(id_sensor=1, name="praha-edge", host="127.0.0.1", port=one.port)
        Sensor.objects.create(id_sensor=2, name="brno-core", host="127.0.0.1", port=two.port)
        Sensor.objects.create(id_sensor=3, name="ostrava", host="127.0.0.1", port=closed_port())
        yield Sensors(one, two)
