"""cdr.siphistory.msc: the ladder diagram of a call as SVG (parsed back with xml.etree) and PNG."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from PIL import Image

from cdr.siphistory import msc
from cdr.siphistory.extract import CallFlow, RtpStream, SipMessage
from tests.cdr.siphistory.test_siphistory_support import EXPECTED, ladder, parse_capture

SVG = "{http://www.w3.org/2000/svg}"


def _svg(flow: CallFlow, **kw) -> ET.Element:
    return ET.fromstring(msc.to_svg(msc.build(flow, **kw)))


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def _texts(group: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text") if cls is None or t.get("class") == cls]


def test_it_draws_one_lifeline_per_host_and_the_arrows_in_order() -> None:
    flow = parse_capture("udp_retrans")
    root = _svg(flow)
    assert root.tag == f"{SVG}svg"
    hosts = _groups(root, "host")
    assert [h.get("data-host") for h in hosts] == ["127.0.0.71", "127.0.0.72"]
    assert _texts(hosts[0], "host-ua") == ["FixturePhone/1.0"]
    arrows = _groups(root, "arrow")
    assert [(a.get("data-src"), a.get("data-dst"), a.get("data-label")) for a in arrows] == (
        EXPECTED["udp_retrans"]
    )
    # each arrow: its label and its time since the first message, rows going down
    assert [_texts(a, "time")[0] for a in arrows][:3] == ["+0.000 s", "+0.503 s", "+0.807 s"]
    assert _texts(arrows[0], "label") == ["INVITE (SDP)"]
    assert _texts(arrows[1], "label") == ["INVITE (SDP) [retransmission]"]
    ys = [float(a.find(f"{SVG}line").get("y1")) for a in arrows]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    # arrows run between the lifelines, heads at the destination
    x = {h.get("data-host"): float(h.find(f"{SVG}line").get("x1")) for h in hosts}
    line = arrows[0].find(f"{SVG}line")
    assert float(line.get("x1")) == x["127.0.0.71"] and float(line.get("x2")) < x["127.0.0.72"]
    head = arrows[0].find(f"{SVG}polygon").get("points").split()[0]
    assert abs(float(head.split(",")[0]) - x["127.0.0.72"]) <= 1.5
    assert arrows[1].find(f"{SVG}line").get("stroke-dasharray")  # retransmission: dashed
    assert arrows[0].find(f"{SVG}line").get("stroke-dasharray") is None
    # the whole message summary is in the arrow's tooltip
    assert "Call-ID: retrans-1@sipfixture.test" in arrows[0].find(f"{SVG}title").text


def test_it_draws_rtp_bands_and_dtmf() -> None:
    flow = parse_capture("udp_retrans")
    root = _svg(flow)
    (band,) = _groups(root, "rtp")
    assert (band.get("data-a"), band.get("data-b")) == ("127.0.0.71", "127.0.0.72")
    assert band.get("data-packets") == str(236 + 236 + 10)
    assert _texts(band, "rtp-label") == ["RTP PCMA, telephone-event"]
    assert "236 pkts" in _texts(band, "rtp-counts")[0]
    rect = band.find(f"{SVG}rect")
    arrows = _groups(root, "arrow")
    ack_y = float(arrows[6].find(f"{SVG}line").get("y1"))
    bye_y = float(arrows[7].find(f"{SVG}line").get("y1"))
    top, height = float(rect.get("y")), float(rect.get("height"))
    assert ack_y < top + height and top < bye_y and top + height < bye_y  # between ACK and BYE
    (dtmf,) = _groups(root, "dtmf")
    assert dtmf.get("data-digit") == "5"
    assert _texts(dtmf, "label") == ["DTMF 5 (RFC 2833, 280 ms)"]
    # the band is drawn behind the arrows
    order = [g.get("class") for g in root.iter(f"{SVG}g")]
    assert order.index("rtp") < order.index("arrow")


def test_it_draws_three_hosts_for_the_tcp_relay_and_splits_one_address_by_port() -> None:
    root = _svg(parse_capture("tcp_split"))
    assert [h.get("data-host") for h in _groups(root, "host")] == [
        "127.0.0.81",
        "127.0.0.82",
        "127.0.0.83",
    ]
    assert len(_groups(root, "arrow")) == 14
    v6 = parse_capture("ipv6_fork")
    root = _svg(v6)
    assert [h.get("data-host") for h in _groups(root, "host")] == ["[::1]:5062", "[::1]:5060"]
    arrows = [
        (a.get("data-src"), a.get("data-dst"), a.get("data-label")) for a in _groups(root, "arrow")
    ]
    assert arrows == ladder(v6, ports=True) == EXPECTED["ipv6_fork"]


def _message(label_line: str, ua: str, src: str = "10.0.0.1", dst: str = "10.0.0.2") -> SipMessage:
    return SipMessage(
        ts_us=1_000_000,
        src=src,
        sport=5060,
        dst=dst,
        dport=5060,
        transport="UDP",
        first_line=label_line,
        headers=[("Call-ID", "x@y"), ("CSeq", "1 INVITE"), ("User-Agent", ua)],
        body="",
        size=100,
    )


def test_it_escapes_capture_text_in_the_svg() -> None:
    evil = '<script>alert("x")</script>&'
    flow = CallFlow([_message(f"INVITE sip:{evil}@h SIP/2.0", evil)])
    text = msc.to_svg(msc.build(flow, title=evil))
    root = ET.fromstring(text)  # well-formed
    assert not list(root.iter(f"{SVG}script")) and "<script>" not in text
    assert "&lt;script&gt;" in text
    assert _texts(_groups(root, "host")[0], "host-ua") == [evil]  # shown as text, unchanged


def test_it_gives_media_addresses_without_sip_their_own_lifeline() -> None:
    msg = _message("INVITE sip:a@b SIP/2.0", "Phone")
    stream = RtpStream(
        src="10.0.0.1",
        sport=4000,
        dst="192.0.2.50",
        dport=30000,
        ssrc=1,
        codec="G.711 alaw",
        packets=99,
        lost=1,
        first_us=2_000_000,
        last_us=3_000_000,
        source="cdr_rtp",
    )
    diagram = msc.build(CallFlow([msg], streams=[stream]))
    assert [(h.key, h.media_only) for h in diagram.hosts] == [
        ("10.0.0.1", False),
        ("10.0.0.2", False),
        ("192.0.2.50", True),
    ]
    root = ET.fromstring(msc.to_svg(diagram))
    (band,) = _groups(root, "rtp")
    assert (band.get("data-a"), band.get("data-b")) == ("10.0.0.1", "192.0.2.50")
    assert "(1 lost)" in _texts(band, "rtp-counts")[0]


def test_it_caps_the_rows_it_draws() -> None:
    messages = [_message("OPTIONS sip:a@b SIP/2.0", "p") for _ in range(30)]
    for n, m in enumerate(messages):
        m.ts_us += n * 1000
        m.index = n
    root = _svg(CallFlow(messages), max_rows=10)
    assert len(_groups(root, "arrow")) == 10
    (note,) = _groups(root, "note")
    assert "20 more rows" in _texts(note)[0]


def test_it_renders_a_valid_png_of_plausible_size() -> None:
    diagram = msc.build(parse_capture("udp_retrans"))
    png = msc.to_png(diagram)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.size == (diagram.width, diagram.height)
    assert 400 <= image.width <= 2000 and 300 <= image.height <= 2000
    colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 20  # not a blank image: text, lines, band
    big = msc.to_png(diagram, scale=2)
    assert Image.open(io.BytesIO(big)).size == (diagram.width * 2, diagram.height * 2)
