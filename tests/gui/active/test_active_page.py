"""/active/: the live table from simulated sensors (rows, user's zone, down sensor named,
scope), pause/unpause on the simulator with the audit trail, and what a user without the
rights neither sees nor may do."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEvent
from accounts.preferences import save_preferences
from tests.gui.support import PASSWORD, gui_user, signed_in

OPERATOR = ("can_activecalls",)
LISTENER = ("can_activecalls", "can_listen_active_call")


def row_html(body: str, sensor_id: int, ref: str) -> str:
    match = re.search(rf'<tr[^>]*id="call-{sensor_id}-{ref}".*?</tr>', body, re.S)
    assert match, f"no row for {ref} on sensor {sensor_id}"
    return match.group(0)


def section(body: str, sensor_id: int) -> str:
    match = re.search(rf'<section[^>]*id="sensor-{sensor_id}".*?</section>', body, re.S)
    assert match, f"no section for sensor {sensor_id}"
    return match.group(0)


def test_it_shows_every_call_of_every_visible_sensor(sensors):
    name_call = sensors.one.pool.calls[0]
    name_call.callername = "Jiří Dvořák 日本 📞"
    name_call.caller = "+420 601 <b>"
    client = signed_in("operator", OPERATOR)
    response = client.get("/active/")
    assert response.status_code == 200
    body = response.content.decode()
    for sensor_id, sim in ((1, sensors.one), (2, sensors.two)):
        part = section(body, sensor_id)
        for call in sim.pool.calls:
            row = row_html(part, sensor_id, call.ref)
            assert call.called in row
            assert call.callerip and (
                isinstance(call.callerip, str) or row.count(".") >= 3
            )  # dotted IPv4 or IPv6 text
    row = row_html(body, 1, name_call.ref)
    assert "Jiří Dvořák 日本 📞" in row
    assert "+420 601 &lt;b&gt;" in row and "<b>" not in row  # caller text is escaped
    assert "5 active calls on 3 sensors" in body
    assert 'href="/active/"' in body and "Active calls" in body  # the navigation entry


def test_a_row_has_codec_names_quality_cues_state_and_start_in_the_users_zone(sensors):
    call = sensors.one.pool.calls[0]
    call.codec, call.mos, call.loss = 8, 33, 0.03
    user = gui_user("tokyo", OPERATOR)
    save_preferences(user, time_zone="Asia/Tokyo", date_format="d.m.Y H:i:s")
    client = Client()
    client.force_login(user)
    row = row_html(client.get("/active/").content.decode(), 1, call.ref)
    started = dt.datetime.fromtimestamp(int(call.start), dt.UTC).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    assert started.strftime("%d.%m.%Y %H:%M:%S") in row
    assert "G.711 alaw" in row
    assert re.search(r'class="badge q-(poor|bad)">3\.\d<', row)  # MOS 3.3 ± the wobble
    assert 'class="badge q-fair">3.0 %<' in row  # 3 % loss
    assert "Talking" in row and "sip-ok" in row
    minutes, seconds = re.search(r'<td class="num">(\d+):(\d\d)</td>', row).groups()
    assert abs(int(minutes) * 60 + int(seconds) - (time.time() - call.start)) < 3  # so far


def test_a_sensor_that_does_not_answer_is_named_with_the_reason(sensors):
    body = signed_in("operator", OPERATOR).get("/active/").content.decode()
    down = section(body, 3)
    assert "sensor-down" in down and ">down<" in down
    assert "ostrava" in down and "does not answer" in down and "cannot connect" in down
    assert ">up<" in section(body, 1)


def test_a_user_sees_only_the_sensors_and_calls_of_their_scope(sensors):
    body = signed_in("praha-only", OPERATOR, enable_sensors="1").get("/active/").content.decode()
    assert 'id="sensor-1"' in body and 'id="sensor-2"' not in body and 'id="sensor-3"' not in body
    mine, other = sensors.one.pool.calls[0], sensors.one.pool.calls[1]
    other.caller, other.called = "+81312345678", "+81398765432"
    body = signed_in("numbers", OPERATOR, number=mine.caller).get("/active/").content.decode()
    assert f"call-1-{mine.ref}" in body and f"call-1-{other.ref}" not in body


def test_the_table_fragment_is_what_the_page_refreshes(sensors):
    client = signed_in("operator", OPERATOR)
    response = client.get("/active/table/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "<html" not in body and 'id="sensor-1"' in body
    page = client.get("/active/").content.decode()
    assert 'data-table-url="/active/table/"' in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>: without JavaScript
    assert "/static/gui/active.js" in page


def test_pause_and_resume_change_the_call_on_the_sensor_and_are_audited(sensors):
    call = sensors.one.pool.calls[1]
    client = signed_in("operator", OPERATOR)
    response = client.post(f"/active/1/{call.ref}/pause/", follow=True)
    assert response.status_code == 200 and call.paused is True
    body = response.content.decode()
    assert f"Call {call.ref} on sensor 1 (praha-edge) paused" in body
    row = row_html(body, 1, call.ref)
    assert 'data-paused="true"' in row and ">paused<" in row and ">Resume<" in row
    assert f'action="/active/1/{call.ref}/unpause/"' in row
    event = AuditEvent.objects.get(action=AuditEvent.Action.CALL_PAUSE)
    assert (event.face, event.object_id, event.success, event.username) == (
        "gui",
        call.ref,
        True,
        "operator",
    )
    assert event.details["command"] == "pausecall" and event.details["sensor"] == 1

    response = client.post(
        f"/active/1/{call.ref}/unpause/", headers={"X-Requested-With": "fetch"}
    )  # what active.js sends: a JSON answer instead of a redirect
    assert response.status_code == 200 and call.paused is False
    assert response.json() == {
        "ok": True,
        "message": f"Call {call.ref} on sensor 1 (praha-edge) resumed: its audio is recorded "
        "again.",
    }
    row = row_html(client.get("/active/table/").content.decode(), 1, call.ref)
    assert 'data-paused="false"' in row and ">Pause<" in row
    assert AuditEvent.objects.filter(action="call_pause", success=True).count() == 2


def test_a_pause_through_api_php_shows_as_paused_but_not_for_a_later_call_on_the_same_address(
    sensors,
):
    call = sensors.two.pool.calls[0]
    gui_user("scripted", OPERATOR)
    answer = Client().get(
        "/php/api.php",
        {
            "task": "handleActiveCall",
            "user": "scripted",
            "password": PASSWORD,
            "params": json.dumps({"sensorId": "2", "command": "pausecall", "callRef": call.ref}),
        },
    )
    assert answer.json()["success"] is True and call.paused is True
    client = signed_in("operator", OPERATOR)
    assert 'data-paused="true"' in row_html(client.get("/active/").content.decode(), 2, call.ref)
    # A call reference is a memory address: a pause from before this call began is another
    # call's.
    AuditEvent.objects.filter(action="call_pause").update(
        time=dt.datetime.fromtimestamp(call.start - 60, dt.UTC)
    )
    assert 'data-paused="false"' in row_html(client.get("/active/").content.decode(), 2, call.ref)


def test_pausing_a_call_that_ended_says_so(sensors):
    client = signed_in("operator", OPERATOR)
    response = client.post("/active/1/0x7f0000000001/pause/", follow=True)
    assert "call 0x7f0000000001 is not active on sensor 1 (it may have ended)" in (
        response.content.decode()
    )
    event = AuditEvent.objects.get(action="call_pause")
    assert event.success is False and event.face == "gui"
    response = client.post("/active/3/0x7f0000000001/pause/", headers={"X-Requested-With": "fetch"})
    assert response.status_code == 502 and "cannot connect" in response.json()["message"]


def test_a_malformed_call_reference_is_a_clear_400(sensors):
    client = signed_in("operator", OPERATOR)
    response = client.post("/active/1/7f2b-oops/pause/")
    assert response.status_code == 400
    assert "is not valid: expected 0x followed by 1-16 hex digits" in response.content.decode()
    assert not AuditEvent.objects.filter(action="call_pause").exists()


def test_a_sensor_outside_the_scope_cannot_be_paused(sensors):
    call = sensors.two.pool.calls[0]
    client = signed_in("praha-only", OPERATOR, enable_sensors="1")
    response = client.post(f"/active/2/{call.ref}/pause/", follow=True)
    assert "no such sensor: 2" in response.content.decode() and call.paused is False


def test_without_can_activecalls_the_page_and_its_actions_refuse(sensors):
    call = sensors.one.pool.calls[0]
    client = signed_in("cdr-only", ("can_cdr",))
    for response in (
        client.get("/active/"),
        client.get("/active/table/"),
        client.post(f"/active/1/{call.ref}/pause/"),
        client.post(f"/active/1/{call.ref}/unpause/"),
    ):
        assert response.status_code == 403
        assert b"can_activecalls" in response.content
    assert call.paused is False
    assert 'href="/active/"' not in client.get("/settings/").content.decode()
    assert sensors.one.commands == []  # no sensor was asked anything


def test_listen_controls_are_only_there_for_can_listen_active_call(sensors):
    ref = sensors.one.pool.calls[0].ref
    without = signed_in("no-ears", OPERATOR).get("/active/").content.decode()
    assert "data-listen-url" not in without and 'id="listen-panel"' not in without
    with_ears = signed_in("ears", LISTENER).get("/active/").content.decode()
    assert f'data-listen-url="/active/1/{ref}/listen/"' in with_ears
    assert 'id="listen-panel"' in with_ears
    # Hidden until the script shows it: live audio needs JavaScript.
    assert re.search(r'<button[^>]*class="btn btn-primary listen" hidden data-needs-js', with_ears)


def test_anonymous_visitors_are_sent_to_sign_in_and_get_requests_cannot_pause(sensors):
    call = sensors.one.pool.calls[0]
    response = Client().get("/active/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/active/")
    client = signed_in("operator", OPERATOR)
    assert client.get(f"/active/1/{call.ref}/pause/").status_code == 405
    assert call.paused is False


def test_pause_needs_the_csrf_token(sensors):
    call = sensors.one.pool.calls[0]
    user = get_user_model().objects.get(pk=gui_user("csrf", OPERATOR).pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/active/1/{call.ref}/pause/").status_code == 403
    assert call.paused is False


@pytest.mark.django_db
def test_an_unusable_manager_key_is_shown_instead_of_the_table(conf):
    conf.MANAGER_AES = "auto"
    conf.MANAGER_AES_KEY = "bm90LWEta2V5"
    conf.MANAGER_AES_IV = "bm90LWFuLWl2"
    body = signed_in("operator", OPERATOR).get("/active/").content.decode()
    assert "No sensor could be asked: VMGUI_MANAGER_AES_KEY/IV cannot be used" in body
