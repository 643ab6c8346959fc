"""A multi-host deployment whose shared Redis is down (VMGUI_REDIS_URL set, nothing
listening): every face answers 503 + Retry-After naming Redis, never a traceback; api.php's
cap falls back to the host's own slots and keeps answering."""

from __future__ import annotations

import json
import socket

import pytest
from django.test import Client, override_settings

from tests.api.rest.support import TokenClient, token_for
from tests.cdr.media.test_media_support import PASSWORD, media_user


def _dead_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # the port is closed again: connection refused


@pytest.fixture
def dead_redis():
    url = _dead_redis_url()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(
        CACHES=caches,
        REDIS_URL=url,
        SESSION_ENGINE="accounts.sessionstore.cached_db",
        API_MAX_CONCURRENT=2,
    ):
        yield url


@pytest.mark.django_db
def test_the_rest_api_answers_503_naming_redis(dead_redis):
    user = media_user("redisdown")
    response = TokenClient(token_for(user)).get("/api/v1/sensors/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Redis" in response.json()["detail"]


@pytest.mark.django_db
def test_the_login_page_answers_503_naming_redis(dead_redis):
    media_user("redislogin")
    response = Client(raise_request_exception=False).post(
        "/login/", {"username": "redislogin", "password": PASSWORD}
    )
    assert response.status_code == 503
    assert b"Redis" in response.content and response["Retry-After"] == "5"


@pytest.mark.django_db
def test_api_php_keeps_answering_with_the_hosts_own_cap(dead_redis, tmp_path):
    media_user("redisapi")
    with override_settings(API_LOCK_DIR=tmp_path):
        response = Client().post(
            "/php/api.php",
            {
                "task": "getVoipCalls",
                "user": "redisapi",
                "password": PASSWORD,
                "params": json.dumps({"startTime": "2026-11-27"}),
            },
        )
    assert response.status_code == 200
    assert json.loads(response.content)["success"] is True
    assert any(tmp_path.iterdir())  # a file slot was used
