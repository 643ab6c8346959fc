"""gunicorn configuration of ``vmgui-serve``: prometheus_client's multiprocess mode.

Loaded by the gunicorn master before it forks the workers (``--config
python:vmgui.gunicorn_conf``). Each worker is its own process with its own counters, so the
library's multiprocess mode is switched on: ``PROMETHEUS_MULTIPROC_DIR`` (default
``<VMGUI_DATA_DIR>/prometheus``) is set here, before any worker imports the library; every
worker then writes its values into files there and ``/metrics`` sums them, whichever worker
answers the scrape. The directory is emptied when the server starts (values of an earlier run
must not be added), and a worker's live gauges are dropped when it exits.
"""

from __future__ import annotations

import os
from pathlib import Path

_BASE_DIR = Path(__file__).resolve().parent.parent


def _multiproc_dir() -> Path:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if configured:
        return Path(configured)
    data_dir = os.environ.get("VMGUI_DATA_DIR", "").strip() or str(_BASE_DIR / "var")
    return Path(data_dir) / "prometheus"


MULTIPROC_DIR = _multiproc_dir()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(MULTIPROC_DIR)


def on_starting(server) -> None:
    """Start every run with no values from an earlier one."""
    MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    for stale in MULTIPROC_DIR.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A worker exited: its live gauges (api.php slots in use) no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(MULTIPROC_DIR))
