"""A carrier-sized CDR table (issue 19): N calls in the sniffer's real layout, made server-side.

``generate(rows)`` (re)creates the sniffer schema (a year of daily partitions, IPv4 ``int``
columns, ``datetime(3)``, every index of ``cdr.ddl``) and fills its last ``DAYS`` with
MariaDB's SEQUENCE engine, one ``INSERT ... SELECT FROM seq_1_to_<n>`` per day and table, on
``VMGUI_BENCH_GEN_THREADS`` connections at once (default 2). The secondary indexes of ``cdr`` and ``cdr_next`` are dropped
first and built again at the end (one sorted build per index instead of 10M random B-tree
inserts): the final table has exactly ``create_schema``'s definition.

Distributions (all derived from a multiplicative hash of the CDR id, so every run produces the
same table):

* time: ``DAYS`` days from ``START``, the same number of calls a day, a daily curve with its
  busy hour around noon (2.5x the day's mean rate) and its quiet hour at night (0.6x);
* callers: 15 % from 200 call-centre numbers (thousands of calls each), 60 % Czech mobiles
  (``420`` 600-799 + 6 digits, ~2M subscribers, a few calls each), 15 % PBX extensions
  (``1000``-``1999``), 10 % international (+44, +49, +1); called numbers alike with their own
  hash; caller names with Czech, Japanese and emoji text (stored as the sniffer stores them:
  UTF-8 bytes in latin1 columns);
* domains (5, skewed), sensors 1-6 (skewed, 2 % without a sensor id), SIP IPs (50 PBXes, 8
  carriers), user agents (12), last SIP response (10 codes: 64 % 200, 12 % 487, 9 % 486 ...);
* answered calls: codecs (G.711 a/u, G.729, G.722, Opus), durations (exponential, mean ~2 min,
  after 2-20 s of ringing), MOS / jitter / loss with a 5 % bad tail; unanswered calls have no
  RTP values (NULL), as the sniffer writes them;
* ``cdr_next``: a unique Call-ID per call and a fixed custom header ``X-Customer-ID`` (40 %);
  ``cdr_next_1.custom_header_1`` = dynamic header ``X-Tenant`` (30 %).

Used by ``bench.carrier`` (``VMGUI_BENCH_ROWS``, default 1,000,000; issue 19 runs 10,000,000).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.db import connection, connections

from bench.common import raw_connection
from cdr import schema
from cdr.ddl import SchemaOptions, create_schema
from cdr.flags import FLAG_SAVE_FLAGS_VALID, FLAG_SIP_PCAP

START = dt.date(2026, 10, 1)
DAYS = 30
# The days of daily partitions before START: a sniffer keeps its partitions until
# ``cleandatabase`` drops them, so a carrier's table holds a year of them, not only the days a
# query reads. They are empty here (10M calls fill the last 30 days); a query bounded to those
# days never opens them, one that is not bounded opens every one (docs/benchmarks.md, "Tenth
# round": that was the page statement's joins).
HISTORY_DAYS = 335
MARKER = "carrier-v2"

SIP_RESPONSES = [
    (1, 200, "200 OK", 640),
    (2, 487, "487 Request Terminated", 760),
    (3, 486, "486 Busy Here", 850),
    (4, 480, "480 Temporarily Unavailable", 900),
    (5, 404, "404 Not Found", 930),
    (6, 503, "503 Service Unavailable", 955),
    (7, 408, "408 Request Timeout", 970),
    (8, 403, "403 Forbidden", 985),
    (9, 500, "500 Server Internal Error", 993),
    (10, 603, "603 Decline", 1000),
]
SENSORS = [(1, "prague-core"), (2, "brno-edge"), (3, "ostrava-edge"), (4, "sbc-a"), (5, "sbc-b"),
           (6, "lab")]  # fmt: skip
NAMES = ["Jan Novák", "Jiří Dvořák", "Anna Svobodová", "山田太郎", "佐藤花子", "Support 🎧",
         "Zákaznická linka", "Petr Černý", "Ålesund AS", "Reception"]  # fmt: skip
UAS = [f"Yealink SIP-T{n}G 66.86.0.{n}" for n in (46, 54, 57)] + [
    "Grandstream GXP2170 1.0.11.3",
    "Cisco-CP8845/14.2.1",
    "Asterisk PBX 20.5.0",
    "FreeSWITCH-mod_sofia/1.10.11",
    "Linphone/5.2.0 (belle-sip/5.2.0)",
    "MicroSIP/3.21.3",
    "Zoiper rv2.10.20.3",
    "Kamailio (5.7.4 (x86_64/linux))",
    "Ooma Telo 日本語 UA",
]


def _sql_text(value: str) -> str:
    """A literal whose latin1 form is ``value``'s UTF-8 bytes (as the sniffer stores text)."""
    return "CONVERT(X'" + value.encode("utf-8").hex() + "' USING latin1)"


