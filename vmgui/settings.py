"""Django settings for vmgui.

Everything configurable is read here, once, from environment variables through the typed
helpers in ``vmgui.env``; each variable is documented in README.md ("Configuration").
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sharing.branding import share_site_of
from vmgui.dbconv import mysql_conversions
from vmgui.env import (
    ConfigError,
    env_bool,
    env_database_url,
    env_int,
    env_list,
    env_rate,
    env_redis_url,
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
    # conv: dates parsed in C (vmgui.dbconv), the same values as the driver's own functions
    _db.setdefault("OPTIONS", {}).update({"charset": "utf8mb4", "conv": mysql_conversions()})
    # Our own tables get the server's default engine; the sniffer's tables are never touched.
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
_db["CONN_MAX_AGE"] = env_int("VMGUI_DB_CONN_MAX_AGE", 60, minimum=0)
_db["CONN_HEALTH_CHECKS"] = True
# ... but not for a connection that served a request less than this ago (vmgui.dbhealth)
DB_HEALTH_CHECK_IDLE_MS = env_int(
    "VMGUI_DB_HEALTH_CHECK_IDLE_MS", 1000, minimum=0, maximum=3_600_000
)
DATABASES = {"default": _db}
# Scale-out (docs/deployment.md): reads of the sniffer's tables from a MariaDB replica. vmgui's
# own tables (users, sessions, audit, shares, reports, tokens) and every write stay on the
# primary (vmgui.dbrouter).
if env_str("VMGUI_DATABASE_REPLICA_URL", "").strip():
    _replica = env_database_url("VMGUI_DATABASE_REPLICA_URL", "")
    if _replica["ENGINE"] != _db["ENGINE"]:
        raise ConfigError(
            "VMGUI_DATABASE_REPLICA_URL must use the same engine as VMGUI_DATABASE_URL"
        )
    _replica["TIME_ZONE"] = SNIFFER_TIME_ZONE
    _replica["OPTIONS"] = dict(_db.get("OPTIONS", {}))
    _replica["CONN_MAX_AGE"] = _db["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    # The test run has one database: the replica alias reads the primary's test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["vmgui.dbrouter.ReplicaRouter"]

# Shared state of several app hosts (docs/deployment.md): with VMGUI_REDIS_URL the cache
# (REST throttling, per-process look-ups that must agree), the sessions (cached in Redis,
# kept in the database) and the api.php concurrency cap live in one Redis. Without it: a
# cache in the data dir (shared by the workers of one host) and database sessions. That
# cache is diskcache's (SQLite files): Django's file cache lists its whole directory on
# every write (1.7 ms at 1,000 entries, 26 ms at 15,000; a REST token's budget writes one
# entry per window) and its incr is a read and a write that two workers can interleave.
# vmgui.hostcache keeps its SQLite connections open between requests.
REDIS_URL = env_redis_url("VMGUI_REDIS_URL")
CACHE_DIR = Path(env_str("VMGUI_CACHE_DIR", str(DATA_DIR / "cache")))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vmgui",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Django's cached_db store; its database read on a cache miss is direct (accounts.sessionstore)
    SESSION_ENGINE = "accounts.sessionstore.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "vmgui.hostcache.HostCache",
            "LOCATION": str(CACHE_DIR),
            # 8 SQLite files: writers of different keys rarely wait for one another. A write
            # that finds its file locked retries until it is done; a read gives up after
            # DATABASE_TIMEOUT and misses (every reader treats a miss as "check in full").
            "SHARDS": 8,
            "DATABASE_TIMEOUT": 0.05,
            "OPTIONS": {"size_limit": 256 * 2**20},  # then least recently stored first
        }
    }
    # Django's database store, read directly (accounts.sessionstore). Not the host cache:
    # a logout on one host must end the session on every host.
    SESSION_ENGINE = "accounts.sessionstore.db"
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
# With VMGUI_REDIS_URL the cap counts across every app host; a slot whose holder died (host
# lost) is freed after this many seconds (a longer request may then let one more in).
API_SLOT_LEASE_SECONDS = env_int("VMGUI_API_SLOT_LEASE_SECONDS", 600, minimum=10, maximum=86400)
# Bounds on request values (docs/security-inputs.md): values in one list-valued parameter
# (caller/called lists, comma lists, CIDRs, sensors, codecs, custom headers ...), Call-IDs or
# CDR ids in one request (run by the query engine in chunks), characters of one search pattern.
MAX_LIST_VALUES = env_int("VMGUI_MAX_LIST_VALUES", 1000, minimum=1, maximum=100_000)
MAX_ID_VALUES = env_int("VMGUI_MAX_ID_VALUES", 10_000, minimum=1, maximum=1_000_000)
MAX_PATTERN_LENGTH = env_int("VMGUI_MAX_PATTERN_LENGTH", 1024, minimum=16, maximum=65_535)
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


# /metrics (monitoring; docs/monitoring.md): off unless a bearer token or an IP allow-list is set.
def _env_networks(name: str) -> list[str]:
    import ipaddress

    networks = env_list(name, [])
    for net in networks:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {net!r} is not an IP address or CIDR network") from None
    return networks


METRICS_TOKEN = env_str("VMGUI_METRICS_TOKEN", "")
METRICS_ALLOW_IPS = _env_networks("VMGUI_METRICS_ALLOW_IPS")
# The sliding window of the call statistics, and how long one snapshot is reused.
METRICS_WINDOW_SECONDS = env_int("VMGUI_METRICS_WINDOW_SECONDS", 300, minimum=10, maximum=86400)
METRICS_CACHE_SECONDS = env_int("VMGUI_METRICS_CACHE_SECONDS", 5, minimum=0, maximum=300)
# Ask every sensor's manager port for its active calls at each (uncached) scrape.
METRICS_ACTIVE_CALLS = env_bool("VMGUI_METRICS_ACTIVE_CALLS", True)

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
    "monitoring",
    "gui",
]

MIDDLEWARE = [
    # First, so that it times the whole request (docs/monitoring.md).
    "monitoring.middleware.LegacyRequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BlockedUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A view that finds the database down answers 503 + Retry-After (vmgui.faults).
    "vmgui.faults.DatabaseFaultMiddleware",
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

# Every log record passes through vmgui.logging's redaction first (passwords and wav.php keys
# in URLs never reach a log).
LOGGING_CONFIG = "vmgui.logging.configure"
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


# Behind TLS (docs/security.md, "Safe deployment"): all off by default, so that a plain-HTTP
# installation (and its sql.php clients) keeps working; `manage.py check --deploy` is clean
# with them on.
def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto: https`` (or ``=``) → ``("HTTP_X_FORWARDED_PROTO", "https")``."""
    import re

    text = value.strip()
    if not text:
        return None
    match = re.fullmatch(r"([A-Za-z0-9-]+)\s*[:=]\s*(\S+)", text)
    if match is None:
        raise ConfigError(
            f"VMGUI_PROXY_SSL_HEADER={value!r}: expected a header and its value, "
            "e.g. 'X-Forwarded-Proto: https'"
        )
    return f"HTTP_{match.group(1).upper().replace('-', '_')}", match.group(2)


