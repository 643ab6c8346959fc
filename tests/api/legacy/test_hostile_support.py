"""Shared helper of the hostile-value tests (this module has no tests of its own)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client

from tests.api.legacy.test_api_php_support import FAST_HASHERS

ROOT, ROOT_PASSWORD = "root", "root-pass-1"


def superuser_session(settings) -> Client:
    """A client logged in to sql.php (and pcap.php, pcap2text) as a new superuser ``root``,
    whose password also works for api.php."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    get_user_model().objects.create_superuser(ROOT, "r@x", ROOT_PASSWORD)
    client = Client()
    body = client.get(
        "/php/model/sql.php", {"module": "bypass_login", "user": ROOT, "pass": ROOT_PASSWORD}
    ).json()
    assert body["success"], body
    return client
