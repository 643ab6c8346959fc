"""A custom_login hook like an admin's: a small user table standing in for an external system.

Tests change ``USERS`` (monkeypatch) to make the "external system" answer something else.
"""

import zlib

USERS = {
    "alice": {
        "password": "alice-secret",
        "answer": {
            "username": "alice",
            "id": 1001,
            "name": "Alice Nováková",
            "email": "alice@example.com",
            "group_name": "support",
            "can_pcap": 1,
            "can_play_audio": "0",
            "enable_sensors": [1, 2],
            "number": "420%",
        },
    },
    "bob": {
        "password": "bob-secret",
        # crc32 of the e-mail, as the spec suggests for directories without numeric ids
        "answer": {"username": "bob", "id": zlib.crc32(b"bob@example.com"), "is_admin": True},
    },
    # returns alice's id: the spec's "two users share one id" mistake
    "mallory": {"password": "mallory-secret", "answer": {"username": "mallory", "id": 1001}},
    "noid": {"password": "noid-secret", "answer": {"username": "noid"}},
    "textid": {"password": "textid-secret", "answer": {"username": "textid", "id": "12a"}},
    "blocked": {
        "password": "blocked-secret",
        "answer": {
            "username": "blocked",
            "id": 1005,
            "blocked": True,
            "blocked_reason": "contract ended",
        },
    },
    "secure": {
        "password": "secure-secret",
        "answer": {"username": "secure", "id": 1006, "req_2fa": True},
    },
    "admin": {
        "password": "hook-admin",
        "answer": {"username": "admin", "id": 1007, "is_admin": True},
    },
    "broken": {
        "password": "broken-secret",
        "answer": {"username": "broken", "id": 1008, "ip": "10.0.0.300"},
    },
}


def custom_login(user, password):
    entry = USERS.get(user)
    if entry is None or entry["password"] != password:
        return False
    return dict(entry["answer"])


def exploding_login(user, password):
    raise RuntimeError("directory timeout at 10.1.2.3")
