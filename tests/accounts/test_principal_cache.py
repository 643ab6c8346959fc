"""The remembered API principal (accounts.principals): fast, and never a different answer.

A principal that passed the full check is reused after one shared-cache read, without a query;
a block, a password change, a removed flag or a changed restriction, and a lockout, take effect
at the next request — in this process, in other worker processes, and when the change is made
by another process (``manage.py shell``, another host's admin) that shares the cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts import principals
from accounts.models import UserProfile, VmGroup
from accounts.permissions import effective
from accounts.services import AuthRefused, authenticate_local
from tests.api.legacy.test_api_php_concurrency import Server
from tests.factories import make_call

User = get_user_model()
PASSWORD = "Heslo-ř-日本-🔑"


@pytest.fixture
def operators(db):
    return VmGroup.objects.create(name="operators", can_cdr=True)


@pytest.fixture
def jana(operators):
    user = User.objects.create_user("jana.nováková", password=PASSWORD)
    UserProfile.objects.create(user=user, group=operators)
    return user


def _auth(username: str = "jana.nováková", password: str = PASSWORD):
    return authenticate_local(username, password)


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_remembered_principal_is_answered_without_a_query(jana):
    _auth()
    with CaptureQueriesContext(connection) as queries:
        user = _auth()
    assert user == jana and len(queries.captured_queries) == 0
    assert effective(user).has("can_cdr")


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_it_refuses_a_user_blocked_after_being_remembered(jana):
    _auth()
    profile = jana.vm_profile
    profile.blocked, profile.blocked_reason = True, "odešel z firmy 🚪"
    profile.save()
    with pytest.raises(AuthRefused, match="user is blocked: odešel z firmy 🚪"):
        _auth()


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_it_refuses_the_old_password_after_a_password_change(jana):
    _auth()
    jana.set_password("nové-heslo-1")
    jana.save()
    with pytest.raises(AuthRefused, match="wrong user name or password"):
        _auth()
    assert _auth(password="nové-heslo-1") == jana


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_flag_removed_from_the_group_is_gone_at_the_next_request(jana, operators):
    assert effective(_auth()).has("can_cdr")
    operators.can_cdr = False
    operators.save()
    assert not effective(_auth()).has("can_cdr")


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_new_restriction_applies_at_the_next_request(jana):
    assert _auth().vm_profile.enable_sensors == ""
    assert effective(_auth()).scope.sensors == ()
    profile = UserProfile.objects.get(user=jana)
    profile.enable_sensors = "2"
    profile.save()
    assert effective(_auth()).scope.sensors == (2,)


@override_settings(API_AUTH_CACHE_SECONDS=300, LOGIN_MAX_FAILURES_USER=2)
def test_failures_under_another_spelling_of_the_name_lock_the_remembered_account(jana):
    """The throttle counts failures by the database's name comparison; so does the cache."""
    _auth()
    spelled = "JANA.NOVÁKOVÁ" if connection.vendor == "mysql" else "jana.nováková"
    for _ in range(2):
        with pytest.raises(AuthRefused):
            authenticate_local(spelled, "guess")
    with pytest.raises(AuthRefused, match="too many failed logins for this account"):
        _auth()


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_lost_cache_entry_means_a_full_check_not_a_stale_answer(jana):
    from django.core.cache import cache

    _auth()
    cache.delete(principals.PERM_KEY)  # evicted (a full file cache culls entries)
    with CaptureQueriesContext(connection) as queries:
        assert _auth() == jana
    assert len(queries.captured_queries) > 0  # checked in full again


@override_settings(API_AUTH_CACHE_SECONDS=0)
def test_without_a_cache_time_every_request_is_checked_in_full(jana):
    _auth()
    with CaptureQueriesContext(connection) as queries:
        _auth()
    assert len(queries.captured_queries) > 0


@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_last_login_stamp_does_not_forget_every_principal(jana):
    _auth()
    from django.contrib.auth.models import update_last_login

    update_last_login(None, jana)  # what every session login does
    with CaptureQueriesContext(connection) as queries:
        _auth()
    assert len(queries.captured_queries) == 0


@pytest.mark.django_db
@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_api_php_refuses_a_flag_removed_between_two_polls(jana, operators):
    make_call(caller="+420601111222", calldate="2026-11-27 10:00:00")
    client = Client()
    params = {
        "task": "getVoipCalls",
        "user": "jana.nováková",
        "password": PASSWORD,
        "params": json.dumps({"startTime": "2026-11-27"}),
    }
    assert json.loads(client.get("/php/api.php", params).content)["success"] is True
    operators.can_cdr = False
    operators.save()
    answer = json.loads(client.get("/php/api.php", params).content)
    assert answer["success"] is False and "can_cdr" in answer["errors"]["reason"]


