"""/api/v1/reports/: report definitions (visible to the caller, edited with can_reports_edit)
and /api/v1/reports/{id}/summary (JSON figures recomputed in SQL, or the PNG chart)."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from accounts.models import UserProfile
from cdr.reports.models import ReportDefinition
from tests.api.rest.support import TokenClient, problem, token_for
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report

pytestmark = pytest.mark.django_db
PERIOD = {"datetime_from": DAY, "datetime_to": DAY}


def client_of(name, *, admin=False, read_only=False, **flags) -> tuple[TokenClient, object]:
    User = get_user_model()
    if admin:
        user = User.objects.create_superuser(name, f"{name}@example.com", "pass-12345")
    else:
        user = User.objects.create_user(name, password="pass-12345")
        UserProfile.objects.create(user=user, **flags)
    return TokenClient(token_for(user, read_only=read_only)), user


def send(client, method, path, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def editor():
    return client_of("editor", can_reports_edit=True, can_cdr=True)


def test_an_editor_creates_a_report_that_everyone_can_run(editor):
    client, user = editor
    created = send(
        client,
        "post",
        "/api/v1/reports/",
        {
            "description": "Daily Summary",
            "filters": {"sip_response": "4xx", "connected": False},
            "metrics": ["hours", "top_callers"],
            "schedule": "daily",
            "recipients": ["noc@example.com", "Ops@Example.com"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner"] == user.pk and body["metrics"] == ["top_callers", "hours"]
    assert body["recipients"] == ["noc@example.com", "Ops@Example.com"]
    assert ReportDefinition.objects.get().filters == {"sip_response": "4xx", "connected": False}
    reader, _ = client_of("reader", can_cdr=True)
    assert [r["description"] for r in reader.get("/api/v1/reports/").json()] == ["Daily Summary"]


def test_it_refuses_creating_without_can_reports_edit():
    client, _ = client_of("reader", can_cdr=True)
    response = send(client, "post", "/api/v1/reports/", {"description": "Mine"})
    assert response.status_code == 403
    assert "can_reports_edit" in problem(response)["detail"]
    assert not ReportDefinition.objects.exists()


def test_a_read_only_token_cannot_create_reports():
    client, _ = client_of("editor", can_reports_edit=True, read_only=True)
    assert send(client, "post", "/api/v1/reports/", {"description": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"filters": {"date_from": "2026-01-01"}}, "filters", "the period is chosen"),
        ({"filters": {"caller_ip": "10.0.0.300"}}, "filters", "not an IP address"),
        ({"filters": {"colour": "red"}}, "filters", "unknown parameter 'colour'"),
        ({"metrics": ["pie"]}, "metrics", "not a valid choice"),
        ({"recipients": ["not-an-address"]}, "recipients", "is not an e-mail address"),
        ({"schedule": "weekly"}, "recipients", "needs at least one recipient"),
        ({"top_n": 0}, "top_n", ""),
        ({"description": "bad\x00name"}, "description", ""),
        ({"notes": "\ud800"}, "notes", "Surrogate"),
    ],
)
def test_a_bad_definition_is_a_400_naming_the_field(editor, data, field, text):
    client, _ = editor
    response = send(client, "post", "/api/v1/reports/", {"description": "R", **data})
    assert response.status_code == 400, response.content
    errors = problem(response)["errors"]
    assert field in errors and text in " ".join(errors[field])


def test_the_description_is_unique(editor):
    client, _ = editor
    assert send(client, "post", "/api/v1/reports/", {"description": "Daily"}).status_code == 201
    again = send(client, "post", "/api/v1/reports/", {"description": "Daily"})
    assert again.status_code == 400 and "description" in problem(again)["errors"]


def test_only_the_owner_or_an_admin_changes_or_deletes_a_report(editor):
    client, _ = editor
    report_id = send(client, "post", "/api/v1/reports/", {"description": "Daily"}).json()["id"]
    other, _ = client_of("other", can_reports_edit=True)
    path = f"/api/v1/reports/{report_id}/"
    assert send(other, "patch", path, {"top_n": 5}).status_code == 403
    assert other.delete(path).status_code == 403
    assert send(client, "patch", path, {"top_n": 5}).json()["top_n"] == 5
    admin, _ = client_of("root", admin=True)
    assert send(admin, "patch", path, {"shared": False}).json()["shared"] is False
    # now private: the other editor no longer sees it at all
    assert other.get(path).status_code == 404
    assert admin.delete(path).status_code == 204
    assert not ReportDefinition.objects.exists()


def test_a_private_report_is_listed_to_its_owner_and_admins_only(editor):
    client, user = editor
    ReportDefinition.objects.create(description="Shared")
    ReportDefinition.objects.create(description="Mine", shared=False, owner=user)
    reader, _ = client_of("reader", can_cdr=True)
    admin, _ = client_of("root", admin=True)
    names = {
        who: [r["description"] for r in c.get("/api/v1/reports/").json()]
        for who, c in (("owner", client), ("reader", reader), ("admin", admin))
    }
    assert names == {"owner": ["Mine", "Shared"], "reader": ["Shared"], "admin": ["Mine", "Shared"]}


def test_the_summary_answers_every_figure_like_direct_sql():
    seed_calls()
    report = ReportDefinition.objects.create(description="Daily", filters={"sensor": "1,2"})
    client, _ = client_of("reader", can_cdr=True)
    response = client.get(f"/api/v1/reports/{report.pk}/summary", PERIOD)
    assert response.status_code == 200, response.content
    body = response.json()
    expected = sql_report(where="id_sensor IN (1, 2)")
    for key in ("summary", "sip_responses", "top_callers", "top_called", "sensors", "hours"):
        assert body[key] == expected[key], key
    assert body["datetime_from"].startswith(f"{DAY}T00:00:00")
    assert body["report"]["name"] == "Daily"


def test_the_summary_is_a_png_with_format_png():
    seed_calls(n=20)
    report = ReportDefinition.objects.create(description="Daily")
    client, _ = client_of("reader", can_cdr=True)
    response = client.get(f"/api/v1/reports/{report.pk}/summary", {**PERIOD, "format": "png"})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size[0] == 1200
    by_accept = client.get(f"/api/v1/reports/{report.pk}/summary", PERIOD, HTTP_ACCEPT="image/png")
    assert by_accept["Content-Type"] == "image/png"


def test_running_a_report_needs_can_cdr_and_a_valid_period():
    report = ReportDefinition.objects.create(description="Daily")
    path = f"/api/v1/reports/{report.pk}/summary"
    no_cdr, _ = client_of("nobody", can_reports_edit=True)
    assert "can_cdr" in problem(no_cdr.get(path, PERIOD))["detail"]
    client, _ = client_of("reader", can_cdr=True)
    missing = client.get(path, {"datetime_from": DAY})
    assert missing.status_code == 400 and "datetime_to" in problem(missing)["errors"]
    reversed_ = client.get(path, {"datetime_from": DAY, "datetime_to": "2026-11-01"})
    assert "before" in problem(reversed_)["detail"]
    assert client.get("/api/v1/reports/999999/summary", PERIOD).status_code == 404
