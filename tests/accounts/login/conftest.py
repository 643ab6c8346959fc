"""Sign-in test set-up: settings of the methods, a clean hook cache, page helpers.

The LDAP and identity-provider stand-ins are in ``slapd.py`` and ``idp.py`` beside this file;
their fixtures start them once per test session and stop them at its end.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.login import hook
from accounts.models import AuditEvent, UserProfile, VmGroup

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HOOK = "tests.accounts.login.hooks.directory:custom_login"


@pytest.fixture(autouse=True)
def _login_defaults(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.CUSTOM_LOGIN = ""
    settings.DISABLE_ANTIVIRUS = False
    settings.LDAP_URI = ""
    settings.ENTRA_CLIENT_ID = ""
    settings.GOOGLE_CLIENT_ID = ""
    settings.SQL_BYPASS_LOGIN_CUSTOM = False
    hook._cache.clear()
    yield
    hook._cache.clear()


@pytest.fixture
def with_hook(settings):
    settings.CUSTOM_LOGIN = HOOK


@pytest.fixture
def support_group(db):
    return VmGroup.objects.create(name="support", can_cdr=True, can_pcap=False)


def make_local_user(username: str, password: str, *, admin: bool = False, **profile):
    User = get_user_model()
    user = User.objects.create_user(username, password=password)
    user.is_superuser = user.is_staff = admin
    user.save()
    if profile:
        UserProfile.objects.update_or_create(user=user, defaults=profile)
    return user


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def error_of(response) -> str | None:
    """The error message the login page shows, or None."""
    match = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(match.group(1).strip()) if match else None


def error_kind(response) -> str | None:
    match = re.search(r'data-kind="([a-z]+)"', response.content.decode())
    return match.group(1) if match else None


def session_user(client: Client):
    """The user the client's session is logged in as (None if not logged in)."""
    response = client.get("/login/")
    match = re.search(r"signed in as <strong>(.*?)</strong>", response.content.decode())
    return html.unescape(match.group(1)) if match else None


def events(action: str, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("time", "pk"))


@pytest.fixture(scope="session")
def slapd_server():
    """A real slapd for the whole test session (started here, stopped at the end)."""
    from tests.accounts.login import slapd

    server = slapd.start()
    yield server
    server.stop()


@pytest.fixture
def with_ldap(settings, slapd_server):
    from tests.accounts.login import slapd

    settings.LDAP_URI = slapd_server.ldap_uri
    settings.LDAP_BIND_DN = slapd.READER_DN
    settings.LDAP_BIND_PASSWORD = slapd.READER_PASSWORD
    settings.LDAP_USER_BASE = f"ou=people,{slapd.SUFFIX}"
    settings.LDAP_USER_FILTER = "(uid=%(user)s)"
    settings.LDAP_GROUP_BASE = f"ou=groups,{slapd.SUFFIX}"
    settings.LDAP_GROUP_TYPE = "posix"
    settings.LDAP_ID_ATTR = "uidNumber"
    settings.LDAP_REQUIRE_GROUP = ""
    settings.LDAP_GROUP_MAP = {"voip-support": ("support",)}
    settings.LDAP_FLAG_MAP = {
        "voip-pcap": ("can_pcap", "can_play_audio"),
        "voip-admins": ("is_admin",),
        "voip-secure": ("req_2fa",),
    }
    return slapd_server


@pytest.fixture(scope="session")
def idp_server(tmp_path_factory):
    """The HTTPS identity-provider stand-in for the whole test session."""
    from tests.accounts.login.idp import IdentityProvider

    server = IdentityProvider(str(tmp_path_factory.mktemp("idp") / "test-ca.pem")).start()
    yield server
    server.stop()


@pytest.fixture
def idp(idp_server):
    idp_server.tamper = None
    idp_server.next_claims = {}
    yield idp_server
    idp_server.tamper = None


def follow_provider(client: Client, start_url: str, ca_path: str):
    """A browser's round trip: vmgui → the provider's authorize page → back to vmgui's callback."""
    import requests

    start = client.get(start_url)
    assert start.status_code == 302, start.content[:500]
    session = requests.Session()
    session.trust_env = False  # this machine's REQUESTS_CA_BUNDLE would win over verify=
    at_idp = session.get(start["Location"], verify=ca_path, allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    callback = at_idp.headers["Location"]
    assert callback.startswith("http://testserver/")
    return client.get(callback[len("http://testserver") :])
