"""cdr.siphistory.extract: SIP messages out of pcaps (real SIPp captures, the demo generator, the real
sniffer's spools, and real frames re-wrapped into other link types / fragments / segments)."""

from __future__ import annotations

import datetime as dt
import random
import struct

import dpkt
import pytest

from cdr.demo.pcapgen import generate_call
from cdr.siphistory.extract import (
    KEY_HEADERS,
    SipExtractor,
    message_spans,
    parse_message,
    split_messages,
)
from tests.cdr.media.test_media_support import real_spools, tone_spec
from tests.cdr.siphistory.test_siphistory_support import (
    CALL_IDS,
    EXPECTED,
    SIPP_UAC_PCAP,
    capture,
    frames,
    ladder,
    matches,
    parse_bytes,
    parse_capture,
    pcap_bytes,
)

__all__ = ["real_spools"]

PORTS = {"tcp_split", "ipv6_fork"}  # captures whose expectations name ip:port endpoints


# ---------------------------------------------------------------------------
# Real SIPp captures
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_reads_every_message_of_the_real_captures_in_order(name: str) -> None:
    flow = parse_capture(name)
    got = ladder(flow, ports=name in PORTS)
    assert matches(got, EXPECTED[name]), got
    assert {m.call_id for m in flow.messages} == {CALL_IDS[name]}
    times = [m.ts_us for m in flow.messages]
    assert times == sorted(times)
    assert [m.index for m in flow.messages] == list(range(len(flow.messages)))
    assert not any(m.truncated for m in flow.messages)


def test_it_marks_udp_retransmissions() -> None:
    flow = parse_capture("udp_retrans")
    assert [m.retransmission for m in flow.messages] == [
        False,
        True,  # INVITE again after T1
        False,
        False,
        False,
        True,  # 200 OK again (the ACK came late)
        False,
        False,
        False,
    ]
    first, again = flow.messages[0], flow.messages[1]
    assert first.text == again.text and 450_000 < again.ts_us - first.ts_us < 600_000


def test_it_extracts_the_fields_of_each_message() -> None:
    invite, _, trying, ringing, ok, *_ = parse_capture("udp_retrans").messages
    assert invite.method == "INVITE" and invite.is_request and invite.status is None
    assert invite.request_uri == "sip:2001@beta.example.com"
    assert invite.cseq == "1 INVITE" and invite.cseq_number == 1
    assert invite.from_ == '"Alice Retrans" <sip:1001@alpha.example.com>;tag=rt-a'
    assert invite.from_tag == "rt-a" and invite.to_tag == ""
    assert invite.branch == "z9hG4bK-rt-inv1"
    assert invite.transport == "UDP" and (invite.sport, invite.dport) == (5060, 5060)
    assert invite.user_agent == "FixturePhone/1.0" and invite.has_sdp
    assert "m=audio 16000 RTP/AVP 8 101" in invite.body
    assert trying.status == 100 and trying.method == "INVITE" and trying.reason_phrase == "Trying"
    assert ringing.to_tag == "rt-b" and ok.user_agent == "FixturePBX/2.0"
    # brief: the start line and the key headers only, in message order
    lines = invite.brief.split("\n")
    assert lines[0] == "INVITE sip:2001@beta.example.com SIP/2.0"
    assert lines[1].startswith("Via: SIP/2.0/UDP 127.0.0.71:5060;branch=z9hG4bK-rt-inv1")
    names = [line.split(":", 1)[0].lower() for line in lines[1:]]
    assert set(names) <= set(KEY_HEADERS)
    assert names == [
        "via",
        "from",
        "to",
        "call-id",
        "cseq",
        "contact",
        "user-agent",
        "content-type",
    ]
    assert "Max-Forwards" not in invite.brief and "v=0" not in invite.brief
    # text: everything, bodies included, LF line ends
    assert "Max-Forwards: 70\n" in invite.text and "a=rtpmap:8 PCMA/8000" in invite.text
    assert "\r" not in invite.text


def test_it_reassembles_ipv4_and_ipv6_fragments_of_real_captures() -> None:
    for name in ("udp_fork", "ipv6_fork"):
        invite = parse_capture(name).messages[0]
        assert invite.frames == 2 and invite.size > 1280
        assert invite.header("x-padding") == "x" * 520
        assert invite.body.rstrip().endswith("a=sendrecv")
        assert "a=rtpmap:98 opus/48000/2" in invite.body


