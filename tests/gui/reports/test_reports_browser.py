"""Reports end to end in Chromium (Playwright) against a live server: sign in through the
styled /login/ page, define a report, view it with its chart, open the audit log and find the
sign-in there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.browser import browser, page
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.conftest import reset_sniffer_schema
from tests.gui.support import gui_user

__all__ = ["browser", "page"]
PASSWORD = "Report-heslo-42"


@pytest.fixture
def world(transactional_db, live_server):
    seed_calls()
    user = gui_user("analytička", ("can_cdr", "can_reports_edit", "can_audit"))
    user.set_password(PASSWORD)
    user.save()
    yield live_server, user
    reset_sniffer_schema()  # the sniffer's tables are not flushed between transactional tests


def test_define_a_report_view_its_chart_and_find_the_sign_in_in_the_audit_log(world, page):
    server, user = world
    page.goto(f"{server.url}/reports/")
    assert "/login/?next=/reports/" in page.url
    # the sign-in page wears the GUI's frame and stylesheet
    assert page.locator("header.topbar .brand").is_visible()
    assert page.eval_on_selector(".signin", "e => getComputedStyle(e).maxWidth") != "none"
    page.fill("#id_username", "analytička")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server.url}/reports/")
    assert page.locator("#no-reports").is_visible()

    page.click("#new-report")
    page.fill("#description", "Neúspěšné – 失敗 ❌")
    page.fill("#sip_response", "4xx,5xx")
    page.uncheck("#metric-top_called")
    page.click("#save")
    page.wait_for_selector("#report-name")
    assert page.locator("#report-name").inner_text() == "Neúspěšné – 失敗 ❌"

    page.fill("#from", DAY)
    page.fill("#to", DAY)
    page.click("#show")
    page.wait_for_url(f"**/reports/*/?from={DAY}&to={DAY}")
    expected = sql_report(where="lastSIPresponseNum >= 400 AND lastSIPresponseNum < 600")
    assert page.locator("#summary-calls").inner_text() == str(expected["summary"]["calls"])
    chart = page.locator("#chart-hours svg")
    assert chart.is_visible() and chart.locator("rect.calls").count() == 24
    assert chart.bounding_box()["width"] > 300
    assert page.locator("#table-top_called").count() == 0
    png = page.request.get(server.url + page.locator("#png-link").get_attribute("href"))
    assert png.status == 200 and png.headers["content-type"] == "image/png"

    page.click("nav[aria-label=Main] >> text=Audit log")
    page.wait_for_url(f"{server.url}/audit/")
    row = page.locator("#audit tbody tr").filter(has_text="login succeeded").first
    assert "analytička" in row.inner_text() and "gui" in row.inner_text()
    assert get_user_model().objects.filter(username="analytička").exists()
