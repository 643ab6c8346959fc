"""Passwords (api.php ``password`` in the query string, sql.php ``pass``) and the wav.php
``key`` never reach vmgui's logs: gunicorn's access and error logs (as ``vmgui-serve`` runs
it), Django's error logs and vmgui's own request logging, tracebacks included."""

from __future__ import annotations

import io
import json
import logging
import textwrap
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.api.legacy.test_api_php_concurrency import Server
from vmgui import serve
from vmgui.logging import REDACTED, redact, redact_record

SECRET = "Hunter2-Tajne-heslo"

# The server's WSGI wrapper: getVoipCalls fails quoting the URL it was called with (as a
# careless error message would), and ?crash=wsgi fails outside Django (gunicorn's own
# "Error handling request <uri>" log).
FAILING_WSGI = textwrap.dedent(
    """
    import os

    from vmgui.wsgi import application as django_application
    from api.legacy import api_php

    def _fail(params, principal):
        raise RuntimeError(f"cannot answer {CURRENT[0]}")

    api_php.TASKS["getVoipCalls"] = _fail
    CURRENT = [""]

    def application(environ, start_response):
        CURRENT[0] = environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", "")
        if "crash=wsgi" in environ.get("QUERY_STRING", ""):
            raise RuntimeError("crashed on " + CURRENT[0])
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)
        return django_application(environ, start)
    """
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /php/api.php?task=x&user=u&password=p%C3%A9 HTTP/1.1", "&password=[redacted] "),
        ("/php/model/sql.php?module=bypass_login&user=u&pass=pw", "&pass=[redacted]"),
        ("/php/wav.php?id=1&key=abc", "&key=[redacted]"),
        ("Referer: http://h/x?a=1%26password%3Dpw", "%26password%3D[redacted]"),
        ('{"user": "u", "password": "p\\"w"}', '"password": "[redacted]"'),
        ("{'pass': 'pw'}", "'pass': '[redacted]'"),
        ("params[password]=pw", "params[password]=[redacted]"),
        ("PASSWORD=pw", "PASSWORD=[redacted]"),
    ],
)
def test_it_redacts_secret_values_in_every_syntax(text, expected):
    assert expected in redact(text)
    assert "pw" not in redact(text).replace("[redacted]", "") or "pw" not in text


@pytest.mark.parametrize("text", ["monkey=1 bypass=2 passport=3", "sort key: calldate", ""])
def test_it_leaves_other_words_alone(text):
    assert redact(text) == text


def test_a_logged_traceback_quoting_the_url_is_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise ValueError(f"bad request /php/api.php?user=a&password={SECRET}")
        except ValueError:
            log.exception("api.php failed for %s", f"/php/api.php?password={SECRET}")
        log.info("wav.php %s", {"key": SECRET, "id": 3})
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text
    assert text.count(REDACTED) >= 3 and "ValueError: bad request" in text


def test_every_record_of_the_process_goes_through_the_redaction():
    """Django's set-up (LOGGING_CONFIG) installed the factory: any logger, any handler."""
    record = logging.getLogger("django.server").makeRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"GET /php/api.php?password=%s" 200',
        (SECRET,),
        None,
    )
    factory_record = logging.getLogRecordFactory()(
        "x", logging.INFO, __file__, 1, "GET /x?pass=%s", (SECRET,), None
    )
    assert SECRET not in factory_record.getMessage()
    assert SECRET not in redact_record(record).getMessage()


def test_serve_uses_the_redacting_logger_and_an_access_log(monkeypatch):
    monkeypatch.delenv("VMGUI_ACCESS_LOG", raising=False)
    argv = serve.gunicorn_argv()
    assert argv[argv.index("--logger-class") + 1] == "vmgui.logging.GunicornLogger"
    assert argv[argv.index("--access-logfile") + 1] == "-"
    monkeypatch.setenv("VMGUI_ACCESS_LOG", "off")
    assert "--access-logfile" not in serve.gunicorn_argv()


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.delenv("VMGUI_ACCESS_LOG", raising=False)
    argv = serve.gunicorn_argv()
    srv = Server(
        tmp_path,
        workers=2,
        limit=0,
        env={"VMGUI_API_DISABLE_AUTH": "0", "VMGUI_LOG_LEVEL": "INFO"},
        args=tuple(argv[argv.index("--logger-class") :]),
        manage=(("migrate", "--no-input"), ("create_sniffer_schema",)),
        wsgi=FAILING_WSGI,
    )
    yield srv
    srv.stop()


def _get(server: Server, path: str, fields: dict) -> tuple[int, bytes]:
    url = f"http://127.0.0.1:{server.port}{path}?{urlencode(fields)}"
    request = urllib.request.Request(url, headers={"Referer": url})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_gunicorn_and_django_logs_never_write_the_password(server):
    api = {"task": "getVoipCalls", "user": "nobody", "password": SECRET, "params": "{}"}
    status, body = _get(server, "/php/api.php", api)  # refused: wrong user (audited, logged)
    assert status == 200 and json.loads(body)["success"] is False
    status, _ = _get(server, "/php/model/sql.php", {"module": "bypass_login", "pass": SECRET})
    assert status == 200
    status, _ = _get(server, "/php/wav.php", {"id": 1, "key": SECRET})
    assert status == 200
    status, _ = _get(server, "/php/api.php", {**api, "crash": "wsgi"})
    assert status == 500  # gunicorn's own error page, and its error log
    server.stop()
    log = (server.root / "gunicorn.log").read_text()
    assert "GET /php/api.php?task=getVoipCalls&user=nobody&password=[redacted]" in log
    assert "pass=[redacted]" in log and "key=[redacted]" in log
    assert "Error handling request GET /php/api.php?task=getVoipCalls" in log
    assert SECRET not in log


def test_a_failing_task_logs_its_traceback_without_the_password(server, tmp_path):
    """vmgui's own error log (api.php's logger.exception) quotes the URL: redacted."""
    subprocess_env = server.env
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model;"
            f"get_user_model().objects.create_user('ops', password='{SECRET}')",
        ],
        env={**subprocess_env, "DJANGO_SETTINGS_MODULE": "vmgui.settings"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    api = {"task": "getVoipCalls", "user": "ops", "password": SECRET, "params": "{}"}
    status, body = _get(server, "/php/api.php", api)
    assert status == 200
    assert "internal error" in json.loads(body)["errors"]["reason"]
    server.stop()
    log = (server.root / "gunicorn.log").read_text()
    assert "RuntimeError: cannot answer /php/api.php?" in log
    assert "password=[redacted]" in log and SECRET not in log
