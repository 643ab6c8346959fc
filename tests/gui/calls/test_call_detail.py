"""The call detail page (/calls/<id>/): summary, quality per side, DTMF, custom headers, legs,
the SIP ladder with its messages, the RTP streams table; scope and bad ids.

Real data paths: calls generated into a spool like the sniffer writes them (``media_calls``),
rows written like the sniffer (``make_call``), and the real sniffer's own database and spool
(MariaDB pass).
"""

from __future__ import annotations

import io
import re

import dpkt
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.preferences import save_preferences
from cdr.bulk import insert
from cdr.models import CdrDtmf, CdrRtp
from tests.cdr.media.test_media_support import real_spools
from tests.cdr.test_unicode_search import sniffer_writes
from tests.factories import aware, custom_header_definition, make_call, sensor
from tests.gui.calls.pagetext import has_id, markup_of, text_of
from tests.gui.support import ALL_MEDIA, media_calls, signed_in

__all__ = ["media_calls", "real_spools"]

pytestmark = pytest.mark.django_db


def page(client: Client, cdr_id: int) -> str:
    response = client.get(f"/calls/{cdr_id}/")
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def _user(username: str):
    return get_user_model().objects.get(username=username)


# --- summary --------------------------------------------------------------------------------


def test_it_shows_the_summary_of_a_real_call_in_the_users_zone_and_format(media_calls):
    call = media_calls[0]
    sensor(1, "praha-edge")
    client = signed_in("summary", ALL_MEDIA)
    save_preferences(_user("summary"), time_zone="Asia/Tokyo", date_format="d.m.Y H:i:s")
    html = page(client, call.cdr_id)
    # 09:00 UTC (VMGUI_TIME_ZONE) is 18:00 in Tokyo
    assert text_of(html, "f-start") == "26.11.2026 18:00:00 Asia/Tokyo"
    assert text_of(html, "f-caller") == "Alice +420601111111@alpha.example.com"
    assert text_of(html, "f-called") == "2002@beta.example.com"
    assert text_of(html, "f-callerip") == "10.1.0.1 port 5060"
    assert text_of(html, "f-calledip") == "10.2.0.2 port 5060"
    duration = f"{round(call.result.duration, 3):g}"
    connected = f"{round(call.result.connect_duration, 3):g}"
    assert text_of(html, "f-duration") == f"{duration} s (connected {connected} s)"
    assert text_of(html, "f-response") == "200 OK"
    assert 'class="sip-ok"' in markup_of(html, "f-response")
    assert text_of(html, "f-codecs") == "G.711 ulaw / G.711 ulaw"
    assert text_of(html, "f-sensor") == "praha-edge (id 1)"
    assert text_of(html, "f-callid") == "gui-a@alpha"
    assert "<title>Call +420601111111 → 2002 (CDR" in html


def test_it_shows_names_as_the_phone_sent_them(db):
    cdr = make_call("2026-11-27 10:00:00", caller="1001", called="2002")
    sniffer_writes(cdr.ID, callername="Žluťoučký kůň 📞", called="日本123")
    html = page(signed_in("unicode", ("can_cdr",)), cdr.ID)
    assert text_of(html, "f-caller").startswith("Žluťoučký kůň 📞 1001")
    assert text_of(html, "f-called").startswith("日本123")