def test_it_reassembles_tcp_streams_split_and_coalesced() -> None:
    messages = parse_capture("tcp_split").messages
    by_hop = [(m.src_endpoint, m.label, m.frames) for m in messages]
    invite2 = next(m for m in messages if m.label == "INVITE (SDP)" and m.src == "127.0.0.82")
    assert invite2.frames == 4 and invite2.size == 1339  # 400+400+400+139 bytes
    assert invite2.body.endswith("a=ptime:20\r\n")
    relayed = [(label, n) for ep, label, n in by_hop if ep == "127.0.0.82:5060"]
    # 100 Trying and the head of 180 Ringing came in one 512-byte segment
    assert relayed == [
        ("100 Trying", 1),
        ("180 Ringing", 2),
        ("200 OK (SDP)", 2),
        ("200 OK (BYE)", 1),
    ]
    trying, ringing = [m for m in messages if m.src_endpoint == "127.0.0.82:5060"][:2]
    assert ringing.ts_us - trying.ts_us > 15_000  # the 180 completed with the next segment
    assert all(m.transport == "TCP" for m in messages)


def test_it_reads_linux_cooked_captures() -> None:
    linktype, _ = frames(capture("sll2_cancel"))
    assert linktype == 276
    linktype, _ = frames(capture("sll_reject"))
    assert linktype == 113
    reject = parse_capture("sll_reject").messages
    busy = reject[5]
    assert busy.status == 486 and busy.header("reason") == 'Q.850;cause=17;text="User busy"'
    assert "Reason: Q.850;cause=17" in busy.brief
    assert reject[3].header("Proxy-Authorization").startswith('Digest username="1005"')


# ---------------------------------------------------------------------------
# Real frames in other link types, fragmented, reordered
# ---------------------------------------------------------------------------


def _vlan(frame: bytes, *tags: tuple[int, int]) -> bytes:
    out = frame[:12]
    for tpid, vid in tags:
        out += struct.pack(">HH", tpid, vid)
    return out + frame[12:]


def test_it_reads_vlan_tagged_frames() -> None:
    _, packets = frames(capture("udp_reinvite"))
    dot1q = [(ts, _vlan(buf, (0x8100, 42))) for ts, buf in packets]
    qinq = [(ts, _vlan(buf, (0x88A8, 7), (0x8100, 42))) for ts, buf in packets]
    for data in (pcap_bytes(dot1q), pcap_bytes(qinq)):
        flow = parse_bytes(data)
        assert ladder(flow) == EXPECTED["udp_reinvite"]
    assert {m.vlan for m in parse_bytes(pcap_bytes(dot1q)).messages} == {42}
    assert {m.vlan for m in parse_bytes(pcap_bytes(qinq)).messages} == {7}


def test_it_reads_raw_ip_loopback_and_sll_frames() -> None:
    _, packets = frames(capture("udp_fork"))
    raw = [(ts, buf[14:]) for ts, buf in packets]
    null = [(ts, struct.pack("<I", 2) + buf[14:]) for ts, buf in packets]
    sll = [
        (ts, struct.pack(">HHH8sH", 0, 772, 6, b"\0" * 8, 0x0800) + buf[14:]) for ts, buf in packets
    ]
    for linktype, pkts in ((101, raw), (0, null), (113, sll)):
        assert ladder(parse_bytes(pcap_bytes(pkts, linktype))) == EXPECTED["udp_fork"]
    _, v6 = frames(capture("ipv6_fork"))
    raw6 = [(ts, buf[14:]) for ts, buf in v6]
    assert ladder(parse_bytes(pcap_bytes(raw6, 229)), ports=True) == EXPECTED["ipv6_fork"]