@pytest.mark.django_db
@override_settings(API_AUTH_CACHE_SECONDS=300)
def test_a_session_users_rights_follow_a_group_change_at_once(jana, operators):
    make_call(caller="+420601111222", calldate="2026-11-27 10:00:00")
    client = Client()
    login = {"module": "bypass_login", "user": "jana.nováková", "pass": PASSWORD}
    assert json.loads(client.get("/php/model/sql.php", login).content)["success"] is True
    listing = {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27T00:00:00"}
    assert len(json.loads(client.get("/php/model/sql.php", listing).content)["results"]) == 1
    profile = UserProfile.objects.get(user=jana)
    profile.enable_sensors = "7"  # a sensor without calls
    profile.save()
    assert json.loads(client.get("/php/model/sql.php", listing).content)["results"] == []
    operators.can_cdr = False
    operators.save()
    answer = json.loads(client.get("/php/model/sql.php", listing).content)
    assert answer["success"] is False and answer["error"]["type"] == "permission"


# --- two worker processes and a third process that changes the account ---------------------

SETUP_USER = textwrap.dedent(
    """
    from django.contrib.auth import get_user_model
    from accounts.models import UserProfile, VmGroup
    group = VmGroup.objects.create(name="poll", can_cdr=True)
    user = get_user_model().objects.create_user("poller", password="poll-pass-1")
    UserProfile.objects.create(user=user, group=group)
    """
)
CHANGES = {
    "block": (
        "p = UserProfile.objects.get(user__username='poller'); p.blocked = True; "
        "p.blocked_reason = 'blokováno'; p.save()",
        "user is blocked: blokováno",
    ),
    "password": (
        "u = get_user_model().objects.get(username='poller'); u.set_password('x-new-1'); u.save()",
        "wrong user name or password",
    ),
    "flag": (
        "g = VmGroup.objects.get(name='poll'); g.can_cdr = False; g.save()",
        "needs the can_cdr permission",
    ),
}


def _poll(server: Server) -> tuple[dict, int]:
    query = urllib.parse.urlencode(
        {
            "task": "getVoipCalls",
            "user": "poller",
            "password": "poll-pass-1",
            "params": json.dumps({"startTime": "2026-11-27"}),
        }
    )
    url = f"http://127.0.0.1:{server.port}/php/api.php?{query}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read()), int(response.headers["X-Worker-Pid"])


def _manage_shell(server: Server, code: str) -> None:
    script = "from django.contrib.auth import get_user_model\n"
    script += "from accounts.models import UserProfile, VmGroup\n" + code
    subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c", script],
        env=server.env,
        cwd=server.root,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_made_by_another_process_reaches_every_worker_at_once(tmp_path: Path, change):
    """Two worker processes (two one-worker gunicorns: which worker of one gunicorn takes a
    request is the kernel's choice, so each process gets its own port) on one database and one
    shared cache; a third process changes the account; the next request to each is refused."""
    env = {
        "VMGUI_API_DISABLE_AUTH": "0",
        "VMGUI_API_MAX_CONCURRENT": "0",
        "VMGUI_API_AUTH_CACHE_SECONDS": "3600",
        "VMGUI_DATA_DIR": str(tmp_path),
        "VMGUI_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "VMGUI_CACHE_DIR": str(tmp_path / "cache"),  # shared by the workers and manage.py
    }
    manage = (("migrate", "--noinput"), ("create_sniffer_schema",), ("shell", "-c", SETUP_USER))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    servers = [Server(tmp_path / "a", workers=1, limit=0, env=env, manage=manage)]
    try:
        servers.append(Server(tmp_path / "b", workers=1, limit=0, env=env, manage=()))
        pids = set()
        for server in servers:
            for _ in range(2):  # the first request checks in full, the second is the remembered one
                answer, pid = _poll(server)
                assert answer["success"] is True, answer
            pids.add(pid)
        assert len(pids) == 2
        code, reason = CHANGES[change]
        _manage_shell(servers[0], code)
        for server in servers:
            answer, _ = _poll(server)
            assert answer["success"] is False and reason in answer["errors"]["reason"], answer
    finally:
        for server in servers:
            server.stop()
