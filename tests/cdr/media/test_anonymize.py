"""cdr.media.anonymize: the consistent address map, SIP text, and whole real captures
(UDP, retransmissions with RTP and DTMF, IPv4 and IPv6 fragments, TCP segments, Linux
cooked captures) rewritten with no original address left and valid checksums."""

from __future__ import annotations

import io
import ipaddress
import os
from collections import defaultdict

import dpkt
import pytest

from cdr.media.anonymize import IpMap, anonymize_pcap
from cdr.media.pcap import network_layer
from cdr.media.spool import MediaError
from tests.cdr.siphistory.test_siphistory_support import SIP_DIR, parse_bytes

CAPTURES = ["udp_retrans", "udp_fork", "udp_reinvite", "sll2_cancel", "sll_reject", "tcp_split", "ipv6_fork"]  # fmt: skip
KEY = bytes(range(32))


def anonymized(name: str, ips: IpMap, chunk: int = 777) -> tuple[bytes, bytes]:
    """(original, anonymised) bytes of a capture, fed in odd-sized chunks."""
    data = (SIP_DIR / f"{name}.pcap").read_bytes()
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return data, b"".join(anonymize_pcap(pieces, ips))


def packets(data: bytes) -> tuple[int, list[tuple[float, bytes]]]:
    reader = dpkt.pcap.Reader(io.BytesIO(data))
    return reader.datalink(), [(ts, bytes(buf)) for ts, buf in reader]


def ip_layers(data: bytes):
    """(IP object of dpkt, raw IP bytes) of every IP packet of a capture."""
    linktype, pkts = packets(data)
    for _, buf in pkts:
        ethertype, off, _ = network_layer(buf, linktype)
        yield (dpkt.ip.IP(buf[off:]) if ethertype == 0x0800 else dpkt.ip6.IP6(buf[off:])), buf[off:]


def addresses_in(data: bytes) -> set[str]:
    """Every address in the IP headers of a capture."""
    out = set()
    for ip, _ in ip_layers(data):
        out |= {str(ipaddress.ip_address(ip.src)), str(ipaddress.ip_address(ip.dst))}
    return out


def _l4_valid(ip, raw_payload: bytes, proto: int) -> bool:
    src, dst = ip.src, ip.dst
    if len(src) == 4:
        pseudo = src + dst + bytes([0, proto]) + len(raw_payload).to_bytes(2, "big")
    else:
        pseudo = src + dst + len(raw_payload).to_bytes(4, "big") + bytes([0, 0, 0, proto])
    return dpkt.in_cksum(pseudo + raw_payload) == 0


def checksums_ok(data: bytes) -> int:
    """Checks the IPv4 header, UDP and TCP checksums (fragments reassembled); how many."""
    checked = 0
    fragments: dict[tuple, list[tuple[int, bytes, bool]]] = defaultdict(list)
    reassembled = set()
    for ip, raw in ip_layers(data):
        if isinstance(ip, dpkt.ip.IP):
            assert dpkt.in_cksum(raw[: ip.hl * 4]) == 0, "IPv4 header checksum"
            body, proto = raw[ip.hl * 4 : ip.len], ip.p
            if ip.mf or ip.offset:  # a fragment (dpkt's flag and offset fields)
                key = (ip.src, ip.dst, ip.id)
                fragments[key].append((ip.offset * 8, body, bool(ip.mf)))
                parts = sorted(fragments[key])
                if not parts[-1][2] and sum(len(p[1]) for p in parts) == parts[-1][0] + len(
                    parts[-1][1]
                ):
                    whole = b"".join(p[1] for p in parts)
                    assert _l4_valid(ip, whole, proto), "reassembled datagram checksum"
                    reassembled.add(key)
                    checked += 1
                continue
        else:
            body = bytes(raw[40 : 40 + ip.plen])
            proto = ip.nxt
            if proto == 44:  # fragment header
                nxt, field, ident = body[0], int.from_bytes(body[2:4], "big"), body[4:8]
                key = (ip.src, ip.dst, ident)
                fragments[key].append((field & 0xFFF8, body[8:], bool(field & 1)))
                parts = sorted(fragments[key])
                if not parts[-1][2] and sum(len(p[1]) for p in parts) == parts[-1][0] + len(
                    parts[-1][1]
                ):
                    whole = b"".join(p[1] for p in parts)
                    assert _l4_valid(ip, whole, nxt), "reassembled IPv6 datagram checksum"
                    reassembled.add(key)
                    checked += 1
                continue
        if proto in (6, 17):
            if proto == 17 and len(ip.src) == 4 and body[6:8] == b"\0\0":
                continue
            assert _l4_valid(ip, body, proto), f"L4 checksum of {proto}"
            checked += 1
    assert set(fragments) == reassembled, "every fragmented datagram is whole again"
    return checked


def rtp_payloads(data: bytes) -> list[bytes]:
    """UDP payloads that are RTP (version 2, not SIP), in order."""
    out = []
    for ip, _ in ip_layers(data):
        udp = ip.data
        if isinstance(udp, dpkt.udp.UDP) and udp.data[:1] and udp.data[0] >> 6 == 2:
            out.append(bytes(udp.data))
    return out


