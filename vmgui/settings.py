"""Django settings for vmgui.

Everything configurable is read here, once, from environment variables through the typed
helpers in ``vmgui.env``; each variable is documented in README.md ("Configuration").
"""

from __future__ import annotations

import secrets
from pathlib import Path

from vmgui.env import (
    ConfigError,
    env_bool,
    env_database_url,
    env_int,
    env_list,
    env_str,
    env_timezone,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("VMGUI_DATA_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    """Use VMGUI_SECRET_KEY, else a random key generated once and kept in the data dir."""
    configured = env_str("VMGUI_SECRET_KEY", "")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("VMGUI_DEBUG", False)
ALLOWED_HOSTS = env_list("VMGUI_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("VMGUI_CSRF_TRUSTED_ORIGINS", [])

# The zone in which the sniffer wrote its naive datetimes (cdr.calldate ...). Django reads and
# writes naive values in this zone (DATABASES TIME_ZONE) and shows times in it by default.
SNIFFER_TIME_ZONE = env_timezone("VMGUI_TIME_ZONE", "UTC")
TIME_ZONE = SNIFFER_TIME_ZONE
USE_TZ = True
USE_I18N = False
LANGUAGE_CODE = "en-us"

_db = env_database_url("VMGUI_DATABASE_URL", f"sqlite:///{DATA_DIR / 'vmgui.sqlite3'}")
_db["TIME_ZONE"] = SNIFFER_TIME_ZONE
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update({"charset": "utf8mb4"})
    # Our own tables get the server's default engine; the sniffer's tables are never touched.
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
_db["CONN_MAX_AGE"] = env_int("VMGUI_DB_CONN_MAX_AGE", 60, minimum=0)
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The sniffer's spool root (per-call pcaps, graphs, audio).
SPOOL_DIR = Path(env_str("VMGUI_SPOOL_DIR", str(DATA_DIR / "spool")))

# Call media (cdr.media.spool / cdr.media.service; docs/media.md). The sniffer's secondary spool
# (spooldir_2, cdr_next.spool_index = 1) and its per-type roots (spooldir_rtp, ...).
SPOOL_DIR_2 = env_str("VMGUI_SPOOL_DIR_2", "")
SPOOL_TYPE_DIRS = {
    kind: env_str(f"VMGUI_SPOOL_DIR_{kind}", "")
    for kind in ("SIP", "RTP", "GRAPH", "AUDIO", "AUDIOGRAPH")
}
# The sniffer's spooldir_by_sensor (id) / spooldir_by_sensorname (name) folder level.
SPOOL_BY_SENSOR = env_str("VMGUI_SPOOL_BY_SENSOR", "none").strip().lower()
if SPOOL_BY_SENSOR not in ("none", "id", "name"):
    raise ConfigError(f"VMGUI_SPOOL_BY_SENSOR={SPOOL_BY_SENSOR!r}: use none, id or name")
SPOOL_LOCAL_SENSOR_NAME = env_str("VMGUI_SPOOL_LOCAL_SENSOR_NAME", "local")
# /php/wav.php shared key; empty = wav.php is disabled.
WAV_PHP_KEY = env_str("VMGUI_WAV_PHP_KEY", "")
# Most CDRs in one media request (cdrId lists → ZIP).
MEDIA_MAX_CALLS = env_int("VMGUI_MEDIA_MAX_CALLS", 100, minimum=1, maximum=10_000)
# Where decoded recordings are written (unnamed temporary files); empty = the system temp dir.
MEDIA_TMP_DIR = env_str("VMGUI_MEDIA_TMP_DIR", "")

# Legacy API behaviour (GUI > Settings > System Configuration in the old GUI).
API_DISABLE_AUTH = env_bool("VMGUI_API_DISABLE_AUTH", False)
API_MAX_CONCURRENT = env_int("VMGUI_API_MAX_CONCURRENT", 0, minimum=0)
API_MAX_ROWS = env_int("VMGUI_API_MAX_ROWS", 10000, minimum=1, maximum=10_000_000)
# Seconds a verified api.php user/password pair is remembered per process (0 = check every time).
API_AUTH_CACHE_SECONDS = env_int("VMGUI_API_AUTH_CACHE_SECONDS", 300, minimum=0, maximum=86400)
# sql.php LISTING: the exact total runs under this budget (ms); slower totals are deferred
# ("deferTotal": true, the client asks task=TOTAL). 0 = always count exactly.
SQL_TOTAL_BUDGET_MS = env_int("VMGUI_SQL_TOTAL_BUDGET_MS", 1000, minimum=0, maximum=600_000)
API_LOCK_DIR = Path(env_str("VMGUI_API_LOCK_DIR", str(DATA_DIR / "locks")))
VM_VERSION = "2026.04.0-vmgui"


# Sensors' manager port: active calls, pausing (cdr.sensors.manager, cdr.sensors.registry; docs/active-calls.md).
def _env_seconds(
    name: str, default: float, *, minimum: float = 0.05, maximum: float = 600
) -> float:
    """A duration in seconds (fractions allowed, e.g. 1.5)."""
    text = env_str(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"{name}={text!r}: expected a number of seconds such as 2 or 1.5"
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={text}: must be between {minimum} and {maximum} seconds")
    return value


def _env_base64(name: str) -> str:
    import base64
    import binascii

    text = env_str(name, "").strip()
    if text:
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{name}: not valid base64") from None
    return text


# Address of sensors whose sensors.host/port are empty, and of the single local sniffer.
MANAGER_HOST = env_str("VMGUI_MANAGER_HOST", "127.0.0.1").strip() or "127.0.0.1"
MANAGER_PORT = env_int("VMGUI_MANAGER_PORT", 5029, minimum=1, maximum=65535)
MANAGER_CONNECT_TIMEOUT = _env_seconds("VMGUI_MANAGER_CONNECT_TIMEOUT", 2.0)
MANAGER_TIMEOUT = _env_seconds("VMGUI_MANAGER_TIMEOUT", 5.0)
MANAGER_MAX_PARALLEL = env_int("VMGUI_MANAGER_MAX_PARALLEL", 16, minimum=1, maximum=256)
# Ask listcalls for a gzip reply (less traffic from remote sensors).
MANAGER_ZIP = env_bool("VMGUI_MANAGER_ZIP", True)
# auto: encrypt when a key is known (these settings, else the system row manager_key); off: never.
MANAGER_AES = env_str("VMGUI_MANAGER_AES", "auto").strip().lower()
if MANAGER_AES not in ("auto", "off"):
    raise ConfigError(f"VMGUI_MANAGER_AES={MANAGER_AES!r}: use auto or off")
MANAGER_AES_KEY = _env_base64("VMGUI_MANAGER_AES_KEY")
MANAGER_AES_IV = _env_base64("VMGUI_MANAGER_AES_IV")
if bool(MANAGER_AES_KEY) != bool(MANAGER_AES_IV):
    raise ConfigError("VMGUI_MANAGER_AES_KEY and VMGUI_MANAGER_AES_IV must be set together")
# missing: a call file that is not in VMGUI_SPOOL_DIR is read from its sensor's spool through
# the manager port (getfile / getfile_in_tar); off: local spool only.
SPOOL_REMOTE = env_str("VMGUI_SPOOL_REMOTE", "off").strip().lower()
if SPOOL_REMOTE not in ("off", "missing"):
    raise ConfigError(f"VMGUI_SPOOL_REMOTE={SPOOL_REMOTE!r}: use off or missing")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "cdr",
    "accounts",
    "api",
    "sharing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BlockedUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vmgui.urls"
WSGI_APPLICATION = "vmgui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# whitenoise warns on every request when the directory is missing (before collectstatic).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VMGUI_LOG_LEVEL", "INFO")},
}

# Child tables of a partitioned sniffer database have no primary key; their cdr_ID is declared
# as the (non-unique) key because Django needs one. Reads only, so the warning does not apply.
SILENCED_SYSTEM_CHECKS = ["fields.W342"]

# Accounts: audit retention and login throttling (counted from failed logins in the audit log).
AUDIT_RETENTION_DAYS = env_int("VMGUI_AUDIT_RETENTION_DAYS", 365, minimum=1)
LOGIN_MAX_FAILURES_USER = env_int("VMGUI_LOGIN_MAX_FAILURES_USER", 10, minimum=1)
LOGIN_MAX_FAILURES_IP = env_int("VMGUI_LOGIN_MAX_FAILURES_IP", 30, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("VMGUI_LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=10)
AUTHENTICATION_BACKENDS = ["accounts.backends.VmModelBackend"]


# Sessions: the old GUI's PHP session cookie, shared by sql.php, the admin and (later) the GUI.
# Served under a URL prefix (VMGUI_URL_PREFIX=/demo, behind a reverse proxy that strips it),
# Django builds its URLs with it and the cookie becomes PHPSESSID-demo, as the old GUI's does
# in a subdirectory (two installations on one host then keep separate sessions).
def url_prefix(value: str) -> str:
    """``demo``, ``/demo`` or ``/demo/`` → ``/demo``; empty → ``""`` (served at the root)."""
    import re

    from vmgui.env import ConfigError

    prefix = value.strip().strip("/")
    if prefix and not re.fullmatch(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", prefix):
        raise ConfigError(
            f"VMGUI_URL_PREFIX={value!r}: a path such as /demo (letters, digits, . _ ~ - and /)"
        )
    return f"/{prefix}" if prefix else ""


def session_cookie_name(prefix: str) -> str:
    """``PHPSESSID``, or ``PHPSESSID-<prefix>`` (``/a/b`` → ``PHPSESSID-a-b``)."""
    return f"PHPSESSID-{prefix.strip('/').replace('/', '-')}" if prefix else "PHPSESSID"


URL_PREFIX = url_prefix(env_str("VMGUI_URL_PREFIX", ""))
if URL_PREFIX:
    FORCE_SCRIPT_NAME = URL_PREFIX
SESSION_COOKIE_NAME = session_cookie_name(URL_PREFIX)
# Lifetime of a login session from its login (sql.php clients reuse one for an hour or more).
SESSION_COOKIE_AGE = env_int("VMGUI_SESSION_SECONDS", 43200, minimum=3600, maximum=31 * 86400)