# Session and CSRF cookies only over HTTPS.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("VMGUI_SECURE_COOKIES", False)
# HTTP Strict Transport Security (sent on HTTPS answers only, by Django's SecurityMiddleware).
SECURE_HSTS_SECONDS = env_int("VMGUI_HSTS_SECONDS", 0, minimum=0, maximum=2 * 365 * 86400)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("VMGUI_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("VMGUI_HSTS_PRELOAD", False)
# Redirect plain-HTTP requests to HTTPS (a redirected POST loses its body: clients must use
# https:// URLs once this is on).
SECURE_SSL_REDIRECT = env_bool("VMGUI_SSL_REDIRECT", False)
# The header a TLS-terminating reverse proxy sets (it must also strip it from clients).
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_str("VMGUI_PROXY_SSL_HEADER", ""))


# Custom login (accounts.login; docs/login.md): the login page's hook, LDAP, Entra ID, Google, 2FA.
def _env_login_map(name: str, *, flags: bool = False) -> dict[str, tuple[str, ...]]:
    """``key=value,key2=value2`` (flags: ``key=can_pcap+can_play_audio``) in the given order.

    Keys are external group names / ids (``*`` = every user of the provider); the last ``=``
    separates, so a key may itself contain ``=`` (an LDAP DN).
    """
    from accounts.flags import FLAGS

    allowed = set(FLAGS) | {"is_admin", "req_2fa"}
    result: dict[str, tuple[str, ...]] = {}
    for item in env_list(name, []):
        key, sep, value = item.rpartition("=")
        values = tuple(v.strip() for v in value.split("+") if v.strip())
        if not sep or not key.strip() or not values:
            raise ConfigError(f"{name}: {item!r} is not key=value (e.g. voip-noc=noc)")
        if flags:
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ConfigError(
                    f"{name}: {unknown[0]!r} is not a flag (can_*, hide_license_information, "
                    "is_admin, req_2fa)"
                )
        elif len(values) != 1:
            raise ConfigError(f"{name}: {item!r} maps to more than one vmgui group")
        result[key.strip()] = values
    return result


