"""WSGI application of the throughput ceiling in ``bench.carrier`` (not part of vmgui).

Each request to ``/bench/floor`` first runs the statements in ``VMGUI_BENCH_FLOOR_SQL`` (a JSON
list: the data statements of api.php's one-row answer, captured in-process) on the worker's
database connection, fetching every row on the driver's own cursor, then is answered by
vmgui's trivial view (``/api.php`` without a task: an error answer, no database). Served by
the same gunicorn set-up as vmgui, its requests/s is the issue's floor under load: the HTTP
floor plus the answer's SQL, with none of vmgui's own work. No face can serve that SQL faster.
Any other path is vmgui itself.
"""

from __future__ import annotations

import json
import os

from django.db import connection

from bench.carrier import Floor
from vmgui.wsgi import application as vmgui_application

STATEMENTS: list[str] = json.loads(os.environ.get("VMGUI_BENCH_FLOOR_SQL", "[]"))


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/floor":
        connection.ensure_connection()
        Floor(connection.connection).run(STATEMENTS)  # the driver's cursor, as a script uses it
        environ = {**environ, "PATH_INFO": "/api.php"}
    return vmgui_application(environ, start_response)