def test_it_shows_both_sides_quality_with_colour_cues_and_numbers(db):
    cdr = make_call(
        "2026-11-27 10:00:00",
        response="200 OK",
        sipcallerip="10.0.0.1",
        a_mos_f1_mult10=42,
        a_mos_f2_mult10=41,
        a_mos_adapt_mult10=43,
        a_mos_min_mult10=41,
        b_mos_f1_mult10=29,
        b_mos_f2_mult10=28,
        b_mos_adapt_mult10=30,
        b_mos_min_mult10=28,
        a_packet_loss_perc_mult1000=500,
        b_packet_loss_perc_mult1000=12500,
        a_avgjitter_mult10=35,
        a_maxjitter=9,
        b_avgjitter_mult10=412,
        b_maxjitter=95,
        a_received=502,
        a_lost=3,
        b_received=442,
        b_lost=63,
        a_index=0,
        b_index=1,
        bye=3,
        whohanged="callee",
    )
    start = aware("2026-11-27 10:00:00")
    insert(
        CdrRtp,
        [
            dict(cdr=cdr.ID, calldate=start, index=1, saddr="10.0.0.1", sport=4000,
                 daddr="10.0.0.2", dport=5000, ssrc=0x1234ABCD, received=502, loss=3,
                 payload=8, firsttime=1, duration=28, maxjitter_mult10=90),
            dict(cdr=cdr.ID, calldate=start, index=2, saddr="10.0.0.2", sport=5000,
                 daddr="10.0.0.1", dport=4000, ssrc=0x0BADF00D, received=442, loss=63,
                 payload=8, firsttime=1, duration=28, maxjitter_mult10=950),
        ],
    )  # fmt: skip
    html = page(signed_in("quality", ("can_cdr",)), cdr.ID)
    a, b = text_of(html, "quality-a"), text_of(html, "quality-b")
    assert a == "Caller → called G.711 alaw 4.1 4.2 / 4.1 / 4.3 3.5 / 9 0.5 % 502 / 3"
    assert b == "Called → caller G.711 alaw 2.8 2.9 / 2.8 / 3 41.2 / 95 12.5 % 442 / 63"
    assert 'class="badge q-good" data-mos="4.1"' in markup_of(html, "quality-a")
    assert 'class="badge q-good" data-loss="0.5"' in markup_of(html, "quality-a")
    assert 'class="badge q-bad" data-mos="2.8"' in markup_of(html, "quality-b")
    assert 'class="badge q-bad" data-loss="12.5"' in markup_of(html, "quality-b")
    # the streams table: loss % of the packets expected, MOS of the side each stream is
    streams = markup_of(html, "streams")
    rows = text_of(html, "streams")
    assert "10.0.0.1:4000 10.0.0.2:5000 1234ABCD G.711 alaw 502 3 0.59 % 9 4.1 1 / 28" in rows
    assert "10.0.0.2:5000 10.0.0.1:4000 0BADF00D G.711 alaw 442 63 12.48 % 95 2.8 1 / 28" in rows
    assert 'class="badge q-bad">12.48 %' in streams and 'class="badge q-bad" title' in streams
    assert text_of(html, "f-bye") == "BYE confirmed by 200 OK (code 3)"
    assert text_of(html, "f-whohanged") == "the called party"


def test_it_shows_dtmf_and_only_the_custom_headers_the_user_may_see(db):
    custom_header_definition("X-Account-Code", 1, 1)
    custom_header_definition("X-Tenant-Secret", 1, 2)
    cdr = make_call(
        "2026-11-27 10:00:00", dynamic_headers={(1, 1): "ACME-7", (1, 2): "tenant-hidden-42"}
    )
    for digit, at in (("5", 1.5), ("#", 2.25)):
        CdrDtmf.objects.create(
            cdr_id=cdr.ID, calldate=aware("2026-11-27 10:00:00"), dtmf=digit, type=2, firsttime=at
        )
    everything = page(signed_in("all-headers", ("can_cdr",)), cdr.ID)
    assert "X-Tenant-Secret tenant-hidden-42" in text_of(everything, "custom-headers")
    html = page(
        signed_in("some-headers", ("can_cdr",), custom_headers_cdr="X-Account-Code"), cdr.ID
    )
    assert text_of(html, "custom-headers") == "Custom headers X-Account-Code ACME-7"
    assert "tenant-hidden-42" not in html and "X-Tenant-Secret" not in html
    dtmf = text_of(html, "dtmf")
    assert "1.5 5 RFC 2833" in dtmf and "2.25 # RFC 2833" in dtmf
    assert "From the database (cdr_dtmf)" in dtmf


