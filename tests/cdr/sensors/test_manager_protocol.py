"""The manager protocol without sockets: listcalls parsing of every captured reply, the
simulator's encoder (byte for byte), pause replies, malformed replies, request validation."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from cdr.sensors.manager import (
    BUILTIN_COLUMNS,
    AesConfig,
    BadCallReference,
    CallNotFound,
    InvalidRequest,
    ManagerRefused,
    ManagerReplyError,
    check_call_ref,
    check_command,
    ip_text,
    parse_listcalls,
    parse_pause_reply,
)
from cdr.sensors.simulator import encode_listcalls, gzip_body, json_value
from tests.cdr.sensors.test_manager_support import LISTCALLS_FIXTURES, fixture_bytes

EXPECTED_CALLS = {
    "listcalls_reply.txt": 3,
    "listcalls_reply_after_calls.txt": 0,
    "listcalls_reply_crlfcrlf.txt": 3,
    "listcalls_reply_limit1_asc.txt": 1,
    "listcalls_reply_nocalls.txt": 0,
    "listcalls_reply_pb_replay.txt": 1,
    "listcalls_reply_while_paused.txt": 3,
    "listcalls_reply_zip.bin": 3,
}


def test_it_knows_every_captured_listcalls_reply():
    assert set(LISTCALLS_FIXTURES) == set(EXPECTED_CALLS)


@pytest.mark.parametrize("name", sorted(EXPECTED_CALLS))
def test_it_parses_every_captured_listcalls_reply(name):
    result = parse_listcalls(fixture_bytes(name))
    assert len(result.calls) == EXPECTED_CALLS[name]
    assert result.columns[: len(BUILTIN_COLUMNS)] == tuple(BUILTIN_COLUMNS)
    assert result.columns[len(BUILTIN_COLUMNS) :] == (
        "custom_header__X-Custom-Header",
        "custom_header_1_1",
    )
    for call in result.calls:
        assert list(call.values) == list(result.columns)  # zipped by header length
        assert call.callreference.startswith("0x")
        assert isinstance(call["calldate_num"], int)
        assert isinstance(call["src_jitter"], float)
        assert call["caller_international"] is True
    assert result.trailing == (5 if result.calls else 0)


@pytest.mark.parametrize("name", sorted(EXPECTED_CALLS))
def test_it_re_encodes_every_captured_reply_byte_for_byte(name):
    """The simulator's writer reproduces the sniffer's bytes from the parsed values."""
    raw = fixture_bytes(name)
    result = parse_listcalls(raw)
    totals = None
    if result.totals is not None:
        t = result.totals
        totals = {
            "total": t.total,
            "is_receiver": int(t.is_receiver),
            "is_server": int(t.is_server),
            "id_sensor": t.id_sensor,
            **t.extra,
        }
    rows = [[call[c] for c in result.columns] for call in result.calls]
    body = encode_listcalls(result.columns, rows, totals=totals)
    if raw.startswith(b"\x1f\x8b"):
        assert gzip_body(body) == raw
    else:
        assert body == raw


def test_it_reads_the_values_of_a_captured_call():
    result = parse_listcalls(fixture_bytes("listcalls_reply.txt"))
    carol, bob, alice = result.calls
    assert result.totals is None
    assert carol.callreference == "0x7f2bc001aab0"
    assert carol.callid == "7a2b3c23f5e94c23@alpha.example.com"
    assert carol["calldate"] == "2026-11-27 04:11:42.907"
    assert carol["calleragent"] == "FixturePhone/1.0"  # the sniffer's \/ escape undone
    assert carol["callerip"] == 2130706465 and carol.ip("callerip") == "127.0.0.33"
    assert carol["callerip_encaps"] == 0 and carol.ip("callerip_encaps") is None
    assert bob["callercodec"] == 8 and bob["caller"] == "+420602222222"
    assert alice["custom_header__X-Custom-Header"] == "live-call-21"
    assert alice["id_sensor"] == -1 and alice["vlan"] == 65534
    assert alice["src_jitter_max"] == pytest.approx(0.066355)
    assert alice["sipproxies"] is None


def test_it_reads_the_totals_element_of_a_json_argument_reply():
    result = parse_listcalls(fixture_bytes("listcalls_reply_limit1_asc.txt"))
    assert result.totals is not None
    assert (result.totals.total, result.totals.id_sensor) == (3, -1)
    assert result.totals.is_receiver is False and result.totals.is_server is False
    assert [c.callid for c in result.calls] == ["5e0f1a21d3c74a21@alpha.example.com"]


def test_it_reads_a_gzip_reply():
    result = parse_listcalls(fixture_bytes("listcalls_reply_zip.bin"))
    assert result.totals is not None and result.totals.total == 3
    assert [c["callername"] for c in result.calls] == ["Live Carol", "Live Bob", "Live Alice"]


def test_it_reads_the_limit_zero_totals_only_reply():
    body = json_value(
        {"total": 2, "is_receiver": 0, "is_server": 1, "id_sensor": 7, "sensors": {"7": 2}}
    ).encode()
    result = parse_listcalls(body)
    assert result.calls == () and result.columns == ()
    assert result.totals.total == 2 and result.totals.is_server is True
    assert result.totals.extra == {"sensors": {"7": 2}}


def test_it_reads_ipv6_values_as_strings():
    cols = ["callreference", "callid", "callerip", "calledip", "rtp_src"]
    body = encode_listcalls(cols, [["0x1", "c", "2001:db8::1", 0, None]], trailing=0)
    (call,) = parse_listcalls(body).calls
    assert call.ip("callerip") == "2001:db8::1"
    assert call.ip("calledip") is None and call.ip("rtp_src") is None


def test_it_accepts_trailing_crlf_and_invalid_utf8():
    raw = fixture_bytes("listcalls_reply_pb_replay.txt")
    assert len(parse_listcalls(raw + b"\r\n\r\n").calls) == 1
    broken = raw.replace(b"Dave Dvorak", b"Dave Dvo\xffak")
    (call,) = parse_listcalls(broken).calls
    assert call["callername"].startswith("Dave Dvo")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty listcalls reply"),
        (b"   \n", "empty listcalls reply"),
        (b'[["callreference","callid"],["0x1"', "not valid JSON"),
        (b"[]", "non-empty JSON array"),
        (b'"text"', "answered listcalls with text"),
        (b"[1,2]", "list of column names"),
        (b'[["callid"],["x"]]', "no callreference column"),
        (b'[["callreference","callreference"]]', "duplicate column names"),
        (b'[["callreference","duration"],["0x1"]]', "has 1 values for 2 columns"),
        (b'[["callreference","duration"],["0x1","ten"]]', "'duration' should be a whole"),
        (b'[["callreference","duration"],["0x1",1.5]]', "'duration' should be a whole"),
        (b'[["callreference","callerip"],["0x1",true]]', "'callerip' should be an IPv4"),
        (b'[["callreference","callerip"],["0x1",-4]]', "'callerip' should be an IPv4"),
        (b'[["callreference","src_jitter"],["0x1","0.1"]]', "should be a number"),
        (b'[["callreference","caller"],["0x1",5]]', "'caller' should be a string"),
        (b'[["callreference","x"],["0x1",[1]]]', "'x' should be a single value"),
        (b'[["callreference"],[null]]', "has no callreference"),
        (b'[["callreference"],"row"]', "call #1 is not an array"),
        (b'{"total":"3"}', "totals 'total' should be a whole number"),
        (b"\x1f\x8b\x08\x00garbage", "gzip reply"),
        (gzip.compress(b'[["callreference"]]')[:-12], "gzip reply is cut"),
    ],
)
def test_it_refuses_malformed_listcalls_replies_with_a_clear_error(body, message):
    with pytest.raises(ManagerReplyError) as exc:
        parse_listcalls(body)
    assert message in exc.value.reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"need aes!\n", "requires AES"),
        (b"failed aes decrypt!\n", "could not decrypt"),
        (b"command not found\n", "does not know"),
    ],
)
def test_it_names_the_sniffers_refusals(body, message):
    with pytest.raises(ManagerRefused) as exc:
        parse_listcalls(body)
    assert message in exc.value.reason


def test_it_maps_every_captured_pause_reply():
    assert parse_pause_reply(fixture_bytes("pausecall_reply.txt")) is None
    assert parse_pause_reply(fixture_bytes("unpausecall_reply.txt")) is None
    with pytest.raises(CallNotFound):
        parse_pause_reply(fixture_bytes("pausecall_reply_unknown_id.txt"))
    with pytest.raises(BadCallReference):
        parse_pause_reply(fixture_bytes("pausecall_reply_missing_id.txt"))
    with pytest.raises(ManagerRefused):
        parse_pause_reply(b"need aes!\n")
    with pytest.raises(ManagerReplyError, match="unexpected reply"):
        parse_pause_reply(b"something else")


@pytest.mark.parametrize(
    "ref",
    ["0x7f2bc000f090", "0xDEADBEEF", "0x1", "0x" + "f" * 16],
)
def test_it_accepts_call_references_as_listcalls_gives_them(ref):
    assert check_call_ref(ref) == ref.lower()


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "0x",
        "7f2bc000f090",
        "0X7f2bc000f090",
        "0x7f2bc000f09g",
        "0x" + "f" * 17,
        " 0x1",
        "0x1 ",
        "0x1\r\ngetfile /etc/passwd",
        "0x1\ngetversion",
        "0x1 getfile x",
        "0x1;reload",
        "0x１",
        "-0x1",
        "1234",
        None,
        123,
        ["0x1"],
    ],
)
def test_it_refuses_call_references_that_are_not_strict_hex(ref):
    with pytest.raises(InvalidRequest):
        check_call_ref(ref)


@pytest.mark.parametrize(
    "command",
    ["", " getversion", "listcalls\r\n", "a\nb", "pausecall 0x1\x00", "héllo", "x" * 70_000],
)
def test_it_refuses_command_lines_that_are_not_one_printable_line(command):
    with pytest.raises(InvalidRequest):
        check_command(command)


def test_it_converts_ips_like_inet_ntoa():
    assert ip_text(3232235777) == "192.168.1.1"
    assert ip_text(0) is None and ip_text(None) is None and ip_text(True) is None
    assert ip_text("::1") == "::1"
    assert ip_text(1 << 32) is None


def test_it_builds_aes_requests_that_decrypt_back():
    aes = AesConfig(b"k" * 32, b"i" * 16)
    wire = aes.request("listcalls")
    assert wire.startswith(b"aes-256-cbc:") and wire.endswith(b":sea")
    assert aes.decrypt(wire[len(b"aes-256-cbc:") : -len(b":sea")]) == b"listcalls"
    assert AesConfig(b"k" * 16, b"i" * 16).cipher_name == "aes-128-cbc"
    with pytest.raises(ValueError):
        AesConfig(b"short", b"i" * 16)
    with pytest.raises(ValueError):
        AesConfig.from_json("{}")
    key, iv = base64.b64encode(b"k" * 16).decode(), base64.b64encode(b"i" * 16).decode()
    cfg = AesConfig.from_json(json.dumps({"key": key, "iv": iv}))
    assert (cfg.key, cfg.iv) == (b"k" * 16, b"i" * 16)
