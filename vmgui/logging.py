"""Logs that never write a password: redaction of every log record vmgui's processes write.

api.php accepts ``password`` in the query string (as the legacy API does), sql.php ``pass``,
wav.php its shared ``key``: request lines carrying them reach gunicorn's access log, its
"Error handling request <uri>" messages, Django's runserver log and any message or traceback
that quotes a URL. Rather than trusting every log call, one log-record factory rewrites each
record when it is created (``install``): ``password=…``, ``pass=…``, ``pwd=…``, ``key=…`` in
URL or form syntax (also percent-encoded, as in a Referer) and ``"password": "…"`` in JSON or
Python reprs become ``[redacted]``, in the message, the traceback text and the stack text.

It is installed by Django's logging set-up (``LOGGING_CONFIG = "vmgui.logging.configure"``,
which covers manage.py, runserver and every WSGI worker) and by gunicorn's logger class
(``GunicornLogger``, used by ``vmgui-serve``), so also before the app is loaded.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

REDACTED = "[redacted]"
# Parameter names whose values are secrets (compared case-insensitively).
SECRET_NAMES = ("password", "passwd", "pass", "pwd", "key")
_NAMES = "|".join(SECRET_NAMES)
# name=value in a query string or form body (also name%3Dvalue inside an encoded URL); the
# name must not be the tail of a longer word (monkey=, bypass=)
# (params[password]= and name[]= too).
_QUERY = re.compile(
    rf"(?i)(?:(?<![A-Za-z0-9_.%\-])|(?<=%26)|(?<=%3F)|(?<=%5B))"
    rf"((?:{_NAMES})(?:\]|%5D)?(?:%5B%5D|\[\])?)(=|%3D)([^&\s\"'<>]+)"
)
# "password": "value" / 'pass': 'value' (JSON, Python reprs), percent-encoded JSON too.
_QUOTED = re.compile(
    rf"(?i)([\"']|%22|%27)((?:{_NAMES}))\1(\s*(?::|%3A)\s*)([\"']|%22|%27)(.*?)(?<!\\)\4"
)


def redact(text: str) -> str:
    """``text`` with the value of every secret parameter replaced by ``[redacted]``."""
    if not text:
        return text
    text = _QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _QUOTED.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{REDACTED}{m.group(4)}"
        ),
        text,
    )


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite ``record`` in place when its message, traceback or stack holds a secret."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler reports it as usual
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(text)
        if cleaned != text:
            # Formatters print exc_text when it is set instead of formatting exc_info again.
            record.exc_text = cleaned
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_installed = False


def install() -> None:
    """Make every log record of this process go through ``redact_record`` (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


def configure(config: dict[str, Any]) -> None:
    """Django's ``LOGGING_CONFIG``: the redaction, then ``dictConfig(LOGGING)`` as usual."""
    install()
    if config:
        logging.config.dictConfig(config)


try:
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:  # gunicorn is a dependency of vmgui-serve only
    _GunicornBase = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornBase):  # type: ignore[misc,valid-type]
    """gunicorn's logger with the redaction installed (``--logger-class``).

    The access log's request line (``%(r)s``), query (``%(q)s``) and referer, and the error
    log's "Error handling request /php/api.php?...&password=..." all pass through it.
    """

    def setup(self, cfg: Any) -> None:
        install()
        super().setup(cfg)
