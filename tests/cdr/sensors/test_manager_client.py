"""The manager client over real TCP on loopback: captured replies replayed verbatim, the
simulator (plain and AES), dead, hung and dripping peers, and nothing sent for bad input."""

from __future__ import annotations

import time

import pytest

from cdr.sensors.manager import (
    AesConfig,
    CallNotFound,
    InvalidRequest,
    ManagerClient,
    ManagerConnectError,
    ManagerRefused,
    ManagerReplyError,
    ManagerTimeout,
    parse_listcalls,
)
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.cdr.sensors.test_manager_support import (
    LISTCALLS_FIXTURES,
    DripPeer,
    ReplayPeer,
    SilentPeer,
    closed_port,
    fixture_bytes,
)

KEY = AesConfig(bytes(range(32)), bytes(range(100, 116)))


def client(peer, **kw) -> ManagerClient:
    kw.setdefault("timeout", 2)
    kw.setdefault("connect_timeout", 1)
    return ManagerClient(peer.host, peer.port, **kw)


@pytest.mark.parametrize("name", LISTCALLS_FIXTURES)
def test_it_reads_each_captured_reply_from_a_real_peer(name):
    raw = fixture_bytes(name)
    with ReplayPeer(raw, chunk=97) as peer:
        result = client(peer).listcalls()
    assert result == parse_listcalls(raw)
    assert peer.received == [b"listcalls\r\n\r\n"]


def test_it_frames_the_command_exactly_as_the_sniffer_expects():
    with ReplayPeer(b"2026.04.0") as peer:
        c = client(peer)
        assert c.getversion() == "2026.04.0"
    assert peer.received == [b"getversion\r\n\r\n"]


def test_it_sends_listcalls_options_as_the_sniffers_json_strings():
    raw = fixture_bytes("listcalls_reply_limit1_asc.txt")
    with ReplayPeer(raw) as peer:
        result = client(peer).listcalls(limit=1, sort_field="calldate", sort_dir="asc")
    assert peer.received == [
        b'listcalls {"limit":"1","sort_field":"calldate","sort_dir":"asc"}\r\n\r\n'
    ]
    assert result.totals.total == 3


def test_it_asks_for_and_reads_a_gzip_reply():
    with ReplayPeer(fixture_bytes("listcalls_reply_zip.bin")) as peer:
        result = client(peer).listcalls(zip=True)
    assert peer.received == [b'listcalls {"zip":"yes"}\r\n\r\n']
    assert len(result.calls) == 3


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("pausecall_reply.txt", None),
        ("unpausecall_reply.txt", None),
        ("pausecall_reply_unknown_id.txt", CallNotFound),
    ],
)
def test_it_maps_captured_pause_replies_from_a_real_peer(name, error):
    with ReplayPeer(fixture_bytes(name)) as peer:
        c = client(peer)
        if error is None:
            assert c.pausecall("0x7f2bc000f090") is None
        else:
            with pytest.raises(error):
                c.pausecall("0xdeadbeef")
    assert peer.received[0].startswith(b"pausecall 0x")


@pytest.mark.parametrize(
    "ref",
    [
        "0x1\r\ngetfile /etc/passwd",
        "0x1 getfile_in_tar x",
        "7f2bc000f090",
        "0x",
        "0x1\n",
        "",
    ],
)
def test_it_sends_nothing_for_an_invalid_call_reference(ref):
    with ReplayPeer(b"") as peer:
        with pytest.raises(InvalidRequest):
            client(peer).pausecall(ref)
        with pytest.raises(InvalidRequest):
            client(peer).unpausecall(ref)
        time.sleep(0.1)
    assert peer.connections == 0 and peer.received == []


def test_it_sends_nothing_for_an_invalid_command_or_option():
    with ReplayPeer(b"") as peer:
        c = client(peer)
        for bad in ("listcalls\r\ngetfile x", "", "\tx"):
            with pytest.raises(InvalidRequest):
                c.request(bad)
        with pytest.raises(InvalidRequest):
            c.listcalls(sort_field="calldate desc\r\nreload")
        with pytest.raises(InvalidRequest):
            c.listcalls(sort_dir="sideways")
        with pytest.raises(InvalidRequest):
            c.getfile("../etc/passwd")
        with pytest.raises(InvalidRequest):
            c.getfile("/etc/passwd")
        with pytest.raises(InvalidRequest):
            list(c.getfile_in_tar("2026-11-27/04/11/SIP/sip.tar", "a b.pcap"))
        with pytest.raises(InvalidRequest):
            c.listen("0x1", "id\r\nreload")
        time.sleep(0.1)
    assert peer.connections == 0