CUSTOM_LOGIN = env_str("VMGUI_CUSTOM_LOGIN", "")
if CUSTOM_LOGIN and not __import__("re").fullmatch(
    r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", CUSTOM_LOGIN
):
    raise ConfigError(
        f"VMGUI_CUSTOM_LOGIN={CUSTOM_LOGIN!r}: use package.module:function (e.g. mysite.login:custom_login)"
    )
# Load a hook module that calls shell execution anyway (the old GUI's DISABLE_ANTIVIRUS).
DISABLE_ANTIVIRUS = env_bool("VMGUI_DISABLE_ANTIVIRUS", False)
# sql.php's bypass_login also accepts hook/LDAP users (the spec's APIs take local accounts only).
SQL_BYPASS_LOGIN_CUSTOM = env_bool("VMGUI_SQL_BYPASS_LOGIN_CUSTOM", False)
# The name authenticator apps show next to a vmgui TOTP entry.
TOTP_ISSUER = env_str("VMGUI_2FA_ISSUER", "vmgui")
# CA bundle for the HTTPS calls to Entra ID / Google / LDAPS (empty = the system's).
LOGIN_CA_BUNDLE = env_str("VMGUI_LOGIN_CA_BUNDLE", "")
# Public base URL of the provider callbacks behind a proxy (https://vmgui.example.com); empty = as requested.
LOGIN_CALLBACK_BASE = env_str("VMGUI_LOGIN_CALLBACK_BASE", "")

LDAP_URI = env_str("VMGUI_LDAP_URI", "")  # empty = LDAP sign-in off
LDAP_BIND_DN = env_str("VMGUI_LDAP_BIND_DN", "")
LDAP_BIND_PASSWORD = env_str("VMGUI_LDAP_BIND_PASSWORD", "")
LDAP_USER_BASE = env_str("VMGUI_LDAP_USER_BASE", "")
LDAP_USER_FILTER = env_str("VMGUI_LDAP_USER_FILTER", "(uid=%(user)s)")
LDAP_GROUP_BASE = env_str("VMGUI_LDAP_GROUP_BASE", "")
LDAP_GROUP_TYPE = env_str("VMGUI_LDAP_GROUP_TYPE", "posix").lower()
if LDAP_GROUP_TYPE not in ("posix", "groupofnames", "ad"):
    raise ConfigError(f"VMGUI_LDAP_GROUP_TYPE={LDAP_GROUP_TYPE!r}: use posix, groupofnames or ad")
LDAP_ID_ATTR = env_str("VMGUI_LDAP_ID_ATTR", "uidNumber")
LDAP_NAME_ATTR = env_str("VMGUI_LDAP_NAME_ATTR", "cn")
LDAP_EMAIL_ATTR = env_str("VMGUI_LDAP_EMAIL_ATTR", "mail")
LDAP_REQUIRE_GROUP = env_str("VMGUI_LDAP_REQUIRE_GROUP", "")
LDAP_GROUP_MAP = _env_login_map("VMGUI_LDAP_GROUP_MAP")
LDAP_FLAG_MAP = _env_login_map("VMGUI_LDAP_FLAG_MAP", flags=True)
LDAP_START_TLS = env_bool("VMGUI_LDAP_START_TLS", False)
LDAP_TIMEOUT = env_int("VMGUI_LDAP_TIMEOUT", 5, minimum=1, maximum=120)
if LDAP_URI and not LDAP_USER_BASE:
    raise ConfigError("VMGUI_LDAP_URI is set: VMGUI_LDAP_USER_BASE must name the user subtree")