@pytest.mark.parametrize("name", CAPTURES)
def test_no_original_address_is_left_in_a_real_capture(name):
    ips = IpMap(os.urandom(32))
    original, out = anonymized(name, ips)
    reals = addresses_in(original)
    flow = parse_bytes(original)
    for m in flow.messages:  # the addresses written in SIP headers and SDP too
        for token in m.text.replace("[", " ").replace("]", " ").split():
            for piece in token.replace(";", " ").replace("@", " ").replace("/", " ").split():
                try:
                    reals.add(
                        str(
                            ipaddress.ip_address(piece.rsplit(":", 1)[0] if "." in piece else piece)
                        )
                    )
                except ValueError:
                    pass
    reals -= {"0.0.0.0", "::"}
    assert reals and not (reals & addresses_in(out))
    text = out.decode("latin-1")
    for real in reals:
        assert ipaddress.ip_address(real).packed not in out, real
        if "." in real:
            assert real not in text, real
    new_flow = parse_bytes(out)
    assert [m.label for m in new_flow.messages] == [m.label for m in flow.messages]
    for old, new in zip(flow.messages, new_flow.messages, strict=True):
        assert len(new.text) == len(old.text)
        assert new.call_id == ips.text(old.call_id)
        assert new.src == ips.address(old.src) and new.dst == ips.address(old.dst)
        assert new.body == ips.text(old.body)
        for real in reals:
            assert real not in new.text.replace(ips.address(real), "") or ":" in real


@pytest.mark.parametrize("name", CAPTURES)
def test_checksums_are_right_after_rewriting(name):
    _, out = anonymized(name, IpMap(KEY))
    assert checksums_ok(out) > 0


@pytest.mark.parametrize("name", CAPTURES)
def test_packets_keep_their_length_time_and_rtp_payload(name):
    original, out = anonymized(name, IpMap(KEY), chunk=4096)
    link_a, a = packets(original)
    link_b, b = packets(out)
    assert link_a == link_b and len(a) == len(b)
    for (ts_a, buf_a), (ts_b, buf_b) in zip(a, b, strict=True):
        assert round(ts_a, 6) == round(ts_b, 6) and len(buf_a) == len(buf_b)
    assert rtp_payloads(original) == rtp_payloads(out)


def test_the_same_address_gets_the_same_fake_everywhere_and_per_key():
    one, two = IpMap(KEY), IpMap(KEY)
    assert one.address("10.1.0.1") == two.address("10.1.0.1")
    assert one.text("c=IN IP4 10.1.0.1\r\n") == f"c=IN IP4 {one.address('10.1.0.1')}\r\n"
    assert IpMap(bytes(32)).address("10.1.0.1") != one.address("10.1.0.1")
    v6 = one.address("2001:db8::1")
    assert v6 == two.address("2001:0db8:0:0::1") and ipaddress.ip_address(v6).version == 6
    # length kept, whatever the way the address is written
    for text in (
        "sip:a@192.168.100.200:5060",
        "[2001:DB8::1]:5060",
        "c=IN IP6 2001:0db8:0000::0001",
    ):
        assert len(one.text(text)) == len(text) and one.text(text) != text


def test_fakes_never_equal_a_known_address_of_the_call():
    known = [f"10.0.0.{i}" for i in range(1, 10)]
    for seed in range(50):
        ips = IpMap(bytes([seed]) * 32, known=known)
        fakes = {ips.address(k) for k in known}
        assert len(fakes) == len(known) and not fakes & set(known)


def test_hold_and_any_addresses_and_version_numbers_are_kept():
    ips = IpMap(KEY)
    assert ips.text("c=IN IP4 0.0.0.0") == "c=IN IP4 0.0.0.0"
    assert ips.text("c=IN IP6 ::") == "c=IN IP6 ::"
    assert ips.text("User-Agent: PBX 1.2.3.4.5") == "User-Agent: PBX 1.2.3.4.5"
    assert ips.text("Date: Sat, 13 Nov 2010 23:29:00 GMT") == "Date: Sat, 13 Nov 2010 23:29:00 GMT"
    assert ips.text("a=rtpmap:8 PCMA/8000") == "a=rtpmap:8 PCMA/8000"


def test_a_non_pcap_stream_is_refused():
    with pytest.raises(MediaError):
        list(anonymize_pcap([b"not a pcap at all, just text...."], IpMap(KEY)))


def _tcp_packet(seq: int, payload: bytes) -> bytes:
    tcp = dpkt.tcp.TCP(sport=5070, dport=5060, seq=seq, flags=dpkt.tcp.TH_ACK, data=payload)
    ip = dpkt.ip.IP(src=bytes([10, 1, 0, 1]), dst=bytes([10, 2, 0, 2]), p=6, data=tcp)
    eth = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, data=ip)
    return bytes(eth)


@pytest.mark.parametrize("cut", [18, 20, 58, 60, 110, 115])
def test_an_address_cut_by_a_tcp_segment_boundary_is_rewritten(cut):
    """A SIP message over TCP whose segment boundary falls inside an address."""
    message = (
        b"INVITE sip:2002@10.2.0.2:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/TCP 10.1.0.1:5070;branch=z9hG4bK1\r\n"
        b"Contact: <sip:1001@[2001:db8::17]:5070>\r\n\r\n"
    )
    buf = io.BytesIO()
    writer = dpkt.pcap.Writer(buf)
    writer.writepkt(_tcp_packet(1000, message[:cut]), ts=1.0)
    writer.writepkt(_tcp_packet(1000 + cut, message[cut:]), ts=1.1)
    ips = IpMap(KEY)
    out = b"".join(anonymize_pcap([buf.getvalue()], ips))
    stream = b"".join(bytes(ip.data.data) for ip, _ in ip_layers(out))
    assert stream == ips.payload(message)
    assert b"10.1.0.1" not in stream and b"2001:db8::17" not in stream
    assert checksums_ok(out) == 2