def test_it_keeps_a_quoted_option_inside_the_json_argument():
    raw = fixture_bytes("listcalls_reply_nocalls.txt")
    with ReplayPeer(raw) as peer:
        client(peer).listcalls(filter='caller="1\\r\\n"')
    assert peer.received == [b'listcalls {"filter":"caller=\\"1\\\\r\\\\n\\""}\r\n\r\n']


def test_it_gives_up_on_a_silent_peer_within_the_timeout():
    with SilentPeer() as peer:
        started = time.monotonic()
        with pytest.raises(ManagerTimeout) as exc:
            client(peer, timeout=0.4).listcalls()
        elapsed = time.monotonic() - started
    assert 0.35 < elapsed < 1.5
    assert "no reply" in exc.value.reason and "0.4 s" in exc.value.reason


def test_it_gives_up_on_a_peer_that_never_finishes_its_reply():
    """The reply timeout is a deadline: a byte every 0.1 s does not keep it alive."""
    with DripPeer(0.1) as peer:
        started = time.monotonic()
        with pytest.raises(ManagerTimeout) as exc:
            client(peer, timeout=0.5).listcalls()
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "not finished" in exc.value.reason


def test_it_reports_a_dead_sensor_at_once():
    c = ManagerClient("127.0.0.1", closed_port(), connect_timeout=1, timeout=1)
    started = time.monotonic()
    with pytest.raises(ManagerConnectError) as exc:
        c.listcalls()
    assert time.monotonic() - started < 1
    assert "cannot connect to 127.0.0.1:" in exc.value.reason


def test_it_refuses_a_reply_larger_than_its_limit():
    with ReplayPeer(b"[" * 5000) as peer:
        with pytest.raises(ManagerReplyError, match="larger than 1000 bytes"):
            client(peer, max_reply=1000).listcalls()


def test_it_reports_a_malformed_reply_from_a_real_peer():
    with ReplayPeer(b'[["callreference","duration"],["0x1","x"]]') as peer:
        with pytest.raises(ManagerReplyError, match="'duration' should be a whole number"):
            client(peer).listcalls()


# ---------------------------------------------------------------------------
# Against the simulator
# ---------------------------------------------------------------------------


def test_it_lists_pauses_and_unpauses_calls_on_the_simulator():
    with ManagerSimulator(pool=CallPool(low=3, high=3)) as sim:
        c = client(sim)
        calls = c.listcalls()
        assert len(calls.calls) == 3
        ref = calls.calls[0].callreference
        c.pausecall(ref)
        assert sim.pool.find(int(ref, 16)).paused is True
        c.unpausecall(ref)
        assert sim.pool.find(int(ref, 16)).paused is False
        with pytest.raises(CallNotFound):
            c.pausecall("0xdeadbeef")
        assert c.getversion() == "2026.04.0"
        assert c.totalcalls() == 3
    assert sim.commands[-3:] == ["pausecall 0xdeadbeef", "getversion", "totalcalls"]


def test_it_speaks_aes_with_a_simulator_that_requires_it():
    with ManagerSimulator(aes=KEY, pool=CallPool(low=2, high=2)) as sim:
        plain = client(sim)
        with pytest.raises(ManagerRefused, match="need aes"):
            plain.listcalls()
        with pytest.raises(ManagerRefused, match="need aes"):
            plain.pausecall("0x1")
        assert plain.getversion() == "2026.04.0"  # exempt from AES
        secure = client(sim, aes=KEY)
        calls = secure.listcalls(zip=True)
        assert len(calls.calls) == 2
        ref = calls.calls[1].callreference
        secure.pausecall(ref)
        assert sim.pool.find(int(ref, 16)).paused is True
        with pytest.raises(CallNotFound):
            secure.unpausecall("0xdeadbeef")
        assert secure.getversion() == "2026.04.0"
    # The AES requests are ciphertext on the wire: no command text readable in them.
    encrypted = [r for r in sim.requests if r.startswith(b"aes-256-cbc:")]
    assert len(encrypted) == 4
    assert all(b"listcalls" not in r and b"pausecall" not in r for r in encrypted)


def test_it_reports_a_wrong_aes_key():
    other = AesConfig(bytes(32), bytes(16))
    with ManagerSimulator(aes=KEY) as sim:
        with pytest.raises((ManagerRefused, ManagerReplyError)):
            client(sim, aes=other).listcalls()


def test_it_reads_a_slow_simulator_within_the_timeout_and_gives_up_beyond():
    with ManagerSimulator(delay=0.3) as sim:
        assert client(sim, timeout=2).getversion() == "2026.04.0"
        with pytest.raises(ManagerTimeout):
            client(sim, timeout=0.1).getversion()


def test_it_reports_a_reset_connection_as_a_failure_not_as_success():
    with ManagerSimulator(drop=1.0) as sim:
        with pytest.raises(ManagerConnectError):
            client(sim).pausecall("0x1")
