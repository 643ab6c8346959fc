"""/api/v1/cdrs/: filters from the one declaration, cursor pages, CSV, detail, media, SIP history."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import dpkt
import numpy as np
import pytest
import soundfile

from cdr.models import CdrDtmf
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.media.test_media_support import dominant_freq, media_user, tone_spec, write_calls
from tests.factories import aware, custom_header_definition, make_call

pytestmark = pytest.mark.django_db
ALL = ("can_cdr", "can_pcap", "can_download_audio", "can_graphs", "can_activecalls")


@pytest.fixture
def client():
    return TokenClient(token_for(media_user("restuser", flags=ALL)))


@pytest.fixture
def many():
    """25 calls, one a minute; every 5th from +420…, the rest from 1001."""
    out = []
    for i in range(25):
        caller = f"+420601000{i:03d}" if i % 5 == 0 else "1001"
        out.append(make_call(f"2026-11-27 08:{i:02d}:00", caller=caller))
    return out


def ids_of(body: dict) -> list[int]:
    return [row["ID"] for row in body["results"]]


def test_it_lists_cdrs_newest_first_with_the_sniffers_column_names(client, many):
    body = client.get("/api/v1/cdrs/", {"date_from": "2026-11-27T00:00:00", "limit": 3}).json()
    assert ids_of(body) == [c.ID for c in reversed(many)][:3]
    first = body["results"][0]
    assert first["calldate"].startswith("2026-11-27T08:24:00")
    assert first["caller"] == "1001" and first["lastSIPresponseNum"] == 200
    assert first["a_codec"] == "G.711 alaw" or first.get("a_payload") is None


def test_walking_every_cursor_page_yields_each_cdr_exactly_once(client, many):
    seen, url, pages = [], "/api/v1/cdrs/?limit=4&date_from=2026-11-27", 0
    while url:
        body = client.get(url).json()
        seen += ids_of(body)
        url, pages = body["next"], pages + 1
    assert pages == 7
    assert seen == [c.ID for c in reversed(many)]


def test_cursor_pages_are_stable_when_new_calls_arrive(client, many):
    first = client.get("/api/v1/cdrs/", {"limit": 5, "date_from": "2026-11-27"}).json()
    make_call("2026-11-27 09:30:00")  # newer than everything: must not shift the next page
    second = client.get(first["next"]).json()
    assert ids_of(second) == [c.ID for c in reversed(many)][5:10]


def test_ascending_order_and_its_cursor(client, many):
    body = client.get(
        "/api/v1/cdrs/", {"limit": 10, "ordering": "calldate", "date_from": "2026-11-27"}
    ).json()
    assert ids_of(body) == [c.ID for c in many][:10]
    assert ids_of(client.get(body["next"]).json()) == [c.ID for c in many][10:20]


def test_filters_come_from_the_declaration_number_prefix_and_count(client, many):
    body = client.get(
        "/api/v1/cdrs/", {"caller": "+420%", "date_from": "2026-11-27", "count": "true"}
    ).json()
    assert ids_of(body) == [c.ID for i, c in reversed(list(enumerate(many))) if i % 5 == 0]
    assert body["count"] == 5


def test_a_custom_header_filter(client):
    custom_header_definition("X-Account-Code", 1, 1)
    keep = make_call("2026-11-27 10:00:00", dynamic_headers={(1, 1): "ACME-7"})
    make_call("2026-11-27 10:01:00", dynamic_headers={(1, 1): "OTHER"})
    body = client.get(
        "/api/v1/cdrs/", {"header.X-Account-Code": "ACME%", "date_from": "2026-11-27"}
    ).json()
    assert ids_of(body) == [keep.ID]
    assert body["results"][0]["custom_headers"]["X-Account-Code"] == "ACME-7"


def _definition_reads(queries) -> int:
    """SELECTs of cdr_custom_headers' rows (not the schema's introspection of the table)."""
    return sum(
        "cdr_custom_headers" in q["sql"]
        and q["sql"].lstrip().upper().startswith("SELECT")
        and "information_schema" not in q["sql"]
        for q in queries.captured_queries
    )


def test_a_list_reads_the_header_definitions_once_and_sees_a_new_one_next_time(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cdr.query import customheaders

    custom_header_definition("X-Account-Code", 1, 1)
    make_call("2026-11-27 10:00:00", dynamic_headers={(1, 1): "ACME-7", (1, 2): "t-1"})
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/cdrs/", {"date_from": "2026-11-27"}).json()
    assert _definition_reads(queries) == 1  # named and resolved from one read
    assert body["results"][0]["custom_headers"] == {"X-Account-Code": "ACME-7"}
    custom_header_definition("X-Tenant", 1, 2)  # between two requests
    body = client.get("/api/v1/cdrs/", {"date_from": "2026-11-27"}).json()
    assert body["results"][0]["custom_headers"] == {"X-Account-Code": "ACME-7", "X-Tenant": "t-1"}
    # outside a request every call reads the table
    with CaptureQueriesContext(connection) as queries:
        customheaders.header_names()
        customheaders.header_names()
    assert _definition_reads(queries) == 2


def test_a_definition_saved_during_a_request_is_read_again():
    from cdr.query import customheaders

    customheaders.begin_request()
    try:
        assert customheaders.resolve_custom_header("X-Late") is None
        custom_header_definition("X-Late", 1, 3)
        assert customheaders.resolve_custom_header("X-Late") is not None
    finally:
        customheaders.end_request()


@pytest.mark.parametrize(
    "params, names",
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"limit": "0"}, "limit"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"ordering": "caller; DROP TABLE cdr"}, "ordering"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"callerr": "1001"}, "unknown parameter 'callerr'"),
        ({"caller_ip": "10.0.0.300"}, "caller_ip"),
        ({"mos_f1_max": "7"}, "mos_f1_max"),
        ({"sensor": "1e9"}, "sensor"),
    ],
)
def test_bad_parameters_are_400_problems_naming_the_parameter(client, many, params, names):
    response = client.get("/api/v1/cdrs/", params)
    assert response.status_code == 400
    assert names in problem(response)["detail"]


def test_csv_export_streams_every_matching_cdr(client, many):
    response = client.get("/api/v1/cdrs/", {"date_from": "2026-11-27", "format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["ID"]) for r in rows] == [c.ID for c in reversed(many)]
    by_accept = client.get("/api/v1/cdrs/", {"caller": "+420%"}, HTTP_ACCEPT="text/csv")
    assert (
        len(list(csv.DictReader(io.StringIO(b"".join(by_accept.streaming_content).decode())))) == 5
    )


def test_a_user_without_can_cdr_is_refused_with_403():
    client = TokenClient(token_for(media_user("nocdr", flags=("can_pcap",))))
    response = client.get("/api/v1/cdrs/")
    assert response.status_code == 403
    assert "can_cdr" in problem(response)["detail"]


# --- one call in full, its media and SIP history (real generated pcaps and audio) ------------

T0 = dt.datetime(2026, 11, 27, 11, 0, 0)


@pytest.fixture
def call(tmp_path, settings):
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_TMP_DIR = str(tmp_path)
    (made,) = write_calls(settings.SPOOL_DIR, [tone_spec("rest@demo", T0)], wav=False)
    CdrDtmf.objects.create(cdr_id=made.cdr_id, calldate=aware(T0), dtmf="5", type=2, firsttime=1.5)
    return made


def test_detail_has_rtp_streams_dtmf_and_legs(client, call):
    body = client.get(f"/api/v1/cdrs/{call.cdr_id}/").json()
    assert body["ID"] == call.cdr_id and body["fbasename"] == "rest@demo"
    assert len(body["rtp"]) == 2
    assert {s["codec"] for s in body["rtp"]} == {"G.711 ulaw"}
    assert all(s["received"] > 100 for s in body["rtp"])
    assert body["dtmf"] == [
        {"time_s": 1.5, "digit": "5", "kind": "RFC 2833", "src": None, "dst": None}
    ]
    assert body["legs"] == []


def test_detail_of_a_missing_cdr_is_404(client):
    response = client.get("/api/v1/cdrs/999999/")
    assert response.status_code == 404
    assert problem(response)["title"] == "Not Found"


def test_pcap_download_holds_the_calls_sip_and_rtp(client, call):
    response = client.get(f"/api/v1/cdrs/{call.cdr_id}/pcap")
    assert response["Content-Type"] == "application/vnd.tcpdump.pcap"
    packets = list(dpkt.pcap.Reader(io.BytesIO(b"".join(response.streaming_content))))
    udp = [dpkt.ethernet.Ethernet(buf).data.data for _, buf in packets]
    assert any(p.data.startswith(b"INVITE ") for p in udp)
    assert sum(1 for p in udp if p.dport in (11000, 21000)) > 300  # RTP both ways


def test_recording_is_decoded_audio_with_the_callers_tone_and_supports_range(client, call):
    response = client.get(f"/api/v1/cdrs/{call.cdr_id}/recording")
    data = b"".join(response.streaming_content)
    audio, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert rate == 8000 and audio.ndim == 2
    talking = audio[int(1.5 * rate) : int(4 * rate)]
    assert abs(dominant_freq(talking[:, 0].astype(np.float64)) - 1000) < 20
    part = client.get(f"/api/v1/cdrs/{call.cdr_id}/recording", HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and len(b"".join(part.streaming_content)) == 100


def test_sip_history_as_json_text_and_ladder(client, call):
    body = client.get(f"/api/v1/cdrs/{call.cdr_id}/sip-history").json()
    methods = [m["method"] for m in body["messages"]]
    assert methods[0] == "INVITE" and "BYE" in methods
    assert "Call-ID: rest@demo" in "\n".join(f"{n}: {v}" for n, v in body["messages"][0]["headers"])
    text = client.get(
        f"/api/v1/cdrs/{call.cdr_id}/sip-history", {"format": "text"}
    ).content.decode()
    assert "INVITE sip:" in text and "===== RTP streams" in text
    svg = client.get(f"/api/v1/cdrs/{call.cdr_id}/sip-history", {"format": "svg"})
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content


def test_audio_graph_is_a_png(client, call):
    response = client.get(f"/api/v1/cdrs/{call.cdr_id}/audiograph", {"type": "P"})
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_media_of_a_call_outside_the_scope_is_404(call):
    other = TokenClient(token_for(media_user("s9", flags=ALL, enable_sensors="9")))
    for path in ("", "pcap", "recording", "sip-history"):
        response = other.get(f"/api/v1/cdrs/{call.cdr_id}/{path}")
        assert response.status_code == 404, path
        problem(response)


def test_downloads_are_audited_with_the_rest_face(client, call):
    from accounts.models import AuditEvent

    b"".join(client.get(f"/api/v1/cdrs/{call.cdr_id}/pcap").streaming_content)
    event = AuditEvent.objects.get(action="pcap_download")
    assert (event.face, event.object_id, event.username) == ("rest", str(call.cdr_id), "restuser")
    assert json.loads(json.dumps(event.details)) == {}
