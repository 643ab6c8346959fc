"""Property-based tests of every parameter of api.php, sql.php, pcap2text.php, pcap.php, wav.php
and the admin.php deep link (served by the GUI's CDR list).

Hostile values (lone surrogates, NUL, huge text, deep JSON, SQL and LIKE metacharacters),
numbers at every edge and dates at the edges of the calendar, in every parameter, as JSON and
as text. Every answer must be a success or the envelope: never "internal error", never a
5xx, within a time bound. For the text filters the rows found must be exactly what the value
literally means, checked against a direct SQL query on the stored bytes.

Profiles (tests/hypothesis_profiles.py): ``ci`` by default (a few derandomized examples per
test, part of ``make test``), ``VMGUI_HYPOTHESIS_PROFILE=long`` for a long random hunt.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from hypothesis import given, note
from hypothesis import strategies as st

import tests.hypothesis_profiles  # noqa: F401 - registers and loads the profile
from tests.api.legacy.test_bad_input import API_PARAMS as BASIC_PARAMS
from tests.api.legacy.test_bad_input import SQL_FIELDS as BASIC_SQL_FIELDS
from tests.api.legacy.test_hostile_support import superuser_session
from tests.conftest import is_mysql
from tests.factories import make_call

TIME_BOUND_S = 5.0  # per request; the slowest seen in the long profile is ~0.3 s
INTERNAL = "internal error"

# test_bad_input's parameter lists, plus those it leaves out.
MORE_PARAMS = {
    "getVoipCalls": ["endTime"],
    "listCdrIds": ["caller", "callId", "cdrId"],
    "getPCAP": ["calldate"],
}
API_PARAMS = {task: [*names, *MORE_PARAMS.get(task, [])] for task, names in BASIC_PARAMS.items()}
SQL_FIELDS = [
    *BASIC_SQL_FIELDS,
    "fcaller_domain",
    "fcalled_domain",
    "fsipcalledip",
    "fdurationlt",
    "frtcp_avgjitter",
    "frtcp_avgfr",
    "fcustom_header__X-Nope",
    "dir",
    "deferTotal",
    "needColumns",
]
PCAP2TEXT_FIELDS = [
    "action",
    "id",
    "cdrId",
    "callId",
    "calldate",
    "cidInterval",
    "cidMerge",
    "format",
    "rtp",
    "full",
]
MEDIA_FIELDS = {"/php/pcap.php": ["id", "disable_rtp"], "/php/wav.php": ["id", "key", "format"]}

# --- values -----------------------------------------------------------------------------------

EDGE_NUMBERS = [
    "0",
    "-0",
    "1",
    "-1",
    "00001",
    " 7 ",
    "1.5",
    "1,5",
    "1e3",
    "1e20",
    "1e308",
    "1e400",
    "-1e308",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    "9" * 20,
    "9" * 5000,
    str(2**31),
    str(2**53 - 1),
    str(2**53),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "٣",  # an Arabic-Indic digit: int() reads it
]
EDGE_DATES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00 00:00:00",
    "2026-02-29",
    "2024-02-29T24:00:00",
    "2026-12-31T23:59:60Z",
    "1969-12-31T23:59:59-00:01",
    "12/31/9999 11:59:59 PM",
    "31.12.9999 23:59",
    "99991231235959",
    "253402300799",
    "253402300800000",
    "-1",
    "2026-11-27T10:00:00+23:59",
    "2026-11-27T10:00:00+24:00",
]
HOSTILE_TEXT = [
    "",
    " ",
    "'",
    '"',
    "\\",
    "%",
    "_",
    "!",
    "%%%%%%%%%%%%%%%#",
    "%_%_%_%_%_%_%_%_#",
    "!%",
    "!_",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202e",
    "日本%",
    "☎️%",
    "žluťoučký.cz",
    "' OR 1=1 --",
    "1; DROP TABLE cdr",
    "/*",
    "*/",
    "${jndi:x}",
    "<script>",
    "../../etc/passwd",
    "[",
    "{",
    "[1,2]",
    '{"a":',
    "x" * 100_000,
    "%" * 3000,
    "1," * 3000,
    "10.0.0.0/8",
    "::/0",
    "300.1.1.1",
    "10.0.0.1/33",
    "0x7f0e4c3c2680",
]


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def date_text() -> st.SearchStrategy[str]:
    offsets = st.sampled_from(["", "Z", "+14:00", "-14:00", "+00:00", " 05:30", "-0930"])
    return st.one_of(
        st.sampled_from(EDGE_DATES),
        st.builds(
            lambda d, sep, off: d.isoformat(sep=sep) + off,
            st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
            st.sampled_from(["T", " "]),
            offsets,
        ),
    )


TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs", "Cc"]), max_size=20),
    st.text(st.sampled_from("%_!'\"\\\x00é日\ud800,;"), max_size=30),
    st.sampled_from(EDGE_NUMBERS),
    date_text(),
    st.integers(1, 5000).map(deep),
)
JSON_SCALAR = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
JSON_VALUE = st.one_of(
    JSON_SCALAR,
    st.lists(JSON_SCALAR, max_size=5),
    st.dictionaries(st.text(max_size=8), JSON_SCALAR, max_size=3),
)

# --- fixtures and checks ------------------------------------------------------------------------


@pytest.fixture
def world(db, settings):
    settings.MANAGER_CONNECT_TIMEOUT = 0.2
    settings.MANAGER_TIMEOUT = 0.2
    settings.WAV_PHP_KEY = "wav-key-1"
    make_call("2026-11-27 10:00:00", ID=1, caller="100%", called="1_01", call_id="a!b%c@x")
    make_call("2026-11-27 11:00:00", ID=2, caller="1001", called="2001")
    return superuser_session(settings)


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def answered(send) -> Any:
    """Run one request: no 5xx, within the bound, and a JSON answer is the envelope."""
    start = time.perf_counter()
    response = send()
    content = _content(response)
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_BOUND_S, f"{elapsed:.2f} s"
    assert response.status_code < 500, content[:300]
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(content)
        assert isinstance(body.get("success"), bool), body
        if not body["success"]:
            reason = (body.get("errors") or {}).get("reason") or body.get("error", {}).get("type")
            assert reason, body
            assert INTERNAL not in str(reason), reason
        return body
    assert INTERNAL.encode() not in content[:5000]
    return None


def _text_or_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _form(fields: dict[str, Any]) -> str:
    """Fields urlencoded as a client's bytes would be: a lone surrogate becomes the invalid
    UTF-8 bytes a broken client sends (``%ED%A0%80``); the server must cope with those."""
    return urlencode(
        {k: _text_or_json(v).encode("utf-8", "surrogatepass") for k, v in fields.items()}
    )


def send_form(client: Client, method: str, path: str, fields: dict[str, Any], **headers):
    if method == "get":
        return client.get(f"{path}?{_form(fields)}", headers=headers)
    return client.post(
        path, _form(fields), content_type="application/x-www-form-urlencoded", headers=headers
    )


# --- every parameter of every endpoint ----------------------------------------------------------

BASE = {
    "startTime": "2026-11-27",
    "cdrId": 1,
    "sensorId": 1,
    "command": "pausecall",
    "callRef": "0x1",
}


@given(
    task=st.sampled_from(sorted(API_PARAMS)),
    data=st.data(),
    value=JSON_VALUE,
    as_text=st.booleans(),
)
def test_api_php_answers_every_value_of_every_param(world, task, data, value, as_text):
    name = data.draw(st.sampled_from(API_PARAMS[task]), label="param")
    params = {**BASE, name: value}
    raw = json.dumps(params, ensure_ascii=False) if not as_text else _loose(params)
    fields = {"task": task, "user": "root", "password": "root-pass-1", "params": raw}
    note(repr(fields)[:500])
    answered(lambda: send_form(world, "post", "/php/api.php", fields))


def _loose(params: dict) -> str:
    """The spec's pseudo-JSON form: single quotes, bare keys (what some clients send)."""
    parts = []
    for key, value in params.items():
        text = str(value).replace("\\", "\\\\").replace("'", "\\'")
        # non-ASCII BMP characters (surrogates too) as \\uXXXX escapes, as JavaScript writes them
        text = "".join(
            c if c.isascii() else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in text
        )
        parts.append(f"{key}:'{text}'")
    return "{" + ",".join(parts) + "}"


