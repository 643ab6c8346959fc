"""Two app hosts behind one load balancer (docs/deployment.md): two gunicorn processes with
their own data directories, one database and one Redis (VMGUI_REDIS_URL). They share one
api.php concurrency cap, one REST request budget per token, the sign-in sessions and the
login throttle. The control case shows the cap is per host without Redis."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.api.legacy.test_api_php_concurrency import Server
from tests.redisserver import redis_server  # noqa: F401 (fixture)

PASSWORD = "multi-host-pass-1"
CREATE_USER = f"""
from django.contrib.auth import get_user_model
from api.rest import tokens
user = get_user_model().objects.create_superuser("ops", "ops@example.com", "{PASSWORD}")
print("TOKEN=" + tokens.create(user, "multi-host").secret)
"""


def _hosts(tmp_path: Path, redis_url: str | None, **env: str) -> tuple[Server, Server, str]:
    shared_db = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    common = {
        "VMGUI_DATABASE_URL": shared_db,
        "VMGUI_REST_RATE": "4/min",
        "VMGUI_LOGIN_MAX_FAILURES_USER": "3",
        # every host signs sessions and links with one key (docs/deployment.md)
        "VMGUI_SECRET_KEY": "multi-host-test-secret-key-0123456789-abcdefghij",
        **({"VMGUI_REDIS_URL": redis_url} if redis_url else {}),
        **env,
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Server(
        tmp_path / "a",
        workers=1,
        limit=1,
        env=common,
        manage=(("migrate", "--noinput"), ("create_sniffer_schema",)),
    )
    try:
        created = subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c", CREATE_USER],
            env=a.env,
            check=True,
            capture_output=True,
            text=True,
        )
        token = re.search(r"TOKEN=(\S+)", created.stdout).group(1)
        b = Server(tmp_path / "b", workers=1, limit=1, env=common, manage=())
    except BaseException:
        a.stop()
        raise
    return a, b, token


@pytest.fixture
def hosts(tmp_path, redis_server):  # noqa: F811
    a, b, token = _hosts(tmp_path, redis_server.url)
    yield a, b, token
    a.stop()
    b.stop()


def _url(host: Server, path: str) -> str:
    return f"http://127.0.0.1:{host.port}{path}"


def _hold_slot(host: Server) -> threading.Thread:
    thread = threading.Thread(target=lambda: host.request({"testSleep": 4}))
    thread.start()
    host.wait_holders(1)
    return thread


def test_two_hosts_share_one_api_php_cap(hosts):
    a, b, _ = hosts
    holder = _hold_slot(a)
    answer, _, seconds = b.request({})
    assert answer == {
        "success": False,
        "errors": {"reason": "too many concurrent API requests (limit 1)"},
    }
    assert seconds < 2  # refused at once, not queued
    holder.join(30)
    answer, _, _ = b.request({})
    assert answer == {"success": True, "cdr": []}


def test_without_redis_the_cap_is_per_host(tmp_path):
    a, b, _ = _hosts(tmp_path, None)
    try:
        holder = _hold_slot(a)
        answer, _, _ = b.request({})
        assert answer == {"success": True, "cdr": []}  # B counts only its own slots
        holder.join(30)
    finally:
        a.stop()
        b.stop()


def test_two_hosts_share_one_rest_budget_per_token(hosts):
    a, b, token = hosts
    auth = {"Authorization": f"Bearer {token}"}
    codes = [
        requests.get(_url(host, "/api/v1/sensors/"), headers=auth, timeout=20).status_code
        for host in (a, b, a, b, a, b)
    ]
    # 4/min for the token, whichever host answers: the fifth and sixth are refused.
    assert codes == [200, 200, 200, 200, 429, 429]


def _login(session: requests.Session, host: Server, password: str) -> requests.Response:
    page = session.get(_url(host, "/login/"), timeout=20)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        _url(host, "/login/"),
        data={"csrfmiddlewaretoken": csrf, "username": "ops", "password": password},
        headers={"Referer": _url(host, "/login/")},
        allow_redirects=False,
        timeout=20,
    )


def test_a_session_opened_on_one_host_works_on_the_other_and_logout_ends_it_on_both(
    hosts,
    redis_server,  # noqa: F811
):
    a, b, _ = hosts
    browser = requests.Session()  # one cookie jar for 127.0.0.1: both hosts get the cookie
    assert _login(browser, a, PASSWORD).status_code == 302
    assert browser.get(_url(b, "/settings/"), allow_redirects=False, timeout=20).status_code == 200
    import redis

    keys = redis.Redis.from_url(redis_server.url).keys("*")
    assert any(b"sessions.cached_db" in key for key in keys), keys
    page = browser.get(_url(b, "/logout/"), timeout=20)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    browser.post(
        _url(b, "/logout/"),
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": _url(b, "/logout/")},
        timeout=20,
    )
    answer = browser.get(_url(a, "/settings/"), allow_redirects=False, timeout=20)
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"]


def test_failed_logins_on_both_hosts_count_against_one_limit(hosts):
    a, b, _ = hosts
    for host in (a, b, a):
        assert _login(requests.Session(), host, "wrong-password").status_code == 200
    refused = _login(requests.Session(), b, PASSWORD)  # the right password, too late
    assert refused.status_code != 302
    assert "too many failed logins for this account" in refused.text
