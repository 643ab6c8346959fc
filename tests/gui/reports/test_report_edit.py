"""Defining, editing and deleting reports in the GUI: only with can_reports_edit (controls
hidden, URLs 403), only one's own reports (admins: any), filters entered like the CDR list's
and checked by cdr.reports.spec, with clear errors next to the input they concern."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent
from accounts.permissions import effective
from cdr.reports.models import ReportDefinition
from cdr.reports.service import run
from cdr.reports.spec import SECTIONS
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.gui.reports.support import field_error, report, text_of
from tests.gui.support import gui_user, signed_in

pytestmark = pytest.mark.django_db
EDITOR = ("can_cdr", "can_reports_edit")


def _form(**overrides) -> dict:
    data = {
        "description": "Chyby Praha – 東京 🚨",
        "notes": "Neúspěšné hovory\nz Prahy",
        "caller": "+420%, 1001",
        "sip_response": "4xx,5xx",
        "connected": "",
        "metrics": ["sip_responses", "top_callers", "hours"],
        "top_n": "7",
        "shared": "on",
        "schedule": "none",
        "recipients": "",
        "header_name": ["X-Account-Code", ""],
        "header_value": ["ACME%", ""],
    }
    data.update(overrides)
    return data


def test_an_editor_creates_a_report_that_runs_with_its_filters():
    seed_calls()
    client = signed_in("editor", EDITOR)
    page = client.get("/reports/new/").content.decode()
    # filter inputs named like the CDR list's (REST/GUI names of cdr.query.filterspec)
    for name in ("caller", "called", "sip_response", "caller_ip", "sensor", "mos_f1_max"):
        assert f'name="{name}"' in page
    assert 'name="date_from"' not in page  # the period is chosen per run
    response = client.post("/reports/new/", _form(**{"header_name": [], "header_value": []}))
    stored = ReportDefinition.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{stored.pk}/"
    assert stored.description == "Chyby Praha – 東京 🚨"
    assert stored.filters == {"caller": "+420%, 1001", "sip_response": "4xx,5xx"}
    assert stored.sections == ["sip_responses", "top_callers", "hours"]
    assert stored.top_n == 7 and stored.shared and stored.owner.username == "editor"
    body = client.get(f"/reports/{stored.pk}/", {"from": DAY, "to": DAY}).content.decode()
    sql = sql_report(
        where="(caller LIKE %s OR caller = %s) AND lastSIPresponseNum >= 400",
        params=["+420%", "1001"],
    )
    assert 0 < sql["summary"]["calls"]
    assert text_of(body, "summary-calls") == str(sql["summary"]["calls"])
    assert 'id="table-top_called"' not in body  # a section not selected


def test_filters_of_every_kind_are_stored_as_the_rest_api_stores_them():
    client = signed_in("kinds", EDITOR)
    client.post(
        "/reports/new/",
        _form(
            description="Kinds",
            connected="true",
            numbers_or="false",
            duration_min="2.5",
            mos_f1_max="3",
            call_id="a@b\nc,d@e",
            caller="",
            sip_response="",
        ),
    )
    stored = ReportDefinition.objects.get(description="Kinds")
    assert stored.filters == {
        "connected": True,
        "numbers_or": False,
        "duration_min": 2.5,
        "mos_f1_max": 3,
        "call_id": ["a@b", "c,d@e"],
        "header.X-Account-Code": "ACME%",
    }
    page = client.get(f"/reports/{stored.pk}/edit/").content.decode()
    assert '<option value="true" selected>' in page and 'value="2.5"' in page
    assert "a@b\nc,d@e</textarea>" in page and 'value="X-Account-Code"' in page
    assert "<details open" in page  # a quality threshold is set: its group is open


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"description": "  "}, "description", "a name is required"),
        ({"description": ""}, "description", "a name is required"),
        ({"caller_ip": "10.0.0.300"}, "caller_ip", "'10.0.0.300' is not an IP address"),
        ({"sip_response": "abc"}, "sip_response", "expected SIP codes (486) or classes (4xx)"),
        ({"mos_f1_max": "7"}, "mos_f1_max", "expected a number from 0 to 5"),
        ({"connected": "perhaps"}, "connected", "expected true or false"),
        ({"top_n": "0"}, "top_n", "a whole number from 1 to 100"),
        ({"schedule": "daily"}, "recipients", "a scheduled report needs at least one recipient"),
        ({"recipients": "noc@example.com, ne-adresa"}, "recipients", "is not an e-mail address"),
        ({"header_value": ["", ""]}, "headers", "enter a value pattern"),
        ({"schedule": "hourly"}, "schedule", "not a valid choice"),
    ],
)
def test_an_invalid_definition_is_shown_again_with_the_error_at_its_input(
    overrides, field, message
):
    client = signed_in("clumsy", EDITOR)
    response = client.post("/reports/new/", _form(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in (field_error(body, field) or "")
    assert 'id="form-errors"' in body and 'href="#' in body
    assert ReportDefinition.objects.count() == 0
    # what was typed is still there
    assert "Chyby Praha – 東京 🚨" in body or overrides.get("description") is not None


def test_a_duplicate_name_is_refused_on_the_name():
    report("Denní")
    client = signed_in("dup", EDITOR)
    body = client.post("/reports/new/", _form(description="Denní")).content.decode()
    assert "already exists" in field_error(body, "description")


def test_without_can_reports_edit_the_controls_are_hidden_and_the_urls_refuse():
    owner = gui_user("boss", EDITOR)
    stored = report("Shared", owner=owner)
    client = signed_in("reader", ("can_cdr",))
    listing = client.get("/reports/").content.decode()
    view = client.get(f"/reports/{stored.pk}/").content.decode()
    for body in (listing, view):
        assert "/reports/new/" not in body and f"/reports/{stored.pk}/edit/" not in body
        assert f"/reports/{stored.pk}/delete/" not in body
    for url in ("/reports/new/", f"/reports/{stored.pk}/edit/", f"/reports/{stored.pk}/delete/"):
        response = client.get(url)
        assert response.status_code == 403 and b"can_reports_edit" in response.content
    assert client.post("/reports/new/", _form()).status_code == 403
    assert client.post(f"/reports/{stored.pk}/delete/").status_code == 403
    assert ReportDefinition.objects.filter(pk=stored.pk).exists()
    assert AuditEvent.objects.filter(action="permission_denied", username="reader").count() >= 5


def test_an_editor_changes_only_their_own_reports_and_an_admin_any():
    owner = gui_user("owner", EDITOR)
    theirs = report("Owner's", owner=owner, filters={"caller": "1001"})
    client = signed_in("colleague", EDITOR)
    mine = report("Mine", owner=get_user_model().objects.get(username="colleague"))
    body = client.get("/reports/").content.decode()
    assert f"/reports/{mine.pk}/edit/" in body and f"/reports/{theirs.pk}/edit/" not in body
    assert client.get(f"/reports/{theirs.pk}/edit/").status_code == 403
    posted = client.post(f"/reports/{theirs.pk}/edit/", _form(description="Hijacked"))
    assert posted.status_code == 403
    assert ReportDefinition.objects.get(pk=theirs.pk).description == "Owner's"
    admin = get_user_model().objects.create_superuser("root", "r@x", "root-pass-123")
    client.force_login(admin)
    response = client.post(f"/reports/{theirs.pk}/edit/", _form(description="Fixed by admin"))
    assert response.status_code == 302
    changed = ReportDefinition.objects.get(pk=theirs.pk)
    assert changed.description == "Fixed by admin" and changed.owner == owner  # owner kept


def test_a_failed_edit_leaves_the_stored_report_unchanged():
    client = signed_in("careful", EDITOR)
    user = get_user_model().objects.get(username="careful")
    stored = report("Stable", owner=user, filters={"caller": "1001"}, top_n=3)
    response = client.post(
        f"/reports/{stored.pk}/edit/", _form(description="Changed", caller_ip="nope")
    )
    assert response.status_code == 400
    again = ReportDefinition.objects.get(pk=stored.pk)
    assert (again.description, again.filters, again.top_n) == ("Stable", {"caller": "1001"}, 3)


def test_deleting_asks_first_then_removes_the_report():
    client = signed_in("cleaner", EDITOR)
    user = get_user_model().objects.get(username="cleaner")
    stored = report("Old 🗑", owner=user, schedule="daily", recipients="noc@example.com")
    page = client.get(f"/reports/{stored.pk}/delete/")
    assert page.status_code == 200 and b"scheduled e-mail" in page.content
    assert ReportDefinition.objects.filter(pk=stored.pk).exists()  # a GET deletes nothing
    response = client.post(f"/reports/{stored.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/reports/"
    assert "deleted" in response.content.decode()
    assert not ReportDefinition.objects.filter(pk=stored.pk).exists()


def test_an_edited_report_runs_with_the_new_definition():
    seed_calls()
    client = signed_in("tuner", EDITOR)
    user = get_user_model().objects.get(username="tuner")
    stored = report("Tuned", owner=user)
    edited = _form(description="Tuned", caller="", sip_response="", sensor="1")
    edited.update(metrics=list(SECTIONS), header_name=[], header_value=[])
    assert client.post(f"/reports/{stored.pk}/edit/", edited).status_code == 302
    stored.refresh_from_db()
    assert stored.filters == {"sensor": "1"}
    response = client.get(f"/reports/{stored.pk}/", {"from": DAY, "to": DAY})
    expected = run(stored, response.context["chosen"].period, effective(user).scope)
    assert response.context["data"] == expected
    assert expected["summary"]["calls"] == sql_report(where="id_sensor = 1")["summary"]["calls"]