def _fragment_ipv4(frame: bytes, size: int) -> list[bytes]:
    """Split an Ethernet/IPv4 frame into IP fragments of ``size`` payload bytes."""
    eth, ip = frame[:14], frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    payload = ip[ihl:total]
    out = []
    for off in range(0, len(payload), size):
        piece = payload[off : off + size]
        head = bytearray(ip[:ihl])
        more = 0x2000 if off + size < len(payload) else 0
        head[2:4] = struct.pack(">H", ihl + len(piece))
        head[6:8] = struct.pack(">H", more | (off // 8))
        out.append(eth + bytes(head) + piece)
    return out


def test_it_reassembles_fragments_in_any_order() -> None:
    _, packets = frames(capture("udp_reinvite"))
    ts0, invite = packets[0]
    pieces = _fragment_ipv4(invite, 200)
    assert len(pieces) >= 3
    random.Random(5).shuffle(pieces)
    pkts = [(ts0 + n * 1e-5, p) for n, p in enumerate(pieces)] + packets[1:]
    flow = parse_bytes(pcap_bytes(pkts))
    assert ladder(flow) == EXPECTED["udp_reinvite"]
    assert flow.messages[0].frames == len(pieces)
    # a datagram that never completes is simply absent
    incomplete = [(ts0, _fragment_ipv4(invite, 200)[0])] + packets[1:]
    assert ladder(parse_bytes(pcap_bytes(incomplete))) == EXPECTED["udp_reinvite"][1:]


def _tcp_data_frames(packets: list[tuple[float, bytes]], src: str) -> list[int]:
    out = []
    for n, (_, buf) in enumerate(packets):
        ip = dpkt.ethernet.Ethernet(buf).data
        if (
            isinstance(ip.data, dpkt.tcp.TCP)
            and ip.data.data
            and ip.src == bytes(map(int, src.split(".")))
        ):
            if ip.data.dport == 5060 and src == "127.0.0.82":
                out.append(n)
    return out


def test_it_reorders_deduplicates_and_survives_gaps_in_tcp() -> None:
    _, packets = frames(capture("tcp_split"))
    hop2 = _tcp_data_frames(packets, "127.0.0.82")  # relay → callee: INVITE in 4, ACK, BYE
    assert len(hop2) == 6
    a, b, c, d = hop2[:4]
    # out of order (the last three INVITE segments reversed) and a segment sent twice
    reordered = list(packets)
    reordered[b], reordered[d] = reordered[d], reordered[b]
    reordered.insert(d + 1, packets[c])
    flow = parse_bytes(pcap_bytes(reordered))
    assert matches(ladder(flow, ports=True), EXPECTED["tcp_split"])
    invite2 = flow.messages[1]
    assert invite2.size == 1339 and invite2.frames == 4
    # a segment missing from the capture: that INVITE is lost, the flow recovers after it
    gap = [p for n, p in enumerate(packets) if n != b]
    got = ladder(parse_bytes(pcap_bytes(gap)), ports=True)
    want = [e for n, e in enumerate(EXPECTED["tcp_split"]) if n != 1]
    assert matches(got, want), got


def test_it_survives_cut_and_garbage_packets() -> None:
    _, packets = frames(capture("tcp_split"))
    rng = random.Random(11)
    cut = [(ts, buf[: rng.randrange(0, len(buf) + 1)]) for ts, buf in packets]
    garbage = [
        (ts, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))) for ts, _ in packets
    ]
    for pkts in (cut, garbage):
        flow = parse_bytes(pcap_bytes(pkts))  # no exception
        assert len(flow.messages) <= len(EXPECTED["tcp_split"])
    extractor = SipExtractor()
    extractor.packet(0, b"\x00" * 60, 1)
    extractor.packet(0, b"", 1)
    extractor.packet(0, b"\x45" + b"\x00" * 10, 101)
    extractor.packet(0, b"abc", 9999)  # unknown link type
    assert extractor.finish() == []


# ---------------------------------------------------------------------------
# Message cutting and header parsing
# ---------------------------------------------------------------------------


