"""The report admin: validated definitions, can_reports_edit guards edits (admins always),
users who may only run reports see them, and the PNG preview."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserProfile
from cdr.reports.models import ReportDefinition

ADD = "/admin/reports/reportdefinition/add/"
FORM = {
    "description": "Daily Summary",
    "notes": "",
    "filters": '{"caller": "+420%"}',
    "metrics": ["hours", "sensors"],
    "top_n": "10",
    "shared": "on",
    "schedule": "none",
    "recipients": "",
}


def staff(name, *, superuser=False, **flags) -> Client:
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(name, f"{name}@example.com", "pass-12345")
    else:
        user = User.objects.create_user(name, password="pass-12345", is_staff=True)
        UserProfile.objects.create(user=user, **flags)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_an_admin_defines_a_report_that_becomes_its_own():
    client = staff("root", superuser=True)
    response = client.post(ADD, {**FORM, "owner": ""})
    assert response.status_code == 302, response.content[:2000]
    report = ReportDefinition.objects.get()
    assert report.filters == {"caller": "+420%"} and report.metrics == ["sensors", "hours"]
    assert report.owner.username == "root"


@pytest.mark.django_db
def test_it_refuses_a_definition_with_a_bad_filter_or_a_schedule_without_recipients():
    client = staff("root", superuser=True)
    bad = client.post(ADD, {**FORM, "filters": '{"caller_ip": "10.0.0.300"}'})
    assert bad.status_code == 200 and b"is not an IP address or network" in bad.content
    unsent = client.post(ADD, {**FORM, "schedule": "daily"})
    assert b"a scheduled report needs at least one recipient" in unsent.content
    assert not ReportDefinition.objects.exists()


@pytest.mark.django_db
def test_can_reports_edit_guards_changes_and_readers_only_see_the_list():
    editor = staff("editor", can_reports_edit=True, can_cdr=True)
    assert editor.post(ADD, FORM).status_code == 302
    report = ReportDefinition.objects.get()
    assert report.owner.username == "editor"
    reader = staff("reader", can_cdr=True)
    assert reader.get("/admin/reports/reportdefinition/").status_code == 200
    assert reader.get(ADD).status_code == 403
    change = f"/admin/reports/reportdefinition/{report.pk}/change/"
    reader.post(change, {**FORM, "description": "Hijacked"})
    report.refresh_from_db()
    assert report.description == "Daily Summary"
    other_editor = staff("other", can_reports_edit=True)
    other_editor.post(change, {**FORM, "description": "Hijacked"})
    report.refresh_from_db()
    assert report.description == "Daily Summary"
    assert staff("nobody").get("/admin/reports/reportdefinition/").status_code == 403


@pytest.mark.django_db
def test_it_previews_the_reports_png():
    client = staff("root", superuser=True)
    report = ReportDefinition.objects.create(description="Daily Summary")
    response = client.get(f"/admin/reports/reportdefinition/{report.pk}/preview/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
