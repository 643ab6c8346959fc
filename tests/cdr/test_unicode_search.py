"""Non-Latin text in the sniffer's latin1 tables: searched as the stored bytes, shown as sent.

The sniffer stores the UTF-8 bytes it received in latin1 columns (sniffer-schema §1). These
tests write rows exactly so — on MariaDB the raw bytes (checked with HEX()), on SQLite the text
itself, which is how SQLite stores UTF-8 — and search them through every face and the engine.
Before the fix every such search ended in MariaDB's "Illegal mix of collations" and the
names read back as "æ—¥æœ¬".
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from cdr.query.engine import CdrFilter, cdr_queryset, fetch_rows
from cdr.query.rows import display_texts
from cdr.query.scope import CdrScope
from cdr.query.storedtext import display_text, stored_form
from tests.api.legacy.test_hostile_support import superuser_session
from tests.conftest import is_mysql
from tests.factories import make_call

JAPANESE = {"caller": "日本123", "callername": "山田 太郎", "called_domain": "例え.jp"}
CZECH = {"caller": "+420601", "callername": "Žluťoučký kůň", "caller_domain": "žluťoučký.cz"}
EMOJI = {"caller": "☎️555", "callername": "📞 Support"}
CYRILLIC_CALL_ID = "звонок-42@пример.рф"


def sniffer_writes(cdr_id: int, **texts: str) -> None:
    """Overwrite text columns the way the sniffer writes them: UTF-8 bytes (+ *_reverse)."""
    values: dict[str, str] = {}
    for column, text in texts.items():
        if column == "fbasename":
            continue
        values[column] = text
        if column in ("caller", "called", "callername"):
            values[f"{column}_reverse"] = text[::-1]  # reversed by character, like the sniffer
    qn = connection.ops.quote_name

    # MariaDB: the bytes themselves (UNHEX gives a binary string, stored unconverted).
    slot = "UNHEX(%s)" if is_mysql() else "%s"

    def param(text: str) -> str:
        return text.encode("utf-8").hex() if is_mysql() else text

    with connection.cursor() as cursor:
        if values:
            sets = ", ".join(f"{qn(c)} = {slot}" for c in values)
            cursor.execute(
                f"UPDATE {qn('cdr')} SET {sets} WHERE {qn('ID')} = %s",
                [*(param(v) for v in values.values()), cdr_id],
            )
        if "fbasename" in texts:
            cursor.execute(
                f"UPDATE {qn('cdr_next')} SET {qn('fbasename')} = {slot} WHERE {qn('cdr_ID')} = %s",
                [param(texts["fbasename"]), cdr_id],
            )


@pytest.fixture
def calls(db):
    make_call("2026-11-27 10:00:00", ID=1, caller="1001", callername="Alice")
    make_call("2026-11-27 10:01:00", ID=2)
    sniffer_writes(2, **JAPANESE)
    make_call("2026-11-27 10:02:00", ID=3)
    sniffer_writes(3, **CZECH)
    make_call("2026-11-27 10:03:00", ID=4)
    sniffer_writes(4, **EMOJI, fbasename=CYRILLIC_CALL_ID)
    # A phone that sent real latin1 bytes (not UTF-8): shown as latin1, never an error.
    make_call("2026-11-27 10:04:00", ID=5, caller="5005", callername="Müller" * (not is_mysql()))
    if is_mysql():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cdr SET callername = UNHEX(%s) WHERE ID = 5",
                ["Müller".encode("latin-1").hex()],
            )


@pytest.fixture
def admin(db, settings):
    return superuser_session(settings)


def api(client: Client, **params) -> dict:
    body = client.get(
        "/php/api.php",
        {
            "task": "getVoipCalls",
            "user": "root",
            "password": "root-pass-1",
            "params": json.dumps({"startTime": "2026-11-27", **params}),
        },
    ).json()
    assert body["success"], body
    return body


def api_ids(client: Client, **params) -> list[int]:
    return [row["cdrId"] for row in api(client, **params)["cdr"]]


def sql_ids(client: Client, **fields) -> list[int]:
    body = client.get(
        "/php/model/sql.php",
        {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27", "sort": "ID", **fields},
    ).json()
    assert body["success"], body
    return [row["ID"] for row in body["results"]]


@pytest.mark.mysql
def test_the_test_rows_hold_the_utf8_bytes_in_latin1_columns(calls):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cdr' AND COLUMN_NAME = 'caller'"
        )
        assert cursor.fetchone()[0] == "latin1"
        cursor.execute("SELECT HEX(caller), HEX(callername) FROM cdr WHERE ID = 2")
        caller, name = cursor.fetchone()
    assert bytes.fromhex(caller) == "日本123".encode()
    assert bytes.fromhex(name) == "山田 太郎".encode()


def test_names_read_back_as_the_text_the_phone_sent(calls, admin):
    rows = {row["cdrId"]: row for row in api(admin)["cdr"]}
    assert rows[2]["caller"] == "日本123"
    assert rows[2]["callername"] == "山田 太郎"
    assert rows[2]["called_domain"] == "例え.jp"
    assert rows[3]["callername"] == "Žluťoučký kůň"
    assert rows[3]["caller_domain"] == "žluťoučký.cz"
    assert rows[4]["caller"] == "☎️555"
    assert rows[4]["callername"] == "📞 Support"
    assert rows[4]["callId"] == CYRILLIC_CALL_ID
    assert rows[5]["callername"] == "Müller"


def test_api_php_finds_a_japanese_caller_prefix(calls, admin):
    assert api_ids(admin, caller="日本%") == [2]
    assert api_ids(admin, caller="日本123") == [2]
    assert api_ids(admin, caller="%本123") == [2]  # ends-with: the caller_reverse column


def test_api_php_finds_an_emoji_prefix(calls, admin):
    assert api_ids(admin, caller="☎️%") == [4]


def test_api_php_finds_a_cyrillic_call_id(calls, admin):
    assert api_ids(admin, callId=CYRILLIC_CALL_ID) == [4]
    assert api_ids(admin, callId="звонок%") == [4]


def test_sql_php_finds_a_czech_domain_and_japanese_numbers(calls, admin):
    assert sql_ids(admin, fcaller_domain="žluťoučký.cz") == [3]
    assert sql_ids(admin, fcaller="日本%,☎️%") == [2, 4]
    assert sql_ids(admin, fcallid=CYRILLIC_CALL_ID) == [4]


def test_sql_php_rows_show_the_sent_names(calls, admin):
    body = admin.get(
        "/php/model/sql.php",
        {"task": "LISTING", "module": "CDR", "fdatefrom": "2026-11-27", "fcaller": "日本%"},
    ).json()
    assert [(r["caller"], r["callername"]) for r in body["results"]] == [("日本123", "山田 太郎")]


def test_a_non_latin_value_that_is_stored_nowhere_finds_nothing(calls, admin):
    assert api_ids(admin, caller="中国%") == []
    assert sql_ids(admin, fcaller_domain="пример.рф") == []


def test_ascii_searches_keep_working_next_to_non_latin_rows(calls, admin):
    assert api_ids(admin, caller="100%") == [1]
    assert sql_ids(admin, fcaller="+420%") == [3]


def test_the_engine_reads_the_sent_text_for_every_face(calls):
    rows = fetch_rows(CdrFilter(caller=["日本%"]), CdrScope.unrestricted())
    assert [(r["ID"], r["callername"]) for r in rows] == [(2, "山田 太郎")]


def test_stored_form_and_display_text_are_inverse():
    for text in ("日本", "☎️", "žluťoučký.cz", "звонок", "ascii", "€\x81\x8d\x8f\x90\x9d"):
        assert display_text(stored_form(text)) == text
    assert stored_form("日") == "æ—¥"  # the bytes E6 97 A5 read as MySQL's latin1 (cp1252)
    assert display_text("M\u00fcller") == "Müller"  # real latin1: not UTF-8, kept
    assert display_text(stored_form("日本")[:-1]) == "日"  # cut inside a character


def test_a_page_column_shows_its_sent_text_whether_or_not_it_is_all_ascii():
    ascii_column = ("4206", None, "", "voip.example.com") * 10
    assert display_texts(ascii_column) is ascii_column  # nothing to translate: kept as is
    mixed = (*ascii_column, stored_form("žluťoučký.cz"), None, "M\u00fcller")
    assert list(display_texts(mixed)) == [*ascii_column, "žluťoučký.cz", None, "Müller"]
    assert display_texts((b"\xe6\x97\xa5", "x")) == [b"\xe6\x97\xa5", "x"]  # not text: kept


@pytest.mark.mysql
def test_a_non_latin_prefix_search_uses_the_caller_index(calls):
    qs = cdr_queryset(CdrFilter(caller=["日本%"]), CdrScope.unrestricted())
    plan = qs.explain()
    # MariaDB's EXPLAIN row: ... possible_keys, key ...: the index named "source" (caller).
    assert " range source source " in plan, plan
    qs = cdr_queryset(CdrFilter(caller=["%本123"]), CdrScope.unrestricted())
    assert " range source_reverse source_reverse " in qs.explain()
    assert list(qs.values_list("ID", flat=True)) == [2]
