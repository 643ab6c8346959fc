"""VMGUI_DATABASE_REPLICA_URL: the sniffer's tables are read from the replica (every query of
the engine, raw SQL included), vmgui's own tables and every write stay on the primary, and
``primary_reads()`` pins a block to the primary.

Two real databases stand in for a primary and its replica (two SQLite files, or two
databases on the test MariaDB in the MariaDB pass). They deliberately hold different calls,
so every answer shows which database it came from; a real replica would hold the same rows
a moment later (docs/deployment.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import is_mysql

PREPARE = """
import datetime as dt
from django.core.management import call_command
from cdr.ddl import SchemaOptions, create_schema
from tests.factories import make_call
call_command("migrate", "--noinput", verbosity=0)
create_schema(SchemaOptions(ipv6=False, ms=True, partitioned=False))
make_call("2026-11-26 10:00:00", caller="{caller}", call_id="{call_id}", ID={cdr_id})
"""

PROBE = """
import json
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from cdr.query import engine
from cdr.query.engine import CdrFilter
from cdr.query.scope import CdrScope
from vmgui.dbrouter import primary_reads

user = get_user_model().objects.create_superuser("router", "r@x", "router-pass-1")
client = Client()
api = client.post("/php/api.php", {
    "task": "getVoipCalls", "user": "router", "password": "router-pass-1",
    "params": json.dumps({"startTime": "2026-11-26", "startTimeTo": "2026-11-27"}),
})
client.force_login(user)
rest = client.get("/api/v1/cdrs/", {"date_from": "2026-11-26", "date_to": "2026-11-27"})
f = CdrFilter()
with primary_reads():
    pinned = [r["caller"] for r in engine.fetch_rows(f, CdrScope.unrestricted("t"))]
with connections["replica"].cursor() as cursor:
    cursor.execute("SELECT COUNT(*) FROM auth_user")
    users_on_replica = cursor.fetchone()[0]
print("RESULT=" + json.dumps({
    "api": json.loads(api.content), "rest": rest.json(), "pinned": pinned,
    "users_on_replica": users_on_replica,
}, default=str))
"""


def _databases(root: Path) -> tuple[str, str]:
    """URLs of a fresh primary and a fresh replica database (SQLite files under ``root``,
    pytest's temporary directory, so nothing is left in the project's data directory)."""
    if not is_mysql():
        return f"sqlite:///{root / 'primary.sqlite3'}", f"sqlite:///{root / 'replica.sqlite3'}"
    db = settings.DATABASES["default"]
    names = [f"vmgui_router_{kind}_{uuid.uuid4().hex[:6]}" for kind in ("primary", "replica")]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    base = f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}"
    return f"{base}/{names[0]}", f"{base}/{names[1]}"


def _shell(code: str, **env: str) -> str:
    inherited = {k: v for k, v in os.environ.items() if k != "VMGUI_DATABASE_REPLICA_URL"}
    environment = {
        **inherited,
        "PYTHONPATH": str(settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "vmgui.settings",
        "VMGUI_TIME_ZONE": "UTC",
        **env,
    }
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def primary_and_replica(db, tmp_path):
    primary, replica = _databases(tmp_path)
    _shell(
        PREPARE.format(caller="222000", call_id="on-primary@x", cdr_id=5),
        VMGUI_DATABASE_URL=primary,
    )
    _shell(
        PREPARE.format(caller="111000", call_id="on-replica@x", cdr_id=7),
        VMGUI_DATABASE_URL=replica,
    )
    yield primary, replica
    if is_mysql():
        with connection.cursor() as cursor:
            for url in (primary, replica):
                cursor.execute(f"DROP DATABASE IF EXISTS `{url.rsplit('/', 1)[1]}`")


def test_sniffer_reads_go_to_the_replica_and_everything_else_to_the_primary(primary_and_replica):
    primary, replica = primary_and_replica
    out = _shell(PROBE, VMGUI_DATABASE_URL=primary, VMGUI_DATABASE_REPLICA_URL=replica)
    result = json.loads(out.split("RESULT=", 1)[1])
    # api.php: the user (a vmgui table) was found on the primary; the calls are the replica's,
    # with their cdr_next columns (Call-ID) read from the replica too.
    api = result["api"]
    assert api["success"] is True, api
    assert [(c["caller"], c["callId"]) for c in api["cdr"]] == [("111000", "on-replica@x")]
    rest = result["rest"]["results"]
    assert [(c["caller"], c["fbasename"]) for c in rest] == [("111000", "on-replica@x")]
    assert result["pinned"] == ["222000"]
    # The new user was written to the primary only.
    assert result["users_on_replica"] == 0
