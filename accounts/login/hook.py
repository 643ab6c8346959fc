"""The custom_login hook: ``VMGUI_CUSTOM_LOGIN=package.module:function``, loaded and called.

The function has the shape of the old GUI's ``custom_login($user, $password)``: it returns a
dict with the spec's return parameters (accounts.login.answer) or ``False``/``None`` to refuse.

The old GUI's "antivirus" deleted hook scripts that called shell functions. vmgui keeps the
protection without the data loss: before importing the hook module, its source is parsed and
any shell execution (``os.system``, ``subprocess``, ``os.exec*``, ``pty``, ...) refuses the
load with a message naming the call and line, unless ``VMGUI_DISABLE_ANTIVIRUS=true``. The
admin's file is only read, never changed. As in the old GUI, only the hook module itself is
checked: shell calls moved into another module that the hook imports are the admin's decision.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import threading
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks

from accounts.login.errors import HookError

logger = logging.getLogger("vmgui.login")

SHELL_MODULES = frozenset({"subprocess", "pty", "commands", "popen2", "pexpect", "sh"})
OS_SHELL_FUNCTIONS = frozenset(
    {"system", "popen", "popen2", "popen3", "popen4", "startfile", "posix_spawn", "posix_spawnp"}
    | {f"exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
    | {f"spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
)
_USER_MESSAGE = "custom login is not available (misconfigured); ask an administrator"


@dataclass(frozen=True)
class ShellCall:
    """One shell execution found in a hook's source."""

    line: int
    call: str


def find_shell_calls(source: str, filename: str = "<hook>") -> list[ShellCall]:
    """Every shell execution in ``source``: imports of shell modules, ``os.system``-like calls."""
    tree = ast.parse(source, filename)
    os_names: set[str] = set()
    shell_names: dict[str, str] = {}
    found: list[ShellCall] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                bound = alias.asname or root
                if alias.name == "os":
                    os_names.add(bound)
                elif root in SHELL_MODULES:
                    shell_names[bound] = alias.name if alias.asname else root
                    found.append(ShellCall(node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            for alias in node.names:
                if node.module == "os" and alias.name in OS_SHELL_FUNCTIONS | {"*"}:
                    found.append(ShellCall(node.lineno, f"from os import {alias.name}"))
                elif root in SHELL_MODULES:
                    found.append(ShellCall(node.lineno, f"from {node.module} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in os_names and node.attr in OS_SHELL_FUNCTIONS:
                found.append(ShellCall(node.lineno, f"os.{node.attr}()"))
            elif node.value.id in shell_names:
                found.append(ShellCall(node.lineno, f"{shell_names[node.value.id]}.{node.attr}()"))
        elif isinstance(node, ast.Call) and node.args:
            # __import__("subprocess"), importlib.import_module("subprocess"), getattr(os, "system")
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name in ("__import__", "import_module") and args:
                if str(args[0]).split(".")[0] in SHELL_MODULES:
                    found.append(ShellCall(node.lineno, f"{name}({args[0]!r})"))
            elif name == "getattr" and len(node.args) >= 2 and args:
                target = node.args[0]
                if (
                    isinstance(target, ast.Name)
                    and target.id in os_names
                    and args[-1] in OS_SHELL_FUNCTIONS
                ):
                    found.append(ShellCall(node.lineno, f"getattr(os, {args[-1]!r})"))
    return sorted(set(found), key=lambda c: (c.line, c.call))


def _split(spec: str) -> tuple[str, str]:
    module, _, function = spec.partition(":")
    return module, function


def check_module_source(module_name: str) -> str:
    """Find the hook module's file and refuse it when it runs shell commands; returns its path."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise HookError(
            _USER_MESSAGE,
            f"custom login hook module {module_name!r} was not found "
            "(is its folder on PYTHONPATH of the vmgui service?)",
        )
    path = spec.origin
    if settings.DISABLE_ANTIVIRUS:
        return path
    if not path.endswith(".py"):
        raise HookError(
            _USER_MESSAGE,
            f"custom login hook {path}: only a .py source file can be checked for shell "
            "calls; ship the hook as source or set VMGUI_DISABLE_ANTIVIRUS=true",
        )
    try:
        with tokenize.open(path) as handle:  # honours the file's coding declaration
            source = handle.read()
        calls = find_shell_calls(source, path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise HookError(_USER_MESSAGE, f"custom login hook {path} cannot be read: {exc}") from None
    if calls:
        listed = ", ".join(f"line {c.line}: {c.call}" for c in calls)
        raise HookError(
            _USER_MESSAGE,
            f"custom login hook {path} runs shell commands ({listed}). vmgui refuses to load "
            "login hooks that execute shell commands (the old GUI's 'antivirus'); the file was "
            "not changed. Move the shell call into a separate module that the hook imports, "
            "or set VMGUI_DISABLE_ANTIVIRUS=true.",
        )
    return path


_cache: dict[tuple[str, bool], Callable[..., Any]] = {}
_lock = threading.Lock()


def load(spec: str | None = None) -> Callable[..., Any]:
    """The configured hook function (checked, imported once per process); raises HookError."""
    spec = spec if spec is not None else settings.CUSTOM_LOGIN
    if not spec:
        raise HookError(_USER_MESSAGE, "VMGUI_CUSTOM_LOGIN is not set")
    key = (spec, settings.DISABLE_ANTIVIRUS)
    with _lock:
        if key in _cache:
            return _cache[key]
        module_name, function_name = _split(spec)
        check_module_source(module_name)
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # the admin's module may raise anything at import
            raise HookError(
                _USER_MESSAGE, f"custom login hook module {module_name!r} failed to import: {exc!r}"
            ) from None
        function = getattr(module, function_name, None)
        if not callable(function):
            raise HookError(
                _USER_MESSAGE,
                f"custom login hook {spec!r}: {module_name} has no function {function_name!r}",
            )
        _cache[key] = function
        return function


def call(username: str, password: str) -> Any:
    """Call the hook like the old GUI did: ``custom_login(user, password)`` → its raw answer."""
    function = load()
    try:
        return function(username, password)
    except Exception as exc:  # the admin's code: log it, never show a traceback to the user
        logger.exception("custom login hook %s raised for user %r", settings.CUSTOM_LOGIN, username)
        raise HookError(_USER_MESSAGE, f"custom login hook raised {exc!r}") from None


def system_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check`` (and runserver/migrate) report a hook that will not load."""
    if not settings.CUSTOM_LOGIN:
        return []
    try:
        load()
    except HookError as exc:
        return [checks.Error(exc.detail, id="vmgui.login.E001")]
    return []