ENTRA_TENANT = env_str("VMGUI_ENTRA_TENANT", "")
ENTRA_CLIENT_ID = env_str("VMGUI_ENTRA_CLIENT_ID", "")  # empty = Entra ID sign-in off
ENTRA_CLIENT_SECRET = env_str("VMGUI_ENTRA_CLIENT_SECRET", "")
ENTRA_AUTHORITY = env_str(
    "VMGUI_ENTRA_AUTHORITY", f"https://login.microsoftonline.com/{ENTRA_TENANT or 'TENANT'}"
)
ENTRA_GROUP_MAP = _env_login_map("VMGUI_ENTRA_GROUP_MAP")
ENTRA_FLAG_MAP = _env_login_map("VMGUI_ENTRA_FLAG_MAP", flags=True)
if ENTRA_CLIENT_ID and not (ENTRA_TENANT and ENTRA_CLIENT_SECRET):
    raise ConfigError(
        "VMGUI_ENTRA_CLIENT_ID is set: VMGUI_ENTRA_TENANT and VMGUI_ENTRA_CLIENT_SECRET are needed too"
    )

GOOGLE_CLIENT_ID = env_str("VMGUI_GOOGLE_CLIENT_ID", "")  # empty = Google sign-in off
GOOGLE_CLIENT_SECRET = env_str("VMGUI_GOOGLE_CLIENT_SECRET", "")
GOOGLE_METADATA_URL = env_str(
    "VMGUI_GOOGLE_METADATA_URL", "https://accounts.google.com/.well-known/openid-configuration"
)
GOOGLE_HOSTED_DOMAINS = [d.lower() for d in env_list("VMGUI_GOOGLE_HOSTED_DOMAINS", [])]
GOOGLE_GROUP = env_str("VMGUI_GOOGLE_GROUP", "")
GOOGLE_FLAG_MAP = _env_login_map("VMGUI_GOOGLE_FLAG_MAP", flags=True)
if GOOGLE_CLIENT_ID and not (GOOGLE_CLIENT_SECRET and GOOGLE_HOSTED_DOMAINS):
    raise ConfigError(
        "VMGUI_GOOGLE_CLIENT_ID is set: VMGUI_GOOGLE_CLIENT_SECRET and "
        "VMGUI_GOOGLE_HOSTED_DOMAINS (the Workspace domains allowed in) are needed too"
    )

INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts.login",
]
# Sessions of users signed in by the hook, LDAP, Entra ID or Google (the local backend stays first).
AUTHENTICATION_BACKENDS += ["accounts.login.backends.ExternalLoginBackend"]
LOGIN_URL = "/login/"
# After sign-in without a ?next=: the start page, which opens the first GUI page the user may use.
LOGIN_REDIRECT_URL = "/"

# REST API v1 (api.rest; docs/rest-api.md): tokens or the GUI session, problem JSON errors,
# a request budget per token, OpenAPI at /api/schema/ and Swagger UI (local files) at /api/docs/.
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar", "api.rest"]
REST_RATE = env_rate("VMGUI_REST_RATE", "600/min")
REST_MAX_PAGE = env_int("VMGUI_REST_MAX_PAGE", 1000, minimum=1, maximum=10000)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.rest.authentication.BearerTokenAuthentication",
        "api.rest.authentication.GuiSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "api.rest.permissions.Authenticated",
        "api.rest.permissions.WritableToken",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.rest.throttling.PerTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"rest": REST_RATE},
    "DEFAULT_RENDERER_CLASSES": ["api.rest.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.rest.problems.exception_handler",
    # `format` is our own parameter (csv, text, svg), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "vmgui REST API",
    "DESCRIPTION": "CDRs, call media, SIP history, sensors, active calls, audit log, users and "
    "groups of a VoIPmonitor sniffer database. Errors are application/problem+json.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.rest.schema.add_problem_responses",
    ],
}