def test_it_links_the_other_legs_the_user_may_see(db):
    first = make_call("2026-11-27 10:00:00", call_id="leg-x@pbx", caller="1001", called="2002")
    second = make_call(
        "2026-11-27 10:00:02", call_id="leg-x@pbx", called="2002", response="486 Busy Here"
    )
    hidden = make_call("2026-11-27 10:00:03", call_id="leg-x@pbx", id_sensor=9)
    other = make_call("2026-11-27 10:00:04", call_id="another@pbx")
    html = page(signed_in("legs", ("can_cdr",), enable_sensors="1"), first.ID)
    legs = markup_of(html, "legs")
    assert f'href="/calls/{second.ID}/"' in legs and "486 Busy Here" in text_of(html, "legs")
    assert f"/calls/{hidden.ID}/" not in legs and f"/calls/{other.ID}/" not in legs
    back = page(signed_in("legs2", ("can_cdr",)), second.ID)
    assert f'href="/calls/{first.ID}/"' in markup_of(back, "legs")
    assert f'href="/calls/{hidden.ID}/"' in markup_of(back, "legs")  # unrestricted user


# --- SIP ladder and messages ----------------------------------------------------------------


def test_the_ladder_reveals_whole_messages_to_users_with_can_pcap(media_calls):
    call = media_calls[0]
    html = page(signed_in("ladder", ("can_cdr", "can_pcap")), call.cdr_id)
    ladder = markup_of(html, "ladder")
    assert ladder.startswith('<div class="ladder" id="ladder"><svg')
    assert f"<title>SIP call flow of CDR {call.cdr_id}</title>" in ladder
    assert 'class="arrow" data-index="0"' in ladder
    invite = text_of(html, "msg-0")
    assert "INVITE (SDP)" in invite and "10.1.0.1:5060 → 10.2.0.2:5060" in invite
    assert "Call-ID: gui-a@alpha" in invite and "m=audio 11000 RTP/AVP 0" in invite
    labels = [text_of(html, f"msg-{i}").split(" s ", 1)[1] for i in range(7)]
    assert labels[-1].startswith("200 OK (BYE)") and labels[5].startswith("BYE")
    assert not has_id(html, "first-lines-only")


def test_the_ladder_shows_first_lines_only_without_can_pcap_and_says_so(media_calls):
    html = page(signed_in("nopcap", ("can_cdr",)), media_calls[0].cdr_id)
    assert "<svg" in markup_of(html, "ladder")
    invite = text_of(html, "msg-0")
    assert "INVITE sip:2002@beta.example.com SIP/2.0" in invite
    assert "Call-ID:" not in invite and "m=audio" not in invite
    assert "whole messages need the can_pcap permission" in text_of(html, "first-lines-only")


def test_the_streams_table_counts_the_packets_in_the_capture(media_calls):
    call = media_calls[0]
    html = page(signed_in("streams", ALL_MEDIA), call.cdr_id)
    rows = text_of(html, "streams")
    pcap = Client()
    pcap.force_login(_user("streams"))
    data = b"".join(pcap.get(f"/calls/{call.cdr_id}/call.pcap").streaming_content)
    to_port: dict[int, int] = {}
    for _, buf in dpkt.pcap.Reader(io.BytesIO(data)):
        udp = dpkt.ethernet.Ethernet(buf).data.data
        to_port[udp.dport] = to_port.get(udp.dport, 0) + 1
    # one row per direction, with the packets really captured and no loss
    caller = (
        rf"10\.1\.0\.1:11000 10\.2\.0\.2:21000 [0-9A-F]{{8}} G\.711 ulaw {to_port[21000]} 0 0 %"
    )
    called = (
        rf"10\.2\.0\.2:21000 10\.1\.0\.1:11000 [0-9A-F]{{8}} G\.711 ulaw {to_port[11000]} 0 0 %"
    )
    assert re.search(caller, rows) and re.search(called, rows)
    assert to_port[21000] > 150 and to_port[11000] > 150
    assert "From the database (cdr_rtp)." in text_of(html, "streams-section")


