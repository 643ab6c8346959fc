"""Settings for a deployment behind TLS: Secure cookies, HSTS, the HTTPS redirect and the
reverse-proxy header. All off by default; with them on, ``check --deploy`` no longer warns
W004 (HSTS), W008 (redirect), W012 (session cookie), W016 (CSRF cookie)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.api.legacy.test_api_php_support import FAST_HASHERS, PASSWORD, USER, make_api_user
from vmgui.env import ConfigError
from vmgui.settings import proxy_ssl_header

TLS_ENV = {
    "VMGUI_SECURE_COOKIES": "true",
    "VMGUI_HSTS_SECONDS": "31536000",
    "VMGUI_HSTS_INCLUDE_SUBDOMAINS": "true",
    "VMGUI_HSTS_PRELOAD": "true",
    "VMGUI_SSL_REDIRECT": "true",
    "VMGUI_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}
WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")


def _check_deploy(tmp_path, extra: dict[str, str]) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VMGUI_") or key == "VMGUI_DATABASE_URL"
    }
    env.update(
        VMGUI_DATA_DIR=str(tmp_path),
        VMGUI_SECRET_KEY="k" * 20 + "-long-and-random-enough-for-the-deploy-check-0123456789",
        VMGUI_ALLOWED_HOSTS="vmgui.example.com",
        **extra,
    )
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "check", "--deploy"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout + done.stderr


def test_check_deploy_warns_about_tls_settings_by_default(tmp_path):
    output = _check_deploy(tmp_path, {})
    for warning in WARNINGS:
        assert warning in output, output


def test_check_deploy_is_clean_of_tls_warnings_with_the_settings_on(tmp_path):
    output = _check_deploy(tmp_path, TLS_ENV)
    for warning in WARNINGS:
        assert warning not in output, output


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("x-forwarded-proto=https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Ssl: on", ("HTTP_X_FORWARDED_SSL", "on")),
        ("", None),
    ],
)
def test_the_proxy_header_setting_is_read_as_django_wants_it(value, parsed):
    assert proxy_ssl_header(value) == parsed


@pytest.mark.parametrize("value", ["X-Forwarded-Proto", "X Forwarded: https", ": https"])
def test_a_bad_proxy_header_setting_stops_the_app_with_a_message(value):
    with pytest.raises(ConfigError, match="VMGUI_PROXY_SSL_HEADER"):
        proxy_ssl_header(value)


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=3600,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_behind_the_proxy_https_is_recognised_and_plain_http_redirected(db):
    client = Client()
    plain = client.get("/php/api.php?task=getVoipCalls")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/php/api.php?task=getVoipCalls"
    proxied = client.get("/php/api.php", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"


@override_settings(
    SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True, PASSWORD_HASHERS=FAST_HASHERS
)
def test_secure_cookies_carry_the_secure_flag(db):
    make_api_user()
    client = Client()
    login = client.get(
        "/php/model/sql.php",
        {"module": "bypass_login", "user": USER, "pass": PASSWORD},
        secure=True,
    )
    assert login.cookies["PHPSESSID"]["secure"] is True
    page = client.get("/logout", secure=True)
    assert page.cookies["csrftoken"]["secure"] is True
