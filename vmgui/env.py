"""Typed readers for environment variables.

Every setting of vmgui comes from the environment through these helpers, so a bad value fails
at start-up with a message naming the variable, instead of surfacing later as a strange error.
"""

from __future__ import annotations

import os
import re
import zoneinfo


class ConfigError(Exception):
    """A configuration variable has a value we cannot use."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number}: must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={number}: must be at most {maximum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name}={value!r}: not a known IANA time zone (e.g. Europe/Prague)"
        ) from None
    return value


def env_database_url(name: str, default: str) -> dict:
    """Parse ``sqlite:///path`` or ``mysql://user:pass@host:port/db`` into a Django DATABASES entry."""
    import dj_database_url

    value = env_str(name, default)
    scheme = value.split(":", 1)[0].lower()
    if scheme not in {"sqlite", "mysql", "mariadb"}:
        raise ConfigError(
            f"{name}: unsupported scheme {scheme!r}; use sqlite:///<path> or mysql://..."
        )
    if scheme == "mariadb":
        value = "mysql" + value[len("mariadb") :]
    try:
        config = dj_database_url.parse(value)
    except Exception as exc:  # dj_database_url raises several types on garbage
        raise ConfigError(f"{name}: cannot parse database URL ({exc})") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ConfigError(
            f"{name}: the MySQL URL must name a database (mysql://u:p@host:3306/voipmonitor)"
        )
    return config


def env_redis_url(name: str) -> str:
    """``redis://[user:password@]host:port/db`` (or ``rediss://`` for TLS, ``unix://``); empty
    = not configured."""
    value = env_str(name, "").strip()
    if not value:
        return ""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError as exc:
        raise ConfigError(f"{name}: cannot parse Redis URL ({exc})") from None
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        raise ConfigError(f"{name}: expected redis://host:6379/0, rediss://... or unix:///path")
    return value


_RATE = re.compile(r"^(\d{1,9})/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str) -> str:
    """A request rate ``N/period`` (``600/min``, ``10/s``, ``5000/hour``, ``100000/day``)."""
    value = env_str(name, default).strip()
    if not _RATE.match(value):
        raise ConfigError(f"{name}: expected N/s, N/min, N/hour or N/day, got {value!r}")
    return value
