"""vmgui.wsgi sets the garbage collector for a server process: the loaded app (views included)
is frozen, the young generations are collected after an answer is sent instead of inside a
request, and the process serves requests as before (docs/benchmarks.md, "Eighth round")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import gc, io, json
import vmgui.wsgi
from api.legacy import api_php
from django.contrib.auth import models as auth_models

# gc.get_objects() lists the collector's generations, not the frozen objects.
tracked = {id(o) for o in gc.get_objects()}

def serve():
    status = []
    body = vmgui.wsgi.application({
        "REQUEST_METHOD": "GET", "PATH_INFO": "/php/api.php",
        "QUERY_STRING": "task=getVoipCalls", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "HTTP_HOST": "localhost", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
    }, lambda s, h: status.append(s))
    content = b"".join(body)
    before_close = gc.get_count()[0]
    body.close()  # what the server does once the answer is written: request_finished
    return status[0], json.loads(content), before_close, gc.get_count()[0]

serve()
kept = [[n] for n in range(2 * vmgui.wsgi.DUE)]  # young objects, more than Python waits for
status, answer, young_before_close, young_after_close = serve()
print("RESULT=" + json.dumps({
    "frozen": gc.get_freeze_count(),
    "threshold": gc.get_threshold(),
    "view_tracked": id(api_php.__dict__) in tracked,
    "model_tracked": id(auth_models.__dict__) in tracked,
    "status": status,
    "answer": answer,
    "young_before_close": young_before_close,
    "young_after_close": young_after_close,
}))
"""


def test_it_freezes_the_app_and_collects_after_the_answer_is_sent(tmp_path):
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VMGUI_")},
        "PYTHONPATH": str(settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "vmgui.settings",
        "VMGUI_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VMGUI_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.split("RESULT=", 1)[1])
    assert result["frozen"] > 10_000
    # The URL map's views were imported before the freeze, not at the first request.
    assert result["view_tracked"] is False
    assert result["model_tracked"] is False
    # Inside the request nothing was collected: the young objects were still counted when
    # the answer was complete, and collected once it was sent.
    assert result["threshold"] == [50_000, 10, 10]
    assert result["young_before_close"] >= 1400
    assert result["young_after_close"] < 100
    assert result["status"].startswith("200")
    assert result["answer"]["success"] is False
    assert "user" in result["answer"]["errors"]["reason"]
