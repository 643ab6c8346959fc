"""Helpers of the REST API tests: tokens for users, a client that sends them."""

from __future__ import annotations

import json

from django.test import Client

from api.rest import tokens


def token_for(user, **options) -> str:
    """A new token of ``user`` (read-only unless ``read_only=False``)."""
    return tokens.create(user, "test token", **options).secret


class TokenClient(Client):
    """A test client that sends ``Authorization: Bearer <token>`` with every request."""

    def __init__(self, token: str, **defaults) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {token}", **defaults)


def problem(response) -> dict:
    """The problem JSON of an error answer (and checks that it is one)."""
    assert response["Content-Type"] == "application/problem+json", response.content[:200]
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    return body
