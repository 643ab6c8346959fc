"""``vmgui-serve``: run the app under gunicorn (production server, static files by whitenoise).

gunicorn logs through ``vmgui.logging.GunicornLogger``, which redacts passwords and keys from
request lines (api.php's ``password`` may come in the query string). ``VMGUI_ACCESS_LOG``:
``-`` (standard output, the default), a file path, or ``off``.
"""

import os
import sys


def gunicorn_argv() -> list[str]:
    """gunicorn's command line from VMGUI_BIND, VMGUI_WORKERS and VMGUI_ACCESS_LOG."""
    bind = os.environ.get("VMGUI_BIND", "127.0.0.1:8000")
    workers = os.environ.get("VMGUI_WORKERS", "2")
    access_log = os.environ.get("VMGUI_ACCESS_LOG", "-").strip() or "-"
    argv = ["gunicorn", "vmgui.wsgi:application", "--bind", bind, "--workers", workers]
    argv += ["--logger-class", "vmgui.logging.GunicornLogger"]
    if access_log.lower() != "off":
        argv += ["--access-logfile", access_log]
    return argv


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
    os.execvp(sys.executable, [sys.executable, "-m", *gunicorn_argv()])