# Reports (cdr.reports; docs/reports.md): definitions, api.php reportSummary, REST
# /api/v1/reports/, scheduled e-mails (manage.py send_reports); /php/apilicensecheck.php.
INSTALLED_APPS += ["cdr.reports"]
BRAND_NAME = env_str("VMGUI_BRAND_NAME", "vmgui").strip() or "vmgui"
REPORT_MAX_DAYS = env_int("VMGUI_REPORT_MAX_DAYS", 366, minimum=1, maximum=3660)
LICENSE_CALLS_LIMIT = env_int("VMGUI_LICENSE_CALLS_LIMIT", 0, minimum=0, maximum=10_000_000)
EMAIL_HOST = env_str("VMGUI_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("VMGUI_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("VMGUI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("VMGUI_EMAIL_PASSWORD", "")
_EMAIL_SECURITY = env_str("VMGUI_EMAIL_SECURITY", "none").strip().lower()
if _EMAIL_SECURITY not in ("none", "starttls", "ssl"):
    raise ConfigError(f"VMGUI_EMAIL_SECURITY={_EMAIL_SECURITY!r}: use none, starttls or ssl")
EMAIL_USE_TLS, EMAIL_USE_SSL = _EMAIL_SECURITY == "starttls", _EMAIL_SECURITY == "ssl"
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("VMGUI_EMAIL_FROM", "vmgui@localhost")

# Share links and branding (sharing/; docs/sharing.md). BRAND_NAME is read above (reports).
# BRAND_SHARESITE / BRAND_DOMAIN: the host of share_link URLs ("share.<domain>" when only
# the domain is set; empty = the host the link was asked on). On that host only share pages
# answer (sharing.pages.ShareSiteMiddleware); it is added to ALLOWED_HOSTS.
BRAND_SHARESITE = env_str("VMGUI_BRAND_SHARESITE", "").strip().rstrip("/")
BRAND_DOMAIN = env_str("VMGUI_BRAND_DOMAIN", "").strip()
SHARE_DEFAULT_DAYS = env_int("VMGUI_SHARE_DEFAULT_DAYS", 7, minimum=1, maximum=3650)
SHARE_MAX_DAYS = env_int("VMGUI_SHARE_MAX_DAYS", 90, minimum=1, maximum=3650)
if SHARE_DEFAULT_DAYS > SHARE_MAX_DAYS:
    raise ConfigError("VMGUI_SHARE_DEFAULT_DAYS must not exceed VMGUI_SHARE_MAX_DAYS")
SHARE_PASSWORD_MAX_FAILURES = env_int("VMGUI_SHARE_PASSWORD_MAX_FAILURES", 5, minimum=1)
SHARE_PASSWORD_MAX_FAILURES_IP = env_int("VMGUI_SHARE_PASSWORD_MAX_FAILURES_IP", 20, minimum=1)
SHARE_PASSWORD_WINDOW_SECONDS = env_int(
    "VMGUI_SHARE_PASSWORD_WINDOW_SECONDS", 900, minimum=60, maximum=86400
)
_share_host = share_site_of(BRAND_SHARESITE, BRAND_DOMAIN)
_share_host = _share_host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
if _share_host and _share_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_share_host)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "sharing.pages.ShareSiteMiddleware",
)
TEMPLATES[0]["OPTIONS"]["context_processors"].append("sharing.branding.brand")
# The GUI frame: navigation by permission flag, the user's time zone and date format (gui/).
TEMPLATES[0]["OPTIONS"]["context_processors"].append("gui.context.gui")

# Live listening to active calls (cdr.sensors.listening; docs/active-calls.md): listen
# sessions per user and in all, the seconds without a poll after which the server itself sends
# listen_stop, and where the workers of a host keep the sessions.
LISTEN_MAX_PER_USER = env_int("VMGUI_LISTEN_MAX_PER_USER", 2, minimum=1, maximum=100)
LISTEN_MAX_TOTAL = env_int("VMGUI_LISTEN_MAX_TOTAL", 20, minimum=1, maximum=10_000)
LISTEN_IDLE_SECONDS = _env_seconds("VMGUI_LISTEN_IDLE_SECONDS", 15.0, minimum=2, maximum=600)
LISTEN_STATE_DIR = Path(env_str("VMGUI_LISTEN_STATE_DIR", str(DATA_DIR / "listen")))