def test_it_cuts_streams_by_content_length() -> None:
    one = b"SIP/2.0 100 Trying\r\nCall-ID: a\r\nContent-Length: 0\r\n\r\n"
    two = b"INVITE sip:x@y SIP/2.0\r\nl: 5\r\ni: b\r\n\r\nhello"
    data = b"\r\n\r\n" + one + two + b"BYE sip:x@y SIP/2.0\r\nContent-Len"
    messages, used = split_messages(data, stream=True)
    assert [raw for raw, _ in messages] == [one, two]
    assert data[used:].startswith(b"BYE")
    spans, _ = message_spans(two[:-2], stream=True)
    assert spans == []  # the body is not complete yet
    junk = b"garbage\r\nmore junk\r\n" + one  # a capture starting mid-stream
    messages, used = split_messages(junk, stream=True)
    assert [raw for raw, _ in messages] == [one] and used == len(junk)
    # a datagram: without Content-Length the body runs to the end; a short body is truncated
    dgram = b"MESSAGE sip:a@b SIP/2.0\r\nCall-ID: c\r\n\r\nbody text"
    assert split_messages(dgram, stream=False) == ([(dgram, False)], len(dgram))
    short = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 50\r\n\r\nbody"
    assert split_messages(short, stream=False)[0] == [(short, True)]
    assert split_messages(b"\x80\x08binary", stream=False) == ([], 8)


def test_it_reads_compact_and_folded_headers() -> None:
    raw = (
        b"INVITE sip:2001@b SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
        b"f: <sip:1001@a>;tag=abc\r\nt: <sip:2001@b>\r\ni: compact@x\r\nCSeq: 7\r\n INVITE\r\n"
        b"m: <sip:1001@10.0.0.1>\r\nc: application/sdp\r\nl: 8\r\n\r\nv=0\r\nm=\r\n"
    )
    first, headers, body = parse_message(raw)
    assert first == "INVITE sip:2001@b SIP/2.0"
    assert ("CSeq", "7 INVITE") in headers
    extractor = SipExtractor()
    udp = dpkt.udp.UDP(sport=5060, dport=5060, data=raw)
    udp.ulen = len(bytes(udp))
    ip = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=udp)
    ip.len = len(bytes(ip))
    extractor.packet(1_000_000, bytes(ip), 101)
    (msg,) = extractor.finish()
    assert msg.call_id == "compact@x" and msg.from_tag == "abc" and msg.cseq_method == "INVITE"
    assert msg.branch == "z9hG4bK1" and msg.has_sdp and msg.label == "INVITE (SDP)"
    assert "i: compact@x" in msg.brief and "m: <sip:1001@10.0.0.1>" in msg.brief


# ---------------------------------------------------------------------------
# RTP and DTMF
# ---------------------------------------------------------------------------


def test_it_summarises_rtp_streams_and_rfc2833_dtmf() -> None:
    flow = parse_capture("udp_retrans")
    streams = [(s.src, s.sport, s.dst, s.dport, s.codec, s.packets, s.lost) for s in flow.streams]
    assert sorted(streams) == [
        ("127.0.0.71", 16000, "127.0.0.72", 26000, "PCMA", 236, 0),
        ("127.0.0.71", 16000, "127.0.0.72", 26000, "telephone-event", 10, 0),
        ("127.0.0.72", 26000, "127.0.0.71", 16000, "PCMA", 236, 0),
    ]
    (dtmf,) = flow.dtmf
    assert (dtmf.digit, dtmf.kind, dtmf.src, dtmf.dst) == (
        "5",
        "RFC 2833",
        "127.0.0.71",
        "127.0.0.72",
    )
    assert dtmf.duration_ms == 280
    with SIPP_UAC_PCAP.open("rb") as fh:
        from cdr.siphistory.extract import parse_pcap

        sipp = parse_pcap(fh)
    assert [d.digit for d in sipp.dtmf] == ["1"]
    assert [s.packets for s in sipp.streams if s.codec == "PCMA"] == [236]


def test_it_reads_dtmf_sent_as_sip_info() -> None:
    body = b"Signal=7\r\nDuration=160\r\n"
    raw = (
        b"INFO sip:2001@b SIP/2.0\r\nCall-ID: info@x\r\nCSeq: 3 INFO\r\n"
        b"Content-Type: application/dtmf-relay\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    udp = dpkt.udp.UDP(sport=5060, dport=5060, data=raw)
    udp.ulen = len(bytes(udp))
    ip = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=udp)
    ip.len = len(bytes(ip))
    flow = parse_bytes(pcap_bytes([(1.5, bytes(ip))], 101))
    (event,) = flow.dtmf
    assert (event.digit, event.kind, event.duration_ms) == ("7", "SIP INFO", 160)


