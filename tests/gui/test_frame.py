"""The GUI frame: sign-in first, navigation by permission flag, refusals, the start page, and
the user's time zone and date format (accounts.preferences) on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEvent
from accounts.preferences import preferences_of
from tests.gui.support import signed_in


@pytest.mark.django_db
def test_it_sends_an_anonymous_visitor_to_the_login_page():
    response = Client().get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/settings/")


@pytest.mark.django_db
def test_it_sends_a_signed_in_user_from_the_start_page_into_the_gui():
    client = signed_in("starter", ("can_cdr",))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/start/"


@pytest.mark.django_db
def test_it_shows_the_landing_page_with_a_sign_in_link_to_anonymous_visitors():
    response = Client().get("/")
    assert response.status_code == 200
    assert b'id="sign-in"' in response.content and b"/login/" in response.content


@pytest.mark.django_db
def test_it_lists_only_the_pages_the_user_may_open(settings):
    settings.BRAND_NAME = "Acme Calls"
    client = signed_in("audit-less", ("can_cdr",))
    body = client.get("/settings/").content.decode()
    assert "Acme Calls" in body
    assert "Audit log" not in body  # can_audit missing: the link is not shown
    admin = get_user_model().objects.create_superuser("navadmin", "n@x", "nav-pass-123")
    client.force_login(admin)
    body = client.get("/settings/").content.decode()
    assert "Audit log" in body and 'href="/admin/"' in body  # gui:audit (gui.reports)


@pytest.mark.django_db
def test_it_stores_the_time_zone_and_date_format_and_shows_times_in_them():
    client = signed_in("zoned", ("can_cdr",))
    response = client.post(
        "/settings/", {"time_zone": "Asia/Tokyo", "date_format": "d.m.Y H:i:s"}, follow=True
    )
    assert response.status_code == 200
    assert b"Preferences saved." in response.content
    user = get_user_model().objects.get(username="zoned")
    prefs = preferences_of(user)
    assert (prefs.time_zone, prefs.date_format) == ("Asia/Tokyo", "d.m.Y H:i:s")
    now_shown = response.content.decode().split('id="now">', 1)[1].split("<", 1)[0]
    shown = dt.datetime.strptime(now_shown, "%d.%m.%Y %H:%M:%S")
    tokyo_now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)
    assert abs((tokyo_now.replace(tzinfo=None) - shown).total_seconds()) < 120
    assert b"Asia/Tokyo" in response.content


@pytest.mark.django_db
def test_it_refuses_an_unknown_time_zone_with_a_clear_message():
    client = signed_in("badzone", ("can_cdr",))
    response = client.post(
        "/settings/", {"time_zone": "Mars/Olympus", "date_format": "Y-m-d H:i:s"}
    )
    assert response.status_code == 400
    assert b"is not a time zone name" in response.content


@pytest.mark.django_db
def test_forbidden_page_names_the_missing_flag_and_is_audited():
    from django.http import HttpResponse
    from django.test import RequestFactory

    from gui.access import gui_page

    @gui_page("can_audit")
    def view(request):
        return HttpResponse("secret")

    user = signed_in("noaudit", ("can_cdr",))  # noqa: F841 (creates the user)
    request = RequestFactory().get("/some/page/")
    request.user = get_user_model().objects.get(username="noaudit")
    from django.contrib.messages.storage.fallback import FallbackStorage

    request.session = {}
    request._messages = FallbackStorage(request)
    response = view(request)
    assert response.status_code == 403
    assert b"can_audit" in response.content and b"secret" not in response.content
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PERMISSION_DENIED, username="noaudit", success=False
    ).exists()
