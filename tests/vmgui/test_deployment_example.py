"""The example configuration of docs/deployment.md is a working one: with its values (the
database URLs pointed at local stand-ins) `manage.py check --deploy` warns only about HSTS
preload, and every variable it sets is documented in the README."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

EXAMPLE = settings.BASE_DIR / "docs" / "deployment" / "vmgui.env"


def _values() -> dict[str, str]:
    out = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            out[name] = value
    return out


def test_the_example_configuration_passes_the_deployment_checks(tmp_path):
    values = _values()
    # Local stand-ins for the example's servers (same engine for primary and replica).
    values["VMGUI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'primary.sqlite3'}"
    values["VMGUI_DATABASE_REPLICA_URL"] = f"sqlite:///{tmp_path / 'replica.sqlite3'}"
    values["VMGUI_DATA_DIR"] = str(tmp_path / "data")
    values["VMGUI_SPOOL_DIR"] = str(tmp_path / "spool")
    # nothing of this test process's own environment (VMGUI_*, or the browser tests' async
    # switch, which the deployment checks rightly refuse)
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VMGUI_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    done = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "check",
            "--deploy",
        ],
        env={**inherited, "DJANGO_SETTINGS_MODULE": "vmgui.settings", **values},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Only HSTS preload is left: it is for registrable domains, not for vmgui.example.com.
    warnings = {
        line.split(")", 1)[0] + ")" for line in done.stderr.splitlines() if line.startswith("?: (")
    }
    assert warnings == {"?: (security.W021)"}, done.stderr


def test_every_variable_of_the_example_is_documented_in_the_readme():
    readme = (settings.BASE_DIR / "README.md").read_text()
    missing = [name for name in _values() if f"`{name}`" not in readme]
    assert missing == []
