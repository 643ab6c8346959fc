"""The sign-in and logout pages in the GUI's frame: gui.css, the brand header, the form in a
card; the names and ids scripts and tests rely on are unchanged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.gui.support import signed_in

pytestmark = pytest.mark.django_db
BRAND = "Síť Volání 電話"


def _framed(body: str) -> None:
    assert 'href="/static/gui/gui.css"' in body and 'href="/static/gui/login.css"' in body
    assert f'<a class="brand" href="/">{BRAND}</a>' in body
    assert '<main id="main"' in body and 'class="signin card"' in body


def test_the_login_page_is_styled_like_the_gui_and_keeps_its_form(settings):
    settings.BRAND_NAME = BRAND
    body = Client().get("/login/?next=/reports/").content.decode()
    _framed(body)
    assert f"<title>Sign in – {BRAND}</title>" in body
    for needle in ('name="username"', 'id="id_username"', 'id="id_password"', 'name="next"'):
        assert needle in body
    assert 'value="/reports/"' in body
    assert 'class="nav"' not in body  # no navigation before signing in


def test_a_refused_sign_in_shows_the_error_in_the_styled_page(settings):
    settings.BRAND_NAME = BRAND
    get_user_model().objects.create_user("jana", password="správné-heslo-1")
    response = Client().post("/login/", {"username": "jana", "password": "špatné"})
    body = response.content.decode()
    _framed(body)
    assert '<p class="error" role="alert" data-kind="' in body
    assert "wrong user name or password" in body


def test_the_logout_pages_are_styled_like_the_gui(settings):
    settings.BRAND_NAME = BRAND
    client = signed_in("odhlásit", ("can_cdr",))
    page = client.get("/logout/").content.decode()
    _framed(page)
    assert "odhlásit" in page and 'id="logout"' in page
    done = client.post("/logout/").content.decode()
    _framed(done)
    assert "Your session has ended on the server" in done and 'href="/login/"' in done
    assert 'class="nav"' not in done  # signed out: no navigation


def test_the_static_files_of_the_sign_in_pages_exist():
    from django.contrib.staticfiles import finders

    for name in ("gui/gui.css", "gui/login.css", "gui/reports.css"):
        assert finders.find(name), name
