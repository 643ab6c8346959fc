"""The column chooser: the choice is in the URL, remembered per user, custom headers included,
and cells show codec names, SIP response texts, MOS/loss cues with their numbers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserSetting
from tests.gui.cdrs.listsupport import ALL_DAY, world
from tests.gui.support import signed_in

__all__ = ["world"]


def heads(response) -> list[str]:
    table = response.content.decode().split('id="cdr-table"', 1)[1].split("</thead>", 1)[0]
    return [
        re.sub(r"<[^>]+>|[▲▼]", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table)
    ]


def row(response, cdr_id: int) -> str:
    body = response.content.decode()
    return body.split(f'<tr data-id="{cdr_id}">', 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def client(world):
    return signed_in("chooser", ("can_cdr",))


def test_the_default_columns_show_what_operators_need(client, world):
    response = client.get("/cdrs/", ALL_DAY)
    assert heads(response) == [
        "Time", "Caller", "Called", "Duration", "Connected", "Last SIP response", "Codecs",
        "MOS", "Loss", "Sensor", "Caller IP", "Called IP",
    ]  # fmt: skip
    ok = row(response, world["ok"])
    assert f'href="/calls/{world["ok"]}/"' in ok  # the row opens the call
    assert "2026-11-26 08:00:00" in ok and "+420601111111" in ok and "@žluťoučký.cz" in ok
    assert "1:05" in ok and "1:00" in ok  # duration, connected (m:ss)
    assert "G.711 alaw" in ok  # the codec by name, not number 8
    assert '<span class="sip-ok">200 OK</span>' in ok
    assert '<span class="badge q-good">4.3</span>' in ok  # MOS: colour AND number
    assert '<span class="badge q-good">0.2 %</span>' in ok
    assert "Praha-1" in ok and "10.0.0.1:5060" in ok
    poor = row(response, world["poor"])
    assert '<span class="badge q-bad">2.8</span>' in poor and "q-bad" in poor and "12.5 %" in poor
    assert "G.722" in poor and "5:00" in poor
    busy = row(response, world["busy"])
    assert '<span class="sip-warn">486 Busy Here</span>' in busy and "–" in busy
    fail = row(response, world["fail"])
    assert '<span class="sip-fail">503 Service Unavailable</span>' in fail


def test_a_chosen_set_is_used_and_remembered_for_the_next_visit(client, world):
    chosen = {**ALL_DAY, "columns": ["time", "caller", "header.X-Account", "call_id", "sip"]}
    response = client.get("/cdrs/", chosen)
    assert heads(response) == ["Time", "Caller", "Last SIP response", "Call-ID", "X-Account"]
    assert "ACME-001" in row(response, world["ok"])
    assert "late,1@example.com" in row(response, world["late"])
    user = get_user_model().objects.get(username="chooser")
    stored = UserSetting.objects.get(user=user, key="cdr_columns").value
    assert stored == ["time", "caller", "sip", "call_id", "header.X-Account"]
    # the next visit without columns= shows the remembered choice
    assert heads(client.get("/cdrs/", ALL_DAY)) == heads(response)
    # the chooser in the form shows it checked, and another user is not affected
    body = client.get("/cdrs/", ALL_DAY).content.decode()
    assert re.search(r'value="header.X-Account" checked', body)
    assert not re.search(r'value="duration" checked', body)
    other = signed_in("other", ("can_cdr",))
    assert "Duration" in heads(other.get("/cdrs/", ALL_DAY))


def test_a_comma_list_works_and_the_time_column_is_always_shown(client):
    response = client.get("/cdrs/", {**ALL_DAY, "columns": "caller,duration,nonsense"})
    assert heads(response) == ["Time", "Caller", "Duration"]


def test_a_hidden_header_is_neither_offered_nor_shown(world):
    client = signed_in("no-account", ("can_cdr",), custom_headers_cdr="X-Ticket")
    response = client.get(
        "/cdrs/", {**ALL_DAY, "columns": "caller,header.X-Account,header.X-Ticket"}
    )
    assert heads(response) == ["Time", "Caller", "X-Ticket"]
    body = response.content.decode()
    assert 'name="header.X-Account"' not in body and 'value="header.X-Account"' not in body
    assert "ACME-001" not in body and "OTHER-9" not in body and "T-1" in body


def test_the_pcap_column_is_offered_only_with_can_pcap(world):
    without = signed_in("plain", ("can_cdr",))
    body = without.get("/cdrs/", {**ALL_DAY, "columns": "caller,pcap"}).content.decode()
    assert 'value="pcap"' not in body and "/call.pcap" not in body
    with_pcap = signed_in("capper", ("can_cdr", "can_pcap"))
    response = with_pcap.get("/cdrs/", {**ALL_DAY, "columns": "caller,pcap"})
    assert heads(response) == ["Time", "Caller", "PCAP"]
    assert f'href="/calls/{world["ok"]}/call.pcap"' in row(response, world["ok"])
