"""Shared set-up of the share link tests (this module has no tests of its own).

* ``spool``: a spool directory for the test (settings.SPOOL_DIR).
* ``shared_call``: one real generated call (G.711, 1 kHz tone from the caller, 440 Hz from
  the called party; caller 10.1.0.1, called 10.2.0.2) written into the spool like the
  sniffer writes it, with its CDR rows.
* ``sharer``: a user allowed to see calls, play/download audio and PCAPs.
* ``make_share``: a share made through the service, returning (share, token, password).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sharing import service
from tests.cdr.media.test_media_support import DemoCall, media_user, tone_spec, write_calls

CALLER_IP, CALLED_IP = "10.1.0.1", "10.2.0.2"
CALL_ID = "share-call-1@10.1.0.1"
CALLDATE = dt.datetime(2026, 11, 27, 9, 30, 0)
ALL_FLAGS = ("can_cdr", "can_pcap", "can_download_audio", "can_graphs")


@pytest.fixture
def spool(tmp_path: Path, settings) -> Path:
    settings.SPOOL_DIR = tmp_path / "spool"
    return settings.SPOOL_DIR


@pytest.fixture
def shared_call(spool, db) -> DemoCall:
    (call,) = write_calls(spool, [tone_spec(CALL_ID, CALLDATE)])
    return call


@pytest.fixture
def sharer(db):
    return media_user("sharer", flags=ALL_FLAGS)


def make_share(user, call: DemoCall, kind: str = "share_link", **options):
    """(share, token, generated password) of a new share of ``call`` by ``user``."""
    new = service.create(user, kind, cdr_ids=[call.cdr_id], **options)
    return new.share, new.token, new.password


def share_path(token: str) -> str:
    return f"/share/{token}"
