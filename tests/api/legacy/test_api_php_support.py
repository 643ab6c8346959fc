"""Shared helpers of the api.php tests (this module has no tests of its own).

``call_api`` sends one request to /php/api.php through Django's test client in a chosen
transport and returns the decoded JSON, after checking the invariants of every answer:
HTTP 200 and a JSON object with a boolean ``success``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserProfile

URL = "/php/api.php"
# Django's default PBKDF2 costs ~0.3 s per check; tests use a fast hasher (settings fixture).
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USER = "apiuser"
PASSWORD = "s3cret-pass"


def make_api_user(
    username: str = USER,
    password: str = PASSWORD,
    *,
    source: str = UserProfile.Source.LOCAL,
    blocked: bool = False,
    blocked_reason: str = "",
    can_cdr: bool = True,
):
    """A local API user who may read CDRs (``can_cdr``) unless told otherwise."""
    user = get_user_model().objects.create_user(username=username, password=password)
    UserProfile.objects.create(
        user=user,
        source=source,
        blocked=blocked,
        blocked_reason=blocked_reason,
        can_cdr=can_cdr,
    )
    return user


def decode(response) -> dict[str, Any]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert isinstance(body, dict) and isinstance(body.get("success"), bool), body
    if not body["success"]:
        assert isinstance(body["errors"]["reason"], str) and body["errors"]["reason"]
    return body


def call_api(
    params: Any = None,
    *,
    task: str | None = "getVoipCalls",
    user: str | None = USER,
    password: str | None = PASSWORD,
    transport: str = "get",
    client: Client | None = None,
    url: str = URL,
    **extra: Any,
) -> dict[str, Any]:
    """Send one api.php request. ``params`` (a dict) is sent as JSON text unless it is a str.

    transport: ``get`` (query string), ``form`` (urlencoded body), ``query_post`` (POST, fields
    in the query string, empty body), ``multipart``, ``json`` (raw JSON body, with a form
    content type like ``curl -d @-``).
    """
    client = client or Client()
    fields: dict[str, Any] = {}
    if task is not None:
        fields["task"] = task
    if user is not None:
        fields["user"] = user
    if password is not None:
        fields["password"] = password
    fields.update(extra)
    if transport == "json":
        body = dict(fields)
        if params is not None:
            body["params"] = params
        return decode(
            client.post(
                url, data=json.dumps(body), content_type="application/x-www-form-urlencoded"
            )
        )
    if params is not None:
        fields["params"] = params if isinstance(params, str) else json.dumps(params)
    if transport == "get":
        return decode(client.get(url, fields))
    if transport == "form":
        return decode(
            client.post(url, urlencode(fields), content_type="application/x-www-form-urlencoded")
        )
    if transport == "query_post":
        return decode(
            client.post(
                f"{url}?{urlencode(fields)}", b"", content_type="application/x-www-form-urlencoded"
            )
        )
    if transport == "multipart":
        return decode(client.post(url, fields))
    raise ValueError(transport)


def ok(body: dict[str, Any]) -> dict[str, Any]:
    """Assert a success answer and return it."""
    assert body["success"] is True, body
    return body


def reason(body: dict[str, Any]) -> str:
    """Assert an error answer and return its reason."""
    assert body["success"] is False, body
    assert set(body) == {"success", "errors"}, body
    return body["errors"]["reason"]


def cdr_ids(body: dict[str, Any]) -> list[int]:
    return [row["cdrId"] for row in ok(body)["cdr"]]
