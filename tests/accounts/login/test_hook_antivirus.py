"""The old GUI's "antivirus", without its data loss: a hook module that runs shell commands is
refused at load time naming the call, unless VMGUI_DISABLE_ANTIVIRUS; the file is never touched."""

from __future__ import annotations

import hashlib
import itertools
import textwrap

import pytest
from django.test import Client

from accounts.login import hook
from accounts.login.errors import HookError
from accounts.models import AuditEvent
from tests.accounts.login.conftest import error_of, events, sign_in

pytestmark = pytest.mark.django_db
_names = itertools.count()

SHELL_HOOKS = {
    "os.system()": """
        import os
        def custom_login(user, password):
            os.system("logger login " + user)
            return {"username": user, "id": 5}
    """,
    "subprocess.check_output()": """
        import subprocess as sp
        def custom_login(user, password):
            out = sp.check_output(["ldapwhoami", "-D", user, "-w", password])
            return {"username": user, "id": 5}
    """,
    "from subprocess import run": """
        from subprocess import run
        def custom_login(user, password):
            return run(["true"]) and {"username": user, "id": 5}
    """,
    "os.execvp()": """
        import os as o
        def custom_login(user, password):
            o.execvp("sh", ["sh"])
    """,
    "__import__('subprocess')": """
        def custom_login(user, password):
            __import__("subprocess").call("true")
    """,
    "getattr(os, 'popen')": """
        import os
        def custom_login(user, password):
            getattr(os, "popen")("id")
    """,
    "import pty": """
        import pty
        def custom_login(user, password):
            return False
    """,
}


def write_hook(tmp_path, monkeypatch, source: str) -> tuple[str, str]:
    name = f"site_hook_{next(_names)}_{tmp_path.name.replace('-', '_')}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}:custom_login", str(path)


@pytest.mark.parametrize("call", sorted(SHELL_HOOKS))
def test_a_hook_calling_the_shell_is_refused_naming_the_call(tmp_path, monkeypatch, settings, call):
    spec, path = write_hook(tmp_path, monkeypatch, SHELL_HOOKS[call])
    before = hashlib.sha256(open(path, "rb").read()).hexdigest()
    settings.CUSTOM_LOGIN = spec
    with pytest.raises(HookError) as caught:
        hook.load()
    assert call in caught.value.detail
    assert (
        "VMGUI_DISABLE_ANTIVIRUS" in caught.value.detail
        and "separate module" in caught.value.detail
    )
    assert "line " in caught.value.detail
    # never deleted or modified
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == before


def test_the_login_page_says_custom_login_is_misconfigured_and_audits_why(
    tmp_path, monkeypatch, settings
):
    settings.CUSTOM_LOGIN, path = write_hook(tmp_path, monkeypatch, SHELL_HOOKS["os.system()"])
    response = sign_in(Client(), "alice", "pw")
    assert (
        error_of(response) == "custom login is not available (misconfigured); ask an administrator"
    )
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED, username="alice")
    assert "os.system()" in event.details["reason"]
    assert open(path).read().count("os.system") == 1


def test_the_antivirus_can_be_disabled(tmp_path, monkeypatch, settings):
    settings.CUSTOM_LOGIN, _ = write_hook(
        tmp_path,
        monkeypatch,
        """
        import subprocess
        def custom_login(user, password):
            if subprocess.run(["true"]).returncode == 0 and password == "pw":
                return {"username": user, "id": 4242}
            return False
        """,
    )
    settings.DISABLE_ANTIVIRUS = True
    response = sign_in(Client(), "zoe", "pw")
    assert response.status_code == 302


def test_shell_calls_moved_into_another_module_are_the_admins_choice(
    tmp_path, monkeypatch, settings
):
    (tmp_path / "site_shell_helpers.py").write_text(
        "import subprocess\n\ndef ok():\n    return subprocess.run(['true']).returncode == 0\n"
    )
    settings.CUSTOM_LOGIN, _ = write_hook(
        tmp_path,
        monkeypatch,
        """
        import site_shell_helpers
        def custom_login(user, password):
            return site_shell_helpers.ok() and {"username": user, "id": 4343}
        """,
    )
    assert sign_in(Client(), "yan", "pw").status_code == 302


def test_ordinary_os_use_is_not_shell_execution():
    source = (
        "import os\nimport os.path\nHOME = os.environ.get('HOME')\nP = os.path.join('a', 'b')\n"
    )
    assert hook.find_shell_calls(source) == []
