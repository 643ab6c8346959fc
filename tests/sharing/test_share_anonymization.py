"""anonIps: the page, the JSON, the ladder and the downloaded PCAP show no real address, the
same fake for the same address everywhere, and the PCAP still plays the same audio."""

from __future__ import annotations

import io
import ipaddress
import json
import re

import dpkt
import numpy as np
import pytest
from django.test import Client

from cdr.media import service as media
from cdr.media.audio import decode_call
from tests.cdr.media.test_media_support import body_of, dominant_freq
from tests.sharing.test_sharing_support import (
    CALLED_IP,
    CALLER_IP,
    make_share,
    share_path,
    shared_call,
    sharer,
    spool,
)

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db
REAL = (CALLER_IP, CALLED_IP)
_V4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


@pytest.fixture
def anon(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call, rtp=True, sip_history=True, anon_ips=True)
    return share, token


def _json(token: str) -> dict:
    return json.loads(Client().get(f"{share_path(token)}/data.json").content)


def _original_pcap(cdr_id: int) -> bytes:
    (call,) = media.find_calls([cdr_id], media_scope())
    return b"".join(media.pcap_stream([call], rtp=True))


def media_scope():
    from cdr.query.scope import CdrScope

    return CdrScope.unrestricted("test")


def _packets(data: bytes):
    for _, buf in dpkt.pcap.Reader(io.BytesIO(data)):
        eth = dpkt.ethernet.Ethernet(buf)
        yield eth.data


def _decoded(data: bytes, caller_ip: str) -> np.ndarray:
    audio = decode_call(lambda: io.BytesIO(data), lambda: io.BytesIO(data), caller_ip=caller_ip)
    try:
        return np.concatenate(list(audio.blocks()))
    finally:
        audio.close()


def test_the_page_json_and_ladder_show_fakes_never_the_real_addresses(anon):
    _, token = anon
    html = Client().get(share_path(token)).content.decode()
    body = _json(token)
    text = html + json.dumps(body)
    assert not any(ip in text for ip in REAL)
    (call,) = body["calls"]
    fake_caller, fake_called = call["sipcallerip"], call["sipcalledip"]
    assert {fake_caller, fake_called}.isdisjoint(REAL) and fake_caller != fake_called
    ladder = html[html.index('id="ladder"') : html.index("</svg>")]
    assert fake_caller in ladder and fake_called in ladder  # the ladder's lifelines
    assert body["messages"][0]["src"] == fake_caller and body["messages"][0]["dst"] == fake_called
    assert f"c=IN IP4 {fake_caller}" in html or f"@{fake_caller}" in html
    assert "share-call-1@" + fake_caller in call["callId"]
    assert {s["src"] for s in body["rtp_streams"]} == {fake_caller, fake_called}


def test_the_downloaded_pcap_holds_no_real_address_and_plays_the_same_audio(anon, shared_call):
    _, token = anon
    data = body_of(Client().get(f"{share_path(token)}/call.pcap"))
    original = _original_pcap(shared_call.cdr_id)
    fake_caller = _json(token)["calls"][0]["sipcallerip"]
    reals = {ipaddress.ip_address(ip).packed for ip in REAL}
    sip_texts, rtp_new, addresses = [], [], set()
    for ip in _packets(data):
        addresses |= {ip.src, ip.dst}
        udp = ip.data
        if udp.data.startswith((b"INVITE", b"SIP/2.0", b"ACK", b"BYE")):
            sip_texts.append(udp.data.decode())
        else:
            rtp_new.append(bytes(udp.data))
    assert addresses and addresses.isdisjoint(reals)
    assert all(real not in data for real in reals)  # nowhere, not even inside a payload
    sip = "".join(sip_texts)
    assert "c=IN IP4" in sip and "Via: SIP/2.0/UDP" in sip
    assert not any(real in sip for real in REAL) and fake_caller in sip
    # every address written in SIP/SDP is one of the fakes of the IP headers
    written = {ipaddress.ip_address(a).packed for a in _V4.findall(sip)}
    assert written <= addresses
    rtp_old = [
        bytes(ip.data.data)
        for ip in _packets(original)
        if ip.data.sport != 5060 and ip.data.dport != 5060
    ]
    assert rtp_new == rtp_old  # RTP payload byte for byte
    before = _decoded(original, CALLER_IP)
    after = _decoded(data, fake_caller)
    assert before.shape == after.shape and before.shape[0] > 8000
    assert np.array_equal(before, after)
    assert abs(dominant_freq(after[:, 0]) - 1000) < 20  # the caller's tone
    assert abs(dominant_freq(after[:, 1]) - 440) < 20


def test_the_same_share_maps_the_same_address_the_same_way_each_time(anon):
    _, token = anon
    assert _json(token)["calls"] == _json(token)["calls"]


def test_two_shares_of_one_call_use_different_fakes(sharer, shared_call, anon):
    _, token = anon
    _, other, _ = make_share(sharer, shared_call, anon_ips=True)
    assert _json(token)["calls"][0]["sipcallerip"] != _json(other)["calls"][0]["sipcallerip"]