def test_a_call_without_media_shows_notes_not_an_error(db, tmp_path, settings):
    settings.SPOOL_DIR = tmp_path
    cdr = make_call("2026-11-27 10:00:00", connect_duration=None, response="404 Not Found")
    html = page(signed_in("nomedia", ALL_MEDIA), cdr.ID)
    assert text_of(html, "history-missing").startswith(f"No SIP history: no pcap for CDR {cdr.ID}")
    assert text_of(html, "no-audio").startswith("This call has no recording:")
    assert "<audio" not in html and not has_id(html, "dl-pcap")
    assert "not in the spool" in text_of(html, "downloads")
    assert 'class="sip-warn"' in markup_of(html, "f-response")
    assert text_of(html, "no-streams") == "This call has no RTP streams."


# --- who may open it --------------------------------------------------------------------------


def test_a_call_outside_the_scope_is_the_same_404_as_a_missing_one(db):
    cdr = make_call("2026-11-27 10:00:00", id_sensor=1)
    client = signed_in("scoped", ALL_MEDIA, enable_sensors="2")
    hidden = client.get(f"/calls/{cdr.ID}/")
    missing = client.get("/calls/987654/")
    assert hidden.status_code == missing.status_code == 404
    assert text_of(hidden.content, "reason") == (
        f"There is no call with the id {cdr.ID} that your account may see."
    )
    assert text_of(missing.content, "reason").replace("987654", str(cdr.ID)) == text_of(
        hidden.content, "reason"
    )
    assert b"10.0.0.1" not in hidden.content and b"1001" not in hidden.content
    for path in ("share/", "call.pcap", "audio.wav", "recording.wav", "graph/P.png", "sip.txt"):
        assert client.get(f"/calls/{cdr.ID}/{path}").status_code == 404, path


@pytest.mark.parametrize("bad", ["0", "99999999999999999999", "-1", "abc", "1.5"])
def test_bad_ids_are_404(db, bad):
    assert signed_in(f"bad{len(bad)}", ALL_MEDIA).get(f"/calls/{bad}/").status_code == 404


def test_it_needs_a_login_and_can_cdr(db):
    cdr = make_call("2026-11-27 10:00:00")
    response = Client().get(f"/calls/{cdr.ID}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    refused = signed_in("no-cdr", ("can_pcap",)).get(f"/calls/{cdr.ID}/")
    assert refused.status_code == 403 and b"can_cdr" in refused.content
    assert b"1001" not in refused.content


# --- the real sniffer's data (MariaDB) --------------------------------------------------------


@pytest.mark.mysql
def test_it_shows_the_real_sniffers_lossy_call(sniffer_dump, real_spools, settings):
    sniffer_dump("db_notar.sql")
    settings.SPOOL_DIR = real_spools["notar"]
    client = signed_in("real", ALL_MEDIA)
    html = page(client, 11)  # call #9: ~4 % loss on the caller's stream, 25 ms jitter
    assert text_of(html, "f-caller").startswith("Ivan Ivanov 3009@gamma.example.net")
    assert text_of(html, "f-callid") == "e1c4f309a7b44a09@gamma.example.net"
    assert "lossy-call" in text_of(html, "custom-headers")
    assert "574 / 26" in text_of(html, "quality-a")
    rows = text_of(html, "streams")
    assert "574 26 4.33 %" in rows and 'q-poor">4.33 %' in markup_of(html, "streams")
    assert "INVITE (SDP)" in text_of(html, "msg-0") and "Call-ID: e1c4f309" in text_of(
        html, "msg-0"
    )
    assert text_of(page(client, 10), "f-whohanged") == "the called party"  # call #8
