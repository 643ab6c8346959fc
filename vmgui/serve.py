"""``vmgui-serve``: run the app under gunicorn (production server, static files by whitenoise)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
    bind = os.environ.get("VMGUI_BIND", "127.0.0.1:8000")
    workers = os.environ.get("VMGUI_WORKERS", "2")
    argv = ["gunicorn", "vmgui.wsgi:application", "--bind", bind, "--workers", workers]
    os.execvp(sys.executable, [sys.executable, "-m", *argv])
