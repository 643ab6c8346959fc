"""The sensor simulator behaves like the sniffer's manager port (raw sockets on loopback)."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time

import pytest
from django.core.management import CommandError, call_command

from cdr.media.spool import MediaMissing
from cdr.sensors.manager import (
    BUILTIN_COLUMNS,
    ManagerClient,
    ManagerReplyError,
    parse_listcalls,
)
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.cdr.sensors.test_manager_support import fixture_bytes


def exchange(sim, data: bytes, *, half_close: bool = False) -> tuple[bytes, float]:
    """Send raw bytes, read until EOF; (reply, seconds until the server closed)."""
    with socket.create_connection((sim.host, sim.port), timeout=5) as s:
        started = time.monotonic()
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out, time.monotonic() - started


class Clock:
    def __init__(self, now: float = 1_795_752_700.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim():
    with ManagerSimulator(pool=CallPool(low=3, high=5, seed=7)) as s:
        yield s


def test_it_answers_at_once_when_the_request_ends_with_crlf_crlf(sim):
    reply, seconds = exchange(sim, b"getversion\r\n\r\n")
    assert reply == b"2026.04.0" and seconds < 0.3


def test_it_waits_half_a_second_for_a_single_line_like_the_sniffer(sim):
    reply, seconds = exchange(sim, b"getversion\r\n")
    assert reply == b"2026.04.0"
    assert seconds >= 0.45


def test_it_answers_a_half_closed_request_at_once(sim):
    reply, seconds = exchange(sim, b"getversion", half_close=True)
    assert reply == b"2026.04.0" and seconds < 0.3


def test_it_dispatches_like_the_sniffer(sim):
    assert exchange(sim, b"nonsense\r\n\r\n")[0] == b"command not found\n"
    # No exact first word: the alphabetically first command name inside the line wins.
    assert exchange(sim, b"please getversion\r\n\r\n")[0] == b"2026.04.0"
    # Only the first line counts.
    assert exchange(sim, b"getversion\r\nreload\r\n\r\n")[0] == b"2026.04.0"


def test_it_answers_pausecall_byte_for_byte_like_the_captured_replies(sim):
    missing = fixture_bytes("pausecall_reply_missing_id.txt")
    assert exchange(sim, b"pausecall\r\n\r\n")[0] == missing
    assert exchange(sim, b"pausecall 123\r\n\r\n")[0] == missing
    unknown = fixture_bytes("pausecall_reply_unknown_id.txt")
    assert exchange(sim, b"pausecall 0xdeadbeef\r\n\r\n")[0] == unknown
    ref = sim.pool.advance()[0].ref
    assert exchange(sim, f"pausecall {ref}\r\n\r\n".encode())[0] == fixture_bytes(
        "pausecall_reply.txt"
    )
    assert exchange(sim, f"unpausecall {ref}\r\n\r\n".encode())[0] == fixture_bytes(
        "unpausecall_reply.txt"
    )


def test_it_serves_listcalls_in_the_sniffers_shape(sim):
    raw, _ = exchange(sim, b"listcalls\r\n\r\n")
    doc = json.loads(raw)
    assert doc[0][: len(BUILTIN_COLUMNS)] == BUILTIN_COLUMNS
    assert all(len(row) == len(doc[0]) + 5 and row[-5:] == [None] * 5 for row in doc[1:])
    assert b"\\/" in raw or b"/" not in raw.split(b"]", 1)[1]  # slashes escaped like the sniffer
    result = parse_listcalls(raw)
    assert result.totals is None and 3 <= len(result.calls) <= 5
    dates = [c["calldate_num"] for c in result.calls]
    assert dates == sorted(dates, reverse=True)

    raw, _ = exchange(
        sim, b'listcalls {"limit":"1","sort_field":"calldate","sort_dir":"asc"}\r\n\r\n'
    )
    limited = parse_listcalls(raw)
    assert limited.totals.total == len(result.calls) and len(limited.calls) == 1
    assert limited.calls[0]["calldate_num"] == min(dates)

    raw, _ = exchange(sim, b'listcalls {"limit":"0"}\r\n\r\n')
    assert json.loads(raw) == {
        "total": len(result.calls),
        "is_receiver": 0,
        "is_server": 0,
        "id_sensor": -1,
    }

    raw, _ = exchange(sim, b'listcalls {"zip":"yes"}\r\n\r\n')
    assert raw[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    assert len(parse_listcalls(raw).calls) == len(result.calls)


def test_it_serves_a_changing_set_of_realistic_calls():
    clock = Clock()
    pool = CallPool(low=4, high=10, seed=11, clock=clock, id_sensors=(1, 2))
    first = {c.ref: c for c in pool.advance()}
    rows = pool.rows()
    assert 4 <= len(rows) <= 10
    call = rows[0]
    values = dict(zip(pool.columns, call, strict=True))
    assert values["callreference"].startswith("0x7f")
    assert values["id_sensor"] in (1, 2)
    assert isinstance(values["callerip"], (int, str))
    clock.now += 5
    later = dict(zip(pool.columns, pool.rows()[0], strict=True))
    if later["callreference"] == values["callreference"]:
        assert later["duration"] == values["duration"] + 5
    clock.now += 3600
    after_an_hour = {c.ref for c in pool.advance()}
    assert after_an_hour and not after_an_hour & set(first)
    assert 4 <= len(after_an_hour) <= 10


def test_it_computes_ringing_and_answered_calls_like_the_sniffer():
    clock = Clock()
    pool = CallPool(low=30, high=30, seed=3, clock=clock)
    answered = ringing = 0
    for call in pool.advance():
        v = call.values(clock.now, pool.zone)
        if call.answered(clock.now):
            answered += 1
            assert v["lastSIPresponseNum"] == 200 and v["callercodec"] >= 0
            assert v["rtp_src"] == v["callerip"] and isinstance(v["src_mosf1"], int)
            assert v["connect_duration"] <= v["duration"]
        else:
            ringing += 1
            assert v["lastSIPresponseNum"] in (180, 183) and v["callercodec"] == -1
            assert v["rtp_src"] is None and v.get("src_mosf1") is None
            assert v["connect_duration"] == 0
    assert answered and ringing


def test_it_can_hang():
    with ManagerSimulator(hang=True) as hung:
        c = ManagerClient(hung.host, hung.port, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(Exception, match="no reply"):
            c.getversion()
        assert time.monotonic() - started < 1.5


def _spool(tmp_path):
    minute = tmp_path / "2026-11-27" / "04" / "11" / "SIP"
    minute.mkdir(parents=True)
    (minute / "plain@example.com.pcap").write_bytes(b"\xd4\xc3\xb2\xa1plain")
    tar_path = minute / "sip_2026-11-27-04-11.tar"
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("a@x.pcap#1", b"part-one-"), ("a@x.pcap", b"part-two")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return tmp_path


def test_it_serves_spool_files_through_getfile_and_getfile_in_tar(tmp_path):
    root = _spool(tmp_path)
    with ManagerSimulator(spool_dir=root) as sim:
        c = ManagerClient(sim.host, sim.port, timeout=2)
        rel = "2026-11-27/04/11/SIP/plain@example.com.pcap"
        assert b"".join(c.getfile(rel)) == b"\xd4\xc3\xb2\xa1plain"
        assert c.file_exists(rel) == 9
        assert c.file_exists("2026-11-27/04/11/SIP/none.pcap") is None
        tar = "2026-11-27/04/11/SIP/sip_2026-11-27-04-11.tar"
        assert b"".join(c.getfile_in_tar(tar, "a@x.pcap")) == b"part-one-part-two"
        with pytest.raises(ManagerReplyError, match="ended before it was complete"):
            b"".join(c.getfile_in_tar(tar, "missing@x.pcap"))
        with pytest.raises(MediaMissing):
            b"".join(c.getfile_in_tar("2026-11-27/04/12/SIP/sip.tar", "a@x.pcap"))
        with pytest.raises(MediaMissing):
            b"".join(c.getfile("2026-11-27/04/11/SIP/none.pcap"))
    assert exchange_refuses_parent(root)


def exchange_refuses_parent(root) -> bool:
    with ManagerSimulator(spool_dir=root) as sim:
        return exchange(sim, b"getfile ../../etc/passwd\r\n\r\n")[0] == b"access denied"


@pytest.mark.django_db
def test_the_command_exits_quietly_when_the_port_is_taken(capsys):
    with ManagerSimulator() as busy:
        call_command("sensor_simulator", "--port", str(busy.port), "--if-free")
    assert "is taken" in capsys.readouterr().err
    with ManagerSimulator() as busy:
        with pytest.raises(CommandError, match="cannot listen"):
            call_command("sensor_simulator", "--port", str(busy.port))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [["--calls", "5-2"], ["--calls", "x"], ["--drop", "2"], ["--aes-key", "AAAA"]],
)
def test_the_command_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("sensor_simulator", "--port", "1", *args)
