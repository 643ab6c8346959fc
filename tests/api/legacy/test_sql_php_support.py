"""Shared helpers of the sql.php tests (this module has no tests of its own).

``send`` makes one request to /php/model/sql.php in a chosen transport and returns the decoded
JSON after checking the invariants of every answer: HTTP 200, JSON, a boolean ``success``,
and for failures either the no_session shape or ``error.type``/``error.descr`` +
``errors.reason``. Streamed answers are joined first.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from tests.api.legacy.test_api_php_support import PASSWORD, USER, make_api_user

URL = "/php/model/sql.php"
DEEP_LINK = "/admin.php"


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def decode(response) -> dict[str, Any]:
    assert response.status_code == 200, body_of(response)[:500]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(body_of(response))
    assert isinstance(body, dict) and isinstance(body.get("success"), bool), body
    if not body["success"]:
        error = body["error"]
        assert isinstance(error["type"], str) and error["type"], body
        if error["type"] != "no_session":
            assert error["descr"] == body["errors"]["reason"] and error["descr"], body
    return body


def send(
    fields: dict[str, Any], *, transport: str = "get", client: Client | None = None, **headers
) -> dict[str, Any]:
    """One sql.php request. transport: ``get``, ``form`` (urlencoded POST body),
    ``query_post`` (POST, fields in the query string, empty body), ``multipart``,
    ``json`` (raw JSON body sent with a form content type)."""
    client = client or Client()
    fields = {k: v for k, v in fields.items() if v is not None}
    if transport == "get":
        return decode(client.get(URL, fields, headers=headers))
    if transport == "form":
        return decode(
            client.post(
                URL,
                urlencode(fields, doseq=True),
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        )
    if transport == "query_post":
        query = urlencode(fields, doseq=True)
        return decode(
            client.post(
                f"{URL}?{query}",
                b"",
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        )
    if transport == "multipart":
        return decode(client.post(URL, fields, headers=headers))
    if transport == "json":
        return decode(
            client.post(
                URL,
                json.dumps(fields),
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        )
    raise ValueError(transport)


def login(client: Client, user: str = USER, password: str = PASSWORD) -> str:
    """bypass_login on ``client`` (its cookie jar keeps the session); returns the SID."""
    body = send({"module": "bypass_login", "user": user, "pass": password}, client=client)
    assert body["success"] is True, body
    return body["SID"]


def session_client() -> Client:
    """A client logged in as a fresh local user who may read CDRs."""
    make_api_user()
    client = Client()
    login(client)
    return client


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert body["success"] is True, body
    return body


def error(body: dict[str, Any]) -> tuple[str, str]:
    """(error type, reason) of a failure answer."""
    assert body["success"] is False, body
    return body["error"]["type"], body["error"].get("descr", "")


def ids(body: dict[str, Any]) -> list[int]:
    return [row["ID"] for row in ok(body)["results"]]