def rows_for(rows: int) -> int:
    """The rows ``generate(rows)`` makes: the same number every day (10M → 9,999,990)."""
    return max(1, rows // DAYS) * DAYS


def _marker(history_days: int) -> str:
    return f"{MARKER}/{history_days}"


def row_count(using: str = "default", history_days: int = HISTORY_DAYS) -> int:
    """The rows of the generated table, or -1 when it was not made by ``generate(..,
    history_days)`` of this version."""
    conn = connections[using]
    if not schema.has_table("cdr", using):
        return -1
    with conn.cursor() as cursor:
        cursor.execute("SHOW TABLES LIKE 'bench_meta'")
        if cursor.fetchone() is None:
            return -1
        cursor.execute("SELECT marker, rows_made FROM bench_meta")
        found = cursor.fetchone()
    return found[1] if found and found[0] == _marker(history_days) else -1


def partitions(table: str = "cdr", using: str = "default") -> int:
    """How many partitions ``table`` has (0: not partitioned, or no such table)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s AND PARTITION_NAME IS NOT NULL",
            [table],
        )
        return cursor.fetchone()[0]


def _indexes(cursor, table: str) -> list[str]:
    """``ADD [UNIQUE] INDEX`` clauses of every secondary index of ``table``."""
    cursor.execute(f"SHOW INDEX FROM `{table}`")
    columns: dict[str, list[tuple[int, str]]] = {}
    unique: dict[str, bool] = {}
    for row in cursor.fetchall():
        name, seq, column, non_unique = row[2], row[3], row[4], row[1]
        if name == "PRIMARY":
            continue
        columns.setdefault(name, []).append((seq, column))
        unique[name] = not non_unique
    return [
        f"ADD {'UNIQUE ' if unique[name] else ''}INDEX `{name}` ("
        + ", ".join(f"`{c}`" for _, c in sorted(cols))
        + ")"
        for name, cols in columns.items()
    ]


def _cdr_sql(day: int, per_day: int) -> str:
    first = day * per_day
    date = (START + dt.timedelta(days=day)).isoformat()
    names = ", ".join(_sql_text(n) for n in NAMES)
    responses = " ".join(f"WHEN r < {limit} THEN {rid}" for rid, _, _, limit in SIP_RESPONSES)
    codes = " ".join(f"WHEN r < {limit} THEN {code}" for _, code, _, limit in SIP_RESPONSES)
    return f"""
    INSERT INTO cdr (ID, calldate, callend, duration, connect_duration, progress_time,
        first_rtp_time, caller, caller_reverse, callername, callername_reverse, called,
        called_reverse, caller_domain, called_domain, sipcallerip, sipcalledip, sipcallerport,
        sipcalledport, whohanged, bye, lastSIPresponse_id, lastSIPresponseNum, id_sensor,
        a_ua_id, b_ua_id, a_payload, b_payload, payload, a_received, b_received, a_lost, b_lost,
        a_maxjitter, b_maxjitter, a_avgjitter_mult10, b_avgjitter_mult10, a_mos_f1_mult10,
        b_mos_f1_mult10, a_mos_f2_mult10, b_mos_f2_mult10, a_mos_adapt_mult10,
        b_mos_adapt_mult10, mos_min_mult10, a_packet_loss_perc_mult1000,
        b_packet_loss_perc_mult1000, packet_loss_perc_mult1000, jitter_mult10, flags)
    SELECT id, calldate, calldate + INTERVAL ROUND(dur * 1000) * 1000 MICROSECOND, dur,
        IF(ok, conn, NULL), ring, IF(ok, ring + 0.3, NULL), caller, REVERSE(caller), cname,
        REVERSE(cname), called, REVERSE(called),
        ELT(1 + h2 % 8, 'pbx.example.com', 'pbx.example.com', 'pbx.example.com',
            'sip.example.cz', 'sip.example.cz', 'voip.firma.cz', 'ims.operator.example',
            '10.0.0.1'),
        ELT(1 + h3 % 4, 'carrier.example.net', 'carrier.example.net', 'ims.operator.example',
            'sip.partner.example.de'),
        INET_ATON(CONCAT('10.', 10 + h % 50 DIV 10, '.', h % 50, '.', 10 + h2 % 200)),
        INET_ATON(CONCAT('198.51.100.', 1 + h3 % 8)), 5060, IF(h3 % 5 = 0, 5080, 5060),
        IF(ok, IF(h4 % 2, 'caller', 'callee'), NULL), IF(ok, 1 + h4 % 3, 0), resp_id,
        resp_num,
        IF(h5 % 50 = 0, NULL, ELT(1 + h5 % 10, 1, 1, 1, 2, 2, 3, 4, 4, 5, 6)),
        1 + h2 % {len(UAS)}, 1 + h3 % {len(UAS)}, IF(ok, codec, NULL), IF(ok, codec, NULL),
        IF(ok, codec, NULL), IF(ok, ROUND(conn * 50) + 2, NULL),
        IF(ok, GREATEST(ROUND(conn * 50) + 2 - lost_a, 0), NULL), IF(ok, lost_a, NULL),
        IF(ok, lost_b, NULL), IF(ok, jit, NULL), IF(ok, jit DIV 2 + 1, NULL),
        IF(ok, jit * 4, NULL), IF(ok, jit * 5, NULL), IF(ok, mos, NULL),
        IF(ok, mos - h4 % 3, NULL), IF(ok, mos, NULL), IF(ok, mos - h5 % 2, NULL),
        IF(ok, mos, NULL), IF(ok, mos - h5 % 2, NULL), IF(ok, mos - h4 % 3, NULL),
        IF(ok, loss, NULL), IF(ok, loss DIV 2, NULL), IF(ok, loss, NULL),
        IF(ok, jit * 5, NULL), {FLAG_SAVE_FLAGS_VALID | FLAG_SIP_PCAP}
    FROM (
        SELECT id, h, h2, h3, h4, h5, r,
            TIMESTAMP('{date}') + INTERVAL FLOOR(86400000 * (x + 0.6 * SIN(2 * PI() * x)
                / (2 * PI()))) * 1000 MICROSECOND AS calldate,
            CASE {responses} END AS resp_id,
            CASE {codes} END AS resp_num,
            r < 640 AS ok,
            ROUND(2 + h4 % 18 + (h5 % 1000) / 1000, 3) AS ring,
            ROUND(-LN((h2 % 100000 + 0.5) / 100000) * 110, 3) AS conn,
            ROUND(IF(r < 640, 2 + h4 % 18 - LN((h2 % 100000 + 0.5) / 100000) * 110,
                2 + h4 % 38), 3) AS dur,
            CASE WHEN h3 % 100 < 15 THEN CONCAT('42022', LPAD(h % 200, 6, '0'))
                 WHEN h3 % 100 < 75 THEN CONCAT('420', 600 + h DIV 7 % 200,
                     LPAD(h DIV 1400 % 10000, 6, '0'))
                 WHEN h3 % 100 < 90 THEN CONCAT('1', LPAD(h % 1000, 3, '0'))
                 ELSE CONCAT(ELT(1 + h % 3, '44', '49', '1'), 200000000 + h % 700000000)
            END AS caller,
            CASE WHEN h4 % 100 < 10 THEN CONCAT('42022', LPAD(h2 % 200, 6, '0'))
                 WHEN h4 % 100 < 70 THEN CONCAT('420', 600 + h2 DIV 7 % 200,
                     LPAD(h2 DIV 1400 % 10000, 6, '0'))
                 WHEN h4 % 100 < 88 THEN CONCAT('1', LPAD(h2 % 1000, 3, '0'))
                 ELSE CONCAT(ELT(1 + h2 % 3, '44', '49', '1'), 200000000 + h2 % 700000000)
            END AS called,
            IF(h5 % 3 = 0, ELT(1 + h5 DIV 3 % {len(NAMES)}, {names}),
               CONCAT('User ', h % 5000)) AS cname,
            ELT(1 + h4 % 20, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 18, 18, 18, 9, 9, 311)
                AS codec,
            IF(h5 % 20 = 0, 25 + h4 % 10, 40 + h4 % 6) AS mos,
            IF(h5 % 20 = 0, 40 + h3 % 200, h3 % 25) AS jit,
            IF(h5 % 20 = 0, 2000 + h2 % 8000, h2 % 300) AS loss,
            IF(h5 % 20 = 0, 50 + h2 % 500, h2 % 4) AS lost_a,
            IF(h5 % 20 = 0, 30 + h3 % 300, h3 % 3) AS lost_b
        FROM (
            SELECT id, x, h, h2, h3, h4, h5, h2 % 1000 AS r FROM (
                SELECT seq + {first} AS id, (seq - 0.5) / {per_day} AS x,
                    (seq + {first}) * 2654435761 % 4294967291 AS h,
                    ((seq + {first}) * 2654435761 % 4294967291) * 40503 % 4294967291 AS h2,
                    ((seq + {first}) * 2246822519 % 4294967291) * 3266489917 % 4294967291 AS h3,
                    ((seq + {first}) * 668265263 % 4294967291) * 374761393 % 4294967291 AS h4,
                    ((seq + {first}) * 1103515245 % 4294967291) * 12345 % 4294967291 AS h5
                FROM seq_1_to_{per_day}
            ) s
        ) t
    ) g
    """


def _next_sql(day: int, per_day: int) -> list[str]:
    first, last = day * per_day + 1, (day + 1) * per_day
    start = START + dt.timedelta(days=day)
    end = start + dt.timedelta(days=1)
    # The calldate bound keeps each statement in its own day's partition: MariaDB locks a
    # whole empty partition for its bulk insert, so two days must never touch one partition.
    where = (
        f"WHERE calldate >= '{start.isoformat()}' AND calldate < '{end.isoformat()}' "
        f"AND ID BETWEEN {first} AND {last}"
    )
    return [
        "INSERT INTO cdr_next (cdr_ID, calldate, fbasename, `custom_header__X-Customer-ID`) "
        "SELECT ID, calldate, CONCAT(LOWER(HEX(ID * 2654435761 % 4294967291)), '-', "
        "LOWER(HEX(ID * 40503 % 65521)), '-', ID, '@', caller_domain), "
        f"IF(ID % 5 < 2, CONCAT('CUST-', LPAD(ID % 50000, 6, '0')), NULL) FROM cdr {where}",
        "INSERT INTO cdr_next_1 (cdr_ID, calldate, custom_header_1) "
        "SELECT ID, calldate, ELT(1 + ID % 7, 'acme', 'globex', 'initech', 'umbrella', "
        f"'hooli', 'stark', 'wayne') FROM cdr {where} AND ID % 10 < 3",
    ]


def generate(rows: int, threads: int = 2, history_days: int = HISTORY_DAYS) -> float:
    """(Re)create the sniffer tables, with daily partitions from ``history_days`` before
    START to its last day, and fill its last DAYS days with ``rows`` CDRs; returns the
    seconds."""
    from bench.data import drop_sniffer_tables

    started = time.perf_counter()
    per_day = max(1, rows // DAYS)
    drop_sniffer_tables()
    create_schema(
        SchemaOptions(
            partition_from=START - dt.timedelta(days=history_days),
            partition_days=history_days + DAYS + 1,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_meta")
        cursor.execute(
            "ALTER TABLE cdr_next ADD COLUMN `custom_header__X-Customer-ID` varchar(255) NULL"
        )
        cursor.execute(
            "INSERT INTO cdr_custom_headers (name, header_field, type, dynamic_table, "
            "dynamic_column, state) VALUES ('Customer', 'X-Customer-ID', 'fixed', NULL, NULL, "
            "'active'), ('Tenant', 'X-Tenant', 'dynamic', 1, 1, 'active')"
        )
        cursor.execute(
            "INSERT INTO cdr_sip_response (id, lastSIPresponse) VALUES "
            + ", ".join(f"({rid}, '{text}')" for rid, _, text, _ in SIP_RESPONSES)
        )
        cursor.execute(
            "INSERT INTO sensors (id_sensor, name) VALUES "
            + ", ".join(f"({sid}, '{name}')" for sid, name in SENSORS)
        )
        cursor.execute(
            "INSERT INTO cdr_ua (id, ua) VALUES "
            + ", ".join(f"({n}, {_sql_text(ua)})" for n, ua in enumerate(UAS, 1))
        )
        indexes = {table: _indexes(cursor, table) for table in ("cdr", "cdr_next")}
        for table, clauses in indexes.items():
            if clauses:
                drops = ", ".join(
                    "DROP INDEX " + c.split("INDEX ", 1)[1].split(" (")[0] for c in clauses
                )
                cursor.execute(f"ALTER TABLE `{table}` {drops}")
    days = list(range(DAYS))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        conn = raw_connection()
        try:
            cur = conn.cursor()
            cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            while True:
                with lock:
                    if not days or errors:
                        return
                    day = days.pop(0)
                cur.execute(_cdr_sql(day, per_day))
                for statement in _next_sql(day, per_day):
                    cur.execute(statement)
                conn.commit()
                print(f"  day {day + 1}/{DAYS} ({time.perf_counter() - started:.0f} s)", flush=True)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    pool = [threading.Thread(target=worker) for _ in range(max(1, threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    with connection.cursor() as cursor:
        for table, clauses in indexes.items():
            if clauses:
                print(f"  building {len(clauses)} indexes of {table} ...", flush=True)
                cursor.execute(f"ALTER TABLE `{table}` " + ", ".join(clauses))
        cursor.execute("ANALYZE TABLE cdr, cdr_next, cdr_next_1")
        cursor.execute("CREATE TABLE bench_meta (marker varchar(32), rows_made bigint)")
        cursor.execute(
            "INSERT INTO bench_meta VALUES (%s, %s)", [_marker(history_days), per_day * DAYS]
        )
    schema.clear_cache()
    return time.perf_counter() - started
