"""Hostile and malformed input on every legacy endpoint: a clear error, never a traceback.

Each endpoint gets each nasty value in each of its parameters (as a logged-in admin, so the
value reaches the code behind authentication). Answers must not be HTTP 500 and JSON answers
must carry the legacy envelope.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_call

NASTY = [
    "",
    "'",
    '"',
    "%",
    "_",
    "!",
    "\\",
    "\x00",
    "{",
    "[1,2]",
    '{"a":',
    "9" * 40,
    "-1",
    "1e308",
    "2026-13-45",
    "0000-00-00 00:00:00",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "∆ünïcødé",
    "1; DROP TABLE cdr",
    "0x" + "f" * 40,
    "300.300.300.300/40",
]

API_PARAMS = {
    "getVoipCalls": [
        "startTime",
        "startTimeTo",
        "callEnd",
        "caller",
        "called",
        "callId",
        "cdrId",
        "id_sensor",
        "msisdn",
        "onlyConnected",
        "customHeaders",
    ],
    "listCdrIds": ["offset", "size", "startTime"],
    "getPCAP": ["cdrId", "callId", "cidInterval", "cidMerge", "zip"],
    "getVoiceRecording": ["cdrId", "callId", "calldate", "zip", "ogg", "saveaudio_afterconnect"],
    "getAudioGraph": ["cdrId", "type", "side"],
    "listActiveCalls": ["sensorId", "callId"],
    "handleActiveCall": ["sensorId", "command", "callRef"],
}
SQL_FIELDS = [
    "fdatefrom",
    "fdateto",
    "fcaller",
    "fcalled",
    "fcallerd_type",
    "fsipcallerip",
    "fcallid",
    "fsipresponse",
    "fdurationgt",
    "fsensor_id",
    "fcodec",
    "fmosf1",
    "floss1",
    "f_d50",
    "fcustom_header_1_1",
    "page",
    "start",
    "limit",
    "sort",
    "suppress_results",
    "group_by",
]
BASE_PARAMS = {
    "startTime": "2026-11-27",
    "cdrId": 1,
    "sensorId": 1,
    "command": "pausecall",
    "callRef": "0x1",
}


def envelope_ok(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.get("Content-Type", "").startswith("application/json"):
        content = b"".join(response.streaming_content) if response.streaming else response.content
        body = json.loads(content)
        assert isinstance(body.get("success"), bool), body


@pytest.fixture
def admin_client(db, settings):
    settings.MANAGER_CONNECT_TIMEOUT = 0.2
    settings.MANAGER_TIMEOUT = 0.2
    make_call(ID=1)
    get_user_model().objects.create_superuser("root", "r@x", "root-pass-1")
    client = Client()
    body = json.loads(
        client.get(
            "/php/model/sql.php", {"module": "bypass_login", "user": "root", "pass": "root-pass-1"}
        ).content
    )
    assert body["success"]
    return client


@pytest.mark.parametrize("task", list(API_PARAMS))
def test_api_php_answers_every_nasty_param_with_the_envelope(admin_client, task):
    for name in API_PARAMS[task]:
        for value in NASTY:
            params = {**BASE_PARAMS, name: value}
            for raw in (json.dumps(params), f"{{'{name}': '{value}'}}", value):
                response = admin_client.get(
                    "/php/api.php",
                    {"task": task, "user": "root", "password": "root-pass-1", "params": raw},
                )
                envelope_ok(response)


def test_sql_php_answers_every_nasty_filter_with_the_envelope(admin_client):
    for module in ("CDR", "CDR_stats"):
        for name in SQL_FIELDS:
            for value in NASTY:
                fields = {
                    "task": "LISTING",
                    "module": module,
                    "fdatefrom": "2026-11-27",
                    name: value,
                }
                envelope_ok(admin_client.get("/php/model/sql.php", fields))
                envelope_ok(admin_client.post("/php/model/sql.php", fields))


def test_the_other_php_paths_answer_nasty_ids_with_the_envelope(admin_client):
    for value in NASTY:
        envelope_ok(admin_client.get("/php/pcap.php", {"id": value}))
        envelope_ok(admin_client.get("/php/wav.php", {"id": value, "key": value}))
        # the deep link (a GUI page now): its redirect and the list page it leads to
        envelope_ok(admin_client.get("/admin.php", {"cdr_filter": value}, follow=True))
        for action in ("brief_data", "brief", "getMSC", "text", value):
            envelope_ok(admin_client.get("/php/pcap2text.php", {"action": action, "id": value}))
