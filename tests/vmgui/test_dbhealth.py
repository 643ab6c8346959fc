"""vmgui.dbhealth: the per-request database ping only for a connection idle for a while.

The requests are the real signals a WSGI request sends (with Django's own
close_old_connections, which the test client disconnects), on the real test database.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, connection

from tests.conftest import is_mysql, plain_mysql_connection


@pytest.fixture
def pings(transactional_db, monkeypatch):
    """The number of health-check pings of the default connection."""
    count = [0]
    real = connection.is_usable

    def counting() -> bool:
        count[0] += 1
        return real()

    monkeypatch.setattr(connection, "is_usable", counting)
    return count


def _request() -> list:
    """One request's life: started, a query, finished. Returns the query's rows."""
    request_started.send(sender=None)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return [tuple(row) for row in cursor.fetchall()]
    finally:
        request_finished.send(sender=None)


def _stale(seconds: float = 5.0) -> None:
    """As if the connection's last request had finished ``seconds`` ago."""
    connection._vmgui_healthy_at -= seconds


def test_it_skips_the_ping_for_a_connection_a_request_just_used(pings):
    _request()  # opens the connection: new connections are not pinged
    pings[0] = 0
    for _ in range(5):
        _request()
    assert pings[0] == 0


def test_it_does_not_depend_on_the_order_of_the_request_signal_receivers(pings):
    from django.db import close_old_connections

    # what Django's test client does around each of its requests: Django's receiver is
    # reconnected last, after every receiver vmgui connected
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
        signal.connect(close_old_connections)
    _request()
    pings[0] = 0
    for _ in range(3):
        _request()
    assert pings[0] == 0
    _stale()
    _request()
    assert pings[0] == 1


def test_it_pings_a_connection_idle_for_longer_than_the_window(pings, settings):
    settings.DB_HEALTH_CHECK_IDLE_MS = 1000
    _request()
    pings[0] = 0
    _stale()
    _request()
    assert pings[0] == 1
    _request()  # that request proved it healthy again
    assert pings[0] == 1


def test_a_window_of_zero_pings_before_every_request_as_django_does(pings, settings):
    settings.DB_HEALTH_CHECK_IDLE_MS = 0
    _request()
    pings[0] = 0
    for _ in range(3):
        _request()
    assert pings[0] == 3


def test_a_connection_whose_request_saw_a_database_error_is_checked_before_reuse(pings):
    _request()
    pings[0] = 0
    request_started.send(sender=None)
    with pytest.raises(Exception), connection.cursor() as cursor:  # noqa: B017, PT011
        cursor.execute("SELECT * FROM no_such_table_here")
    assert pings[0] == 0
    request_finished.send(sender=None)
    # Django checks it when that request ends; whether the next request pings again depends
    # on which request_finished receiver ran first (both are safe): at least one check
    assert _request() == [(1,)]
    assert pings[0] >= 1


@pytest.mark.mysql
def test_a_connection_killed_while_idle_is_reopened_without_failing_a_request(pings):
    assert is_mysql()
    _request()
    _kill_server_side()
    _stale()
    assert _request() == [(1,)]  # pinged, found dead, reopened


@pytest.mark.mysql
def test_a_connection_killed_moments_after_a_request_fails_one_request_then_recovers(pings):
    """The trade documented in vmgui.dbhealth: no ping within the window."""
    _request()
    _kill_server_side()
    with pytest.raises(OperationalError):
        _request()
    assert _request() == [(1,)]  # Django dropped the broken connection; a new one works


def _kill_server_side() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (thread_id,) = cursor.fetchone()
    other = plain_mysql_connection()
    try:
        other.cursor().execute(f"KILL CONNECTION {int(thread_id)}")
    finally:
        other.close()