@given(value=TEXT, field=st.sampled_from(["task", "user", "password", "params"]))
def test_api_php_answers_every_value_of_its_top_level_fields(world, value, field):
    fields = {
        "task": "getVoipCalls",
        "user": "root",
        "password": "root-pass-1",
        "params": json.dumps({"startTime": "2026-11-27"}),
        field: value,
    }
    body = json.dumps(fields)  # ensure_ascii: a surrogate travels as its \\ud800 escape
    answered(lambda: world.post("/php/api.php", body, content_type="application/json"))


@given(
    name=st.sampled_from(SQL_FIELDS),
    value=st.one_of(TEXT, JSON_VALUE),
    module=st.sampled_from(["CDR", "CDR_stats"]),
    as_json=st.booleans(),
)
def test_sql_php_answers_every_value_of_every_field(world, name, value, module, as_json):
    fields = {"task": "LISTING", "module": module, "fdatefrom": "2026-11-27", name: value}
    note(repr(fields)[:500])
    if as_json:
        body = json.dumps(fields)
        answered(lambda: world.post("/php/model/sql.php", body, content_type="application/json"))
    else:
        answered(lambda: send_form(world, "post", "/php/model/sql.php", fields))


@given(
    name=st.sampled_from(PCAP2TEXT_FIELDS),
    value=TEXT,
    action=st.sampled_from(["brief_data", "brief", "getMSC", "text"]),
    html=st.booleans(),
)
def test_pcap2text_answers_every_value_of_every_field(world, name, value, action, html):
    fields = {"action": action, "id": "1", name: value}
    headers = {"Accept": "text/html"} if html else {}
    answered(lambda: send_form(world, "post", "/php/pcap2text.php", fields, **headers))