# ---------------------------------------------------------------------------
# The demo generator's dialogs
# ---------------------------------------------------------------------------


T0 = dt.datetime(2026, 11, 27, 9, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "labels"),
    [
        (
            {},
            [
                "INVITE (SDP)",
                "100 Trying",
                "180 Ringing",
                "200 OK (SDP)",
                "ACK",
                "BYE",
                "200 OK (BYE)",
            ],
        ),
        (
            {"answered": False, "final_code": 486},
            ["INVITE (SDP)", "100 Trying", "180 Ringing", "486 Busy Here", "ACK"],
        ),
        (
            {"answered": False, "final_code": 487},
            [
                "INVITE (SDP)",
                "100 Trying",
                "180 Ringing",
                "CANCEL",
                "200 OK (CANCEL)",
                "487 Request Terminated",
                "ACK",
            ],
        ),
        (
            {"answered": False, "final_code": 503, "ring_s": 0},
            ["INVITE (SDP)", "100 Trying", "503 Service Unavailable", "ACK"],
        ),
        (
            {"caller_ip": "2001:db8::1", "called_ip": "2001:db8::2", "hangup_by": "callee"},
            [
                "INVITE (SDP)",
                "100 Trying",
                "180 Ringing",
                "200 OK (SDP)",
                "ACK",
                "BYE",
                "200 OK (BYE)",
            ],
        ),
    ],
)
def test_it_reads_the_demo_generators_dialogs(overrides: dict, labels: list[str]) -> None:
    spec = tone_spec("gen@demo", T0, talk_s=1.0, **overrides)
    result = generate_call(spec)
    flow = parse_bytes(result.sip.pcap_bytes())
    assert [m.label for m in flow.messages] == labels
    assert len(flow.messages) == len(result.sip)
    assert {m.call_id for m in flow.messages} == {"gen@demo"}
    assert flow.messages[0].src == spec.caller_ip and flow.messages[0].dst == spec.called_ip
    by_callee = overrides.get("hangup_by") == "callee"
    if "BYE" in labels:
        bye = next(m for m in flow.messages if m.method == "BYE" and m.is_request)
        assert bye.src == (spec.called_ip if by_callee else spec.caller_ip)
    if result.rtp:
        rtp = parse_bytes(result.rtp.pcap_bytes())
        assert sorted(s.packets for s in rtp.streams) == sorted(s.received for s in result.streams)


# ---------------------------------------------------------------------------
# The real sniffer's spool (plain files; no database needed)
# ---------------------------------------------------------------------------


def test_it_reads_the_real_sniffers_sip_pcaps(real_spools) -> None:
    notar = real_spools["notar"]

    def labels(call_id: str) -> list[str]:
        (path,) = notar.rglob(f"SIP/{call_id}.pcap")
        with path.open("rb") as fh:
            from cdr.siphistory.extract import parse_pcap

            return [m.label for m in parse_pcap(fh).messages]

    answered = [
        "INVITE (SDP)",
        "100 Trying",
        "180 Ringing",
        "200 OK (SDP)",
        "ACK",
        "BYE",
        "200 OK (BYE)",
    ]
    assert labels("3c26700b8f2e1a01@alpha.example.com") == answered  # call #1
    assert labels("51c8d905e7a04b05@alpha.example.com") == [  # call #5: 486
        "INVITE (SDP)",
        "100 Trying",
        "180 Ringing",
        "486 Busy Here",
        "ACK",
    ]
    assert labels("b6e2a306d9f14c06@gamma.example.net") == [  # call #6: CANCEL
        "INVITE (SDP)",
        "100 Trying",
        "180 Ringing",
        "CANCEL",
        "200 OK (CANCEL)",
        "487 Request Terminated",
        "ACK",
    ]
    assert labels("c3a7f107a5e24e07@alpha.example.com") == [  # call #7: 503 at once
        "INVITE (SDP)",
        "100 Trying",
        "503 Service Unavailable",
        "ACK",
    ]
    assert labels("d8b3e208f6a34f08@alpha.example.com")[-2:] == ["BYE", "200 OK (BYE)"]
