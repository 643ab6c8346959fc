"""The sniffer's naive wall-clock times in a non-UTC zone, end to end in a separate process.

VMGUI_TIME_ZONE is read once at start-up (it sets the database connection's TIME_ZONE), so the
check runs a fresh Django process with VMGUI_TIME_ZONE=Europe/Prague against its own database
on the same backend as this test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

SCRIPT = r"""
import json
from django.db import connection
from django.test import Client
from cdr.ddl import SchemaOptions, create_schema
import datetime as dt
create_schema(SchemaOptions(partition_from=dt.date(2026, 11, 20), partition_days=15))
qn = connection.ops.quote_name
with connection.cursor() as c:
    # Exactly what the sniffer stores: a naive local wall-clock text.
    c.execute(f"INSERT INTO {qn('cdr')} ({qn('ID')}, calldate, callend, caller, called) "
              "VALUES (1, '2026-11-27 10:00:00', '2026-11-27 10:00:30', '100', '200')")
    c.execute(f"INSERT INTO {qn('cdr_next')} ({qn('cdr_ID')}, calldate, fbasename) "
              "VALUES (1, '2026-11-27 10:00:00', 'tz@x')")
def calls(start, end):
    params = json.dumps({"startTime": start, "startTimeTo": end})
    body = json.loads(Client().get("/php/api.php", {"task": "getVoipCalls", "params": params}).content)
    return [(r["cdrId"], r["calldate"], r["callend"]) for r in body["cdr"]]
print(json.dumps({
    "local": calls("2026-11-27 09:59:59", "2026-11-27 10:00:01"),
    "utc_z": calls("2026-11-27T08:59:59Z", "2026-11-27T09:00:01Z"),
    "wrong_hour": calls("2026-11-27 08:59:59", "2026-11-27 09:00:01"),
}))
"""


@pytest.mark.django_db(transaction=True)
def test_naive_sniffer_times_are_read_and_written_in_the_configured_zone(tmp_path):
    env = {**os.environ, "VMGUI_TIME_ZONE": "Europe/Prague", "VMGUI_API_DISABLE_AUTH": "1"}
    env["VMGUI_DATA_DIR"] = str(tmp_path)
    db = settings.DATABASES["default"]
    if connection.vendor == "mysql":
        name = f"{connection.settings_dict['NAME']}_tz"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        env["VMGUI_DATABASE_URL"] = (
            f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{name}"
        )
    else:
        env["VMGUI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'tz.sqlite3'}"
    try:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, capture_output=True)
        done = subprocess.run(
            [*manage, "shell", "-c", SCRIPT], env=env, check=True, capture_output=True, text=True
        )
    finally:
        if connection.vendor == "mysql":
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row = [1, "2026-11-27 10:00:00", "2026-11-27 10:00:30"]
    assert result["local"] == [row]  # the stored text comes back unchanged
    assert result["utc_z"] == [row]  # 09:00Z is 10:00 in Prague (CET)
    assert result["wrong_hour"] == []