@given(
    path=st.sampled_from(sorted(MEDIA_FIELDS)),
    data=st.data(),
    value=TEXT,
    method=st.sampled_from(["get", "post"]),
)
def test_pcap_and_wav_php_answer_every_value_of_every_field(world, path, data, value, method):
    name = data.draw(st.sampled_from(MEDIA_FIELDS[path]), label="field")
    fields = {"id": "1", "key": "wav-key-1", name: value}
    answered(lambda: send_form(world, method, path, fields))


# --- rows are what the value literally means ----------------------------------------------------

_ids = iter(range(10_000, 1_000_000))
SEARCHABLE = st.text(
    st.characters(
        codec="utf-8", exclude_characters="%,\x00", exclude_categories=["Cs", "Zl", "Zp"]
    ),
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() == t and len(t.encode()) <= 60)


def _store(cdr_id: int, column: str, text: str) -> None:
    """Write ``text`` the way the sniffer does (UTF-8 bytes in the latin1 column)."""
    qn = connection.ops.quote_name
    table = "cdr_next" if column == "fbasename" else "cdr"
    key = "cdr_ID" if table == "cdr_next" else "ID"
    slot = "UNHEX(%s)" if is_mysql() else "%s"
    value = text.encode().hex() if is_mysql() else text
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(table)} SET {qn(column)} = {slot} WHERE {qn(key)} = %s", [value, cdr_id]
        )


def _direct(column: str, pattern: str) -> list[int]:
    """The IDs a direct query finds: ``=`` (no %) or ``LIKE .. ESCAPE '!'`` on the raw bytes."""
    qn = connection.ops.quote_name
    table, key = ("cdr_next", "cdr_ID") if column == "fbasename" else ("cdr", "ID")
    op, text = ("=", pattern) if "%" not in pattern else ("LIKE", pattern.replace("!", "!!"))
    slot = "CONVERT(UNHEX(%s) USING latin1)" if is_mysql() else "%s"
    value = text.encode().hex() if is_mysql() else text
    escape = " ESCAPE '!'" if op == "LIKE" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(key)} FROM {qn(table)} WHERE {qn(column)} {op} {slot}{escape} "
            f"ORDER BY {qn(key)}",
            [value],
        )
        return [row[0] for row in cursor.fetchall()]


@given(
    text=SEARCHABLE,
    suffix=st.sampled_from(["", "%", "%_", "_%"]),
    prefix=st.sampled_from(["", "%"]),
)
def test_number_and_call_id_searches_find_exactly_what_the_value_means(world, text, suffix, prefix):
    cdr_id = next(_ids)
    make_call("2026-11-27 12:00:00", ID=cdr_id)
    _store(cdr_id, "caller", text)
    _store(cdr_id, "caller_reverse", text[::-1])
    _store(cdr_id, "caller_domain", text)
    _store(cdr_id, "fbasename", text)
    pattern = prefix + text + suffix
    expected = {
        "caller": _direct("caller", pattern),
        "caller_domain": _direct("caller_domain", pattern),
        "fbasename": _direct("fbasename", pattern),
    }
    note(f"pattern={pattern!r} expected={expected}")
    if suffix in ("", "%"):  # the direct query must find the row it was written for
        assert cdr_id in expected["caller"]
    api = {"task": "getVoipCalls", "user": "root", "password": "root-pass-1"}
    found = answered(
        lambda: world.post(
            "/php/api.php",
            {**api, "params": json.dumps({"startTime": "2026-11-27", "caller": pattern})},
        )
    )
    assert found["success"], found
    assert [r["cdrId"] for r in found["cdr"]] == expected["caller"]
    found = answered(
        lambda: world.post(
            "/php/api.php",
            {**api, "params": json.dumps({"startTime": "2026-11-27", "callId": pattern})},
        )
    )
    assert sorted(r["cdrId"] for r in found["cdr"]) == expected["fbasename"]
    listing = answered(
        lambda: world.post(
            "/php/model/sql.php",
            {
                "task": "LISTING",
                "module": "CDR",
                "fdatefrom": "2026-11-27",
                "sort": "ID",
                "limit": "-1",
                "fcaller_domain": pattern,
            },
        )
    )
    assert [r["ID"] for r in listing["results"]] == expected["caller_domain"]
    rows = {r["cdrId"]: r for r in found["cdr"]}
    if cdr_id in rows:
        assert rows[cdr_id]["caller"] == text and rows[cdr_id]["callId"] == text


@given(name=st.sampled_from(SQL_FIELDS), value=JSON_VALUE, raw=st.one_of(st.none(), TEXT))
def test_the_admin_php_deep_link_answers_every_filter(world, name, value, raw):
    cdr_filter = json.dumps({name: value}) if raw is None else raw
    # A GUI page now: the redirect, and the list page it leads to, must answer too (HTML: the
    # list, or its message; never JSON).
    sent = []
    link = {"cdr_filter": cdr_filter}
    assert (
        answered(lambda: sent.append(send_form(world, "get", "/admin.php", link)) or sent[0])
        is None
    )
    if sent[0].status_code == 302:
        assert answered(lambda: world.get(sent[0]["Location"])) is None
