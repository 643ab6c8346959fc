"""Shared helpers of the GUI tests: users with exact flags, calls with real media in a spool.

``gui_user(name, flags, **restrictions)`` is a local account whose group grants exactly
``flags``; ``media_calls`` (fixture) writes two answered G.711 calls with real pcaps into a
temporary spool (``SPOOL_DIR`` points there for the test) and returns their ``DemoCall``s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest
from django.test import Client, override_settings

from tests.cdr.media.test_media_support import PASSWORD, media_user, tone_spec, write_calls

ALL_MEDIA = (
    "can_cdr",
    "can_pcap",
    "can_download_audio",
    "can_play_audio",
    "can_graphs",
    "can_activecalls",
    "can_listen_active_call",
)
T0 = dt.datetime(2026, 11, 26, 9, 0, 0)


def gui_user(username: str, flags: Iterable[str] = ("can_cdr",), **restrictions: str):
    """A local account whose group grants exactly ``flags`` (and these restrictions)."""
    return media_user(username, flags=tuple(flags), **restrictions)


def signed_in(username: str, flags: Iterable[str] = ("can_cdr",), **restrictions: str) -> Client:
    """A test client signed in as a new ``gui_user``."""
    user = gui_user(username, flags, **restrictions)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def media_calls(db, tmp_path):
    """Two answered calls with real pcaps (tone 1 kHz / 440 Hz) in a temporary tar spool."""
    specs = [
        tone_spec("gui-a@alpha", T0, caller="+420601111111", called="2002"),
        tone_spec("gui-b@alpha", T0 + dt.timedelta(minutes=5), caller="1001", seed=9),
    ]
    with override_settings(SPOOL_DIR=tmp_path):
        yield write_calls(tmp_path, specs)


__all__ = ["ALL_MEDIA", "PASSWORD", "T0", "gui_user", "media_calls", "signed_in"]
