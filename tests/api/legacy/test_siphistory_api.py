"""/php/pcap2text.php: brief_data, brief, getMSC (HTML, SVG, PNG), text; sessions,
permissions, scope, merged legs. SQLite and MariaDB: real SIPp captures and demo calls filed
into a spool; MariaDB only: the real sniffer's dumps with its real spools."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import xml.etree.ElementTree as ET
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from accounts.models import AuditEvent
from cdr.bulk import insert
from cdr.models import CdrRtp
from tests.cdr.media.test_media_support import (
    LIVE_CALLS,
    PASSWORD,
    media_user,
    real_spools,
    tone_spec,
    write_calls,
)
from tests.cdr.siphistory.test_siphistory_support import CALL_IDS, EXPECTED, spool_capture
from tests.factories import aware

__all__ = ["real_spools"]

URL = "/php/pcap2text.php"
SVG = "{http://www.w3.org/2000/svg}"
NO_SESSION = {"success": False, "error": {"type": "no_session"}}


@pytest.fixture
def spool(tmp_path: Path, settings) -> Path:
    settings.SPOOL_DIR = tmp_path / "spool"
    return settings.SPOOL_DIR


@pytest.fixture
def user(db):
    return media_user("sipuser", flags=("can_cdr", "can_pcap"))


@pytest.fixture
def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def retrans(spool, db) -> int:
    """The real udp_retrans capture filed like the sniffer: SIP and RTP pcaps."""
    return spool_capture(spool, "udp_retrans", caller="1001", called="2001")


def _json(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def _reason(response) -> str:
    body = _json(response)
    assert body["success"] is False, body
    assert body["error"]["descr"] == body["errors"]["reason"]
    return body["errors"]["reason"]


def _svg_arrows(svg_text: str) -> list[tuple[str, str, str]]:
    root = ET.fromstring(svg_text)
    return [
        (g.get("data-src"), g.get("data-dst"), g.get("data-label"))
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "arrow"
    ]


# ---------------------------------------------------------------------------
# brief_data
# ---------------------------------------------------------------------------


def test_it_answers_brief_data_in_the_legacy_shape(retrans, client) -> None:
    body = _json(client.get(URL, {"action": "brief_data", "id": retrans}))
    assert body["success"] is True and body["errors"] == {}
    assert body["total"] == len(body["results"]) == 9
    assert body["_vm_version"] == django_settings.VM_VERSION
    first, second = body["results"][:2]
    assert (first["srcip"], first["dstip"], first["srcport"], first["dstport"]) == (
        "127.0.0.71",
        "127.0.0.72",
        5060,
        5060,
    )
    assert isinstance(first["time_timestamp"], float)
    assert abs(first["time_timestamp"] - 1795756883.067472) < 1e-6
    zone = zoneinfo.ZoneInfo(django_settings.TIME_ZONE)  # times are in the sniffer's zone
    when = dt.datetime(2026, 11, 27, 5, 21, 23, 67472, tzinfo=dt.UTC).astimezone(zone)
    assert first["time"] == when.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert first["transport"] == "UDP" and first["time_relative"] == 0
    assert first["msg"].split("\n")[0] == "INVITE sip:2001@beta.example.com SIP/2.0"
    assert "Call-ID: retrans-1@sipfixture.test" in first["msg"]
    assert "v=0" not in first["msg"] and "full" not in first
    assert second["retransmission"] is True and first["retransmission"] is False
    assert [r["id"] for r in body["results"]] == list(range(1, 10))
    assert [(r["srcip"], r["dstip"]) for r in body["results"]] == [
        (a, b) for a, b, _ in EXPECTED["udp_retrans"]
    ]
    times = [r["time_timestamp"] for r in body["results"]]
    assert times == sorted(times)
    assert {r["cdr_id"] for r in body["results"]} == {retrans}
    assert "rtp_streams" not in body


def test_it_adds_rtp_streams_dtmf_and_whole_messages_on_request(retrans, client) -> None:
    body = _json(client.get(URL, {"action": "brief_data", "id": retrans, "rtp": "1", "full": "1"}))
    streams = sorted((s["srcip"], s["codec"], s["packets"]) for s in body["rtp_streams"])
    assert streams == [
        ("127.0.0.71", "PCMA", 236),
        ("127.0.0.71", "telephone-event", 10),
        ("127.0.0.72", "PCMA", 236),
    ]
    assert [(d["digit"], d["type"]) for d in body["dtmf"]] == [("5", "RFC 2833")]
    assert "a=rtpmap:8 PCMA/8000" in body["results"][0]["full"]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.PCAP_DOWNLOAD)
    assert [(e.face, e.object_id, e.details.get("what")) for e in events] == [
        ("pcap2text.php", str(retrans), "sip_text")
    ]


def test_it_works_with_the_sql_php_session_cookie(retrans, user) -> None:
    login = Client().post(
        f"/php/model/sql.php?module=bypass_login&user=sipuser&pass={PASSWORD}",
        data=b"",
        content_type="application/x-www-form-urlencoded",
    )
    sid = _json(login)["SID"]
    c = Client()
    c.cookies[django_settings.SESSION_COOKIE_NAME] = sid
    assert _json(c.get(URL, {"action": "brief_data", "id": retrans}))["total"] == 9
    # a client that POSTs an empty JSON object with the parameters in the query string
    posted = c.post(
        f"{URL}?action=brief_data&id={retrans}", data="{}", content_type="application/json"
    )
    assert _json(posted)["total"] == 9


def test_it_answers_no_session_like_sql_php(retrans, db) -> None:
    anonymous = Client()
    for action in ("brief_data", "brief", "getMSC", "text"):
        assert _json(anonymous.get(URL, {"action": action, "id": retrans})) == NO_SESSION
    stale = Client()
    stale.cookies[django_settings.SESSION_COOKIE_NAME] = "0" * 32
    assert _json(stale.get(URL, {"action": "brief_data", "id": retrans})) == NO_SESSION
    # a browser opening the table or the diagram is sent to the login page and back
    page = anonymous.get(URL, {"action": "brief", "id": retrans}, HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and "/admin/login/" in page["Location"]
    assert "pcap2text.php" in page["Location"]


def test_it_answers_anonymously_when_api_authorization_is_disabled(retrans, settings) -> None:
    settings.API_DISABLE_AUTH = True
    assert _json(Client().get(URL, {"action": "brief_data", "id": retrans}))["total"] == 9


# ---------------------------------------------------------------------------
# Permissions and scope
# ---------------------------------------------------------------------------


def test_it_needs_can_cdr_and_can_pcap_for_whole_messages(retrans, db) -> None:
    nocdr = Client()
    nocdr.force_login(media_user("nocdr", flags=("can_pcap",)))
    reason = _reason(nocdr.get(URL, {"action": "brief_data", "id": retrans}))
    assert reason == "permission denied: reading a call's SIP history needs the can_cdr permission"
    cdr_only = Client()
    cdr_only.force_login(media_user("cdronly", flags=("can_cdr",)))
    assert _json(cdr_only.get(URL, {"action": "brief_data", "id": retrans}))["total"] == 9
    for params in ({"action": "text"}, {"action": "brief_data", "full": "1"}):
        reason = _reason(cdr_only.get(URL, {**params, "id": retrans}))
        assert "can_pcap" in reason
    table = cdr_only.get(URL, {"action": "brief", "id": retrans})
    assert table.status_code == 200 and b"<details>" not in table.content
    assert b"Text export" not in table.content
    assert (
        cdr_only.get(URL, {"action": "getMSC", "id": retrans, "format": "png"})["Content-Type"]
        == "image/png"
    )
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PCAP_DOWNLOAD).exists()


def test_it_treats_a_cdr_outside_the_scope_as_missing(retrans, db) -> None:
    scoped = Client()
    scoped.force_login(media_user("scoped", flags=("can_cdr", "can_pcap"), number="9999%"))
    outside = _json(scoped.get(URL, {"action": "brief_data", "id": retrans}))
    missing = _json(scoped.get(URL, {"action": "brief_data", "id": 987654}))
    assert outside == {
        "success": False,
        "error": {"type": "params", "descr": f"no such CDR: {retrans}"},
        "errors": {"reason": f"no such CDR: {retrans}"},
    }
    assert json.dumps(missing).replace("987654", "N") == json.dumps(outside).replace(
        str(retrans), "N"
    )
    for action in ("brief", "getMSC"):  # a browser gets the same 404 page for both
        a = scoped.get(URL, {"action": action, "id": retrans}, HTTP_ACCEPT="text/html")
        b = scoped.get(URL, {"action": action, "id": 987654}, HTTP_ACCEPT="text/html")
        assert a.status_code == b.status_code == 404
        assert a.content.replace(str(retrans).encode(), b"N") == b.content.replace(b"987654", b"N")
    assert _reason(scoped.get(URL, {"action": "text", "id": retrans})) == f"no such CDR: {retrans}"


# ---------------------------------------------------------------------------
# HTML table, diagram, text export
# ---------------------------------------------------------------------------


def test_it_escapes_message_text_in_the_html_table_and_the_diagram(spool, client, db) -> None:
    evil = '<script>alert("pwned")</script>'
    (call,) = write_calls(
        spool,
        [
            tone_spec(
                "xss@demo",
                dt.datetime(2026, 11, 27, 12, 0, 0),
                user_agent=evil,
                extra_headers={"X-Note": "<img src=x onerror=alert(1)>"},
            )
        ],
    )
    for action in ("brief", "getMSC"):
        page = client.get(URL, {"action": action, "id": call.cdr_id})
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
        html = page.content.decode()
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html or (
            '&lt;script&gt;alert("pwned")&lt;/script&gt;' in html
        )
        assert "script-src" not in page["Content-Security-Policy"]
        assert page["Content-Security-Policy"].startswith("default-src 'none'")
    table = client.get(URL, {"action": "brief", "id": call.cdr_id}).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in table  # in the whole message (can_pcap)


def test_it_shows_the_brief_table(retrans, client) -> None:
    page = client.get(URL, {"action": "brief", "id": retrans})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<tr class="retrans"') == 2
    assert html.count("<tr class=") == 9
    assert "retrans-1@sipfixture.test" in html and "127.0.0.71:5060" in html
    assert "200 OK (BYE)" in html
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    with_rtp = client.get(URL, {"action": "brief", "id": retrans, "rtp": "1"}).content.decode()
    assert "<h2>RTP streams</h2>" in with_rtp and "telephone-event" in with_rtp


def test_it_draws_the_call_flow_as_svg_html_and_png(retrans, client) -> None:
    page = client.get(URL, {"action": "getMSC", "id": retrans})
    html = page.content.decode()
    svg_text = html[html.index("<svg") : html.index("</svg>") + 6]
    assert _svg_arrows(svg_text) == EXPECTED["udp_retrans"]
    assert 'class="rtp"' in svg_text and 'data-digit="5"' in svg_text
    assert "format=png" in html and "format=svg" in html
    svg = client.get(URL, {"action": "getMSC", "id": retrans, "format": "svg"})
    assert svg["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert svg["Content-Disposition"] == 'attachment; filename="retrans-1@sipfixture.test-msc.svg"'
    assert _svg_arrows(svg.content.decode()) == EXPECTED["udp_retrans"]
    png = client.get(URL, {"action": "getMSC", "id": retrans, "format": "png"})
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"] == 'attachment; filename="retrans-1@sipfixture.test-msc.png"'
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.width >= 400 and image.height >= 300
    assert "format" in _reason(
        client.get(URL, {"action": "getMSC", "id": retrans, "format": "gif"})
    )


def test_it_exports_the_dialog_as_plain_text(retrans, client) -> None:
    response = client.get(URL, {"action": "text", "id": retrans})
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="retrans-1@sipfixture.test-sip.txt"'
    )
    text = response.content.decode()
    assert text.startswith(f"SIP history of CDR {retrans} (Call-ID retrans-1@sipfixture.test)")
    assert text.count("===== [") == 9
    assert "UDP 127.0.0.71:5060 -> 127.0.0.72:5060 (" in text and "retransmission" in text
    assert "INVITE sip:2001@beta.example.com SIP/2.0\nVia:" in text
    assert "a=rtpmap:101 telephone-event/8000" in text and "Max-Forwards: 70" in text
    audit = AuditEvent.objects.get(action=AuditEvent.Action.PCAP_DOWNLOAD)
    assert (audit.face, audit.object_id) == ("pcap2text.php", str(retrans))


@pytest.mark.parametrize(
    "name", ["tcp_split", "ipv6_fork", "sll2_cancel", "sll_reject", "udp_fork"]
)
def test_it_serves_every_real_capture(name: str, spool, client) -> None:
    cdr_id = spool_capture(spool, name)
    body = _json(client.get(URL, {"action": "brief_data", "id": cdr_id}))
    assert body["total"] == len(EXPECTED[name])
    assert {r["callid"] for r in body["results"]} == {CALL_IDS[name]}
    assert client.get(URL, {"action": "getMSC", "id": cdr_id}).status_code == 200


def test_it_takes_rtp_streams_from_cdr_rtp_without_an_rtp_pcap(spool, client) -> None:
    cdr_id = spool_capture(spool, "udp_retrans", rtp_file=False)
    start = aware("2026-11-27 05:21:23.067")
    insert(
        CdrRtp,
        [
            dict(
                cdr=cdr_id,
                calldate=start,
                saddr="127.0.0.71",
                sport=16000,
                daddr="127.0.0.72",
                dport=26000,
                ssrc=1,
                received=236,
                loss=0,
                firsttime=Decimal("2.42"),
                payload=8,
                index=1,
            ),
            dict(
                cdr=cdr_id,
                calldate=start,
                saddr="127.0.0.72",
                sport=26000,
                daddr="127.0.0.71",
                dport=16000,
                ssrc=2,
                received=230,
                loss=6,
                firsttime=Decimal("2.42"),
                payload=8,
                index=2,
            ),
        ],
    )
    body = _json(client.get(URL, {"action": "brief_data", "id": cdr_id, "rtp": "1"}))
    assert sorted(
        (s["srcip"], s["codec"], s["packets"], s["lost"], s["source"]) for s in body["rtp_streams"]
    ) == [
        ("127.0.0.71", "G.711 alaw", 236, 0, "cdr_rtp"),
        ("127.0.0.72", "G.711 alaw", 230, 6, "cdr_rtp"),
    ]
    assert body["rtp_streams"][0]["first_relative"] == pytest.approx(2.42, abs=0.01)
    assert any("cdr_rtp" in note for note in body["notes"])
    svg = client.get(URL, {"action": "getMSC", "id": cdr_id, "format": "svg"}).content.decode()
    assert 'class="rtp"' in svg and 'data-packets="466"' in svg


# ---------------------------------------------------------------------------
# Legs, errors
# ---------------------------------------------------------------------------


@pytest.fixture
def legs(spool, db):
    """One Call-ID seen twice (two sensors), 40 s apart, and once a day earlier."""
    a = tone_spec("legs@demo", dt.datetime(2026, 11, 27, 11, 0, 40), talk_s=1.0)
    b = tone_spec(
        "legs@demo",
        dt.datetime(2026, 11, 27, 11, 1, 20),
        caller_ip="10.3.0.3",
        called_ip="10.4.0.4",
        talk_s=1.0,
        seed=4,
    )
    old = tone_spec("legs@demo", dt.datetime(2026, 11, 26, 11, 0, 0), talk_s=1.0, seed=5)
    return write_calls(spool, [a, b, old])


def test_it_merges_the_legs_of_a_call(legs, client) -> None:
    first, second, old = legs
    alone = _json(client.get(URL, {"action": "brief_data", "id": first.cdr_id}))
    assert alone["total"] == len(first.result.sip)
    merged = _json(client.get(URL, {"action": "brief_data", "id": first.cdr_id, "cidMerge": "1"}))
    assert merged["total"] == len(first.result.sip) + len(second.result.sip)
    assert [r["cdr_id"] for r in merged["results"]] == [first.cdr_id] * len(first.result.sip) + [
        second.cdr_id
    ] * len(second.result.sip)
    assert {r["srcip"] for r in merged["results"]} >= {"10.1.0.1", "10.3.0.3"}
    narrow = _json(
        client.get(URL, {"action": "brief_data", "id": first.cdr_id, "cidInterval": "10"})
    )
    assert narrow["total"] == len(first.result.sip)
    by_call_id = _json(
        client.get(URL, {"action": "brief_data", "callId": "legs@demo", "cidInterval": 60})
    )
    assert {r["cdr_id"] for r in by_call_id["results"]} == {first.cdr_id, second.cdr_id}
    svg = client.get(
        URL, {"action": "getMSC", "id": second.cdr_id, "cidMerge": "true", "format": "svg"}
    )
    hosts = [
        g.get("data-host")
        for g in ET.fromstring(svg.content).iter(f"{SVG}g")
        if g.get("class") == "host"
    ]
    assert hosts == ["10.1.0.1", "10.2.0.2", "10.3.0.3", "10.4.0.4"]
    assert old.cdr_id not in {r["cdr_id"] for r in by_call_id["results"]}


def test_it_explains_bad_requests_and_missing_files(retrans, client, spool) -> None:
    assert "action 'nope'" in _reason(client.get(URL, {"action": "nope", "id": retrans}))
    assert "action missing" in _reason(client.get(URL, {"id": retrans}))
    assert "missing id" in _reason(client.get(URL, {"action": "brief_data"}))
    assert "id" in _reason(client.get(URL, {"action": "brief_data", "id": "abc"}))
    assert "cidInterval" in _reason(
        client.get(URL, {"action": "brief_data", "id": retrans, "cidInterval": "x"})
    )
    assert "method PUT" in _reason(client.put(URL))
    assert _json(client.get(URL, {"action": "BRIEF_DATA", "id": retrans}))["success"] is True
    shutil.rmtree(spool / "2026-11-27")
    reason = _reason(client.get(URL, {"action": "brief_data", "id": retrans}))
    assert reason.startswith(f"no pcap for CDR {retrans}") and "cleanspool" in reason
    page = client.get(URL, {"action": "brief", "id": retrans}, HTTP_ACCEPT="text/html")
    assert page.status_code == 404 and b"cleanspool" in page.content


def test_it_never_shows_a_traceback(retrans, client, monkeypatch) -> None:
    import api.legacy.pcap2text as view

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(view, "call_flow", boom)
    reason = _reason(client.get(URL, {"action": "brief_data", "id": retrans}))
    assert reason.startswith("internal error") and "secret" not in reason
    page = client.get(URL, {"action": "getMSC", "id": retrans}, HTTP_ACCEPT="text/html")
    assert page.status_code == 500 and b"secret" not in page.content


# ---------------------------------------------------------------------------
# MariaDB: the real sniffer's database and spools
# ---------------------------------------------------------------------------


@pytest.mark.mysql
def test_it_serves_the_real_plain_spool_calls(sniffer_dump, real_spools, settings) -> None:
    sniffer_dump("db_notar.sql")
    settings.SPOOL_DIR = real_spools["notar"]
    c = Client()
    c.force_login(media_user("sipuser", flags=("can_cdr", "can_pcap")))
    cancel = _json(c.get(URL, {"action": "brief_data", "id": 7}))  # call #6
    assert [r["msg"].split("\n")[0].split(" ")[0] for r in cancel["results"]] == [
        "INVITE",
        "SIP/2.0",
        "SIP/2.0",
        "CANCEL",
        "SIP/2.0",
        "SIP/2.0",
        "ACK",
    ]
    assert cancel["results"][5]["msg"].startswith("SIP/2.0 487 Request Terminated")
    assert {r["callid"] for r in cancel["results"]} == {"b6e2a306d9f14c06@gamma.example.net"}
    busy = _json(c.get(URL, {"action": "brief_data", "id": 3}))  # call #5: 486 with a Reason
    assert 'Reason: Q.850;cause=17;text="User busy"' in busy["results"][3]["msg"]
    # call #1 (cdr 2): the diagram with its two hosts, arrows in order and the PCMA streams
    svg = c.get(URL, {"action": "getMSC", "id": 2, "format": "svg"}).content.decode()
    assert _svg_arrows(svg) == [
        ("127.0.0.11", "127.0.0.21", "INVITE (SDP)"),
        ("127.0.0.21", "127.0.0.11", "100 Trying"),
        ("127.0.0.21", "127.0.0.11", "180 Ringing"),
        ("127.0.0.21", "127.0.0.11", "200 OK (SDP)"),
        ("127.0.0.11", "127.0.0.21", "ACK"),
        ("127.0.0.11", "127.0.0.21", "BYE"),
        ("127.0.0.21", "127.0.0.11", "200 OK (BYE)"),
    ]
    rtp = _json(c.get(URL, {"action": "brief_data", "id": 2, "rtp": "1"}))["rtp_streams"]
    assert sorted((s["srcip"], s["codec"], s["packets"], s["lost"]) for s in rtp) == [
        ("127.0.0.11", "PCMA", 500, 0),
        ("127.0.0.21", "PCMA", 500, 0),
    ]
    lossy = _json(c.get(URL, {"action": "brief_data", "id": 11, "rtp": "1"}))["rtp_streams"]
    assert sorted((s["packets"], s["lost"]) for s in lossy) == [(574, 26), (600, 0)]


@pytest.mark.mysql
def test_it_serves_the_real_tar_spool_calls(sniffer_dump, real_spools, settings) -> None:
    sniffer_dump("db_live.sql")
    settings.SPOOL_DIR = real_spools["live"]
    c = Client()
    c.force_login(media_user("sipuser", flags=("can_cdr", "can_pcap")))
    for cdr_id, (call_id, _) in LIVE_CALLS.items():
        body = _json(c.get(URL, {"action": "brief_data", "id": cdr_id, "rtp": "1"}))
        assert body["total"] == 7 and {r["callid"] for r in body["results"]} == {call_id}
        assert [s["packets"] for s in body["rtp_streams"]] == [1500, 1500]
    png = c.get(URL, {"action": "getMSC", "id": 2, "format": "png"})
    assert png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    text = c.get(URL, {"action": "text", "id": 3}).content.decode()
    assert text.count("===== [") == 7 and "7a2b3c23f5e94c23@alpha.example.com" in text
