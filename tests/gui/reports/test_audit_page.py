"""/audit/ in the GUI: only with can_audit (link hidden, URL 403), filters by action, user,
face, outcome and days of the user's zone, times in the user's zone and format, keyset paging."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import audit
from accounts.models import AuditEvent
from accounts.preferences import save_preferences
from gui.reports.audit import PAGE_SIZE
from tests.gui.reports.support import table_rows
from tests.gui.support import signed_in

pytestmark = pytest.mark.django_db
A = AuditEvent.Action
AUDITOR = ("can_audit",)


def _at(event: AuditEvent, moment: str) -> AuditEvent:
    """Move an event to a moment (UTC): ``time`` is set automatically on insert."""
    when = dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC)
    AuditEvent.objects.filter(pk=event.pk).update(time=when)
    return event


def _users(body: str) -> list[str]:
    return [row[2] for row in table_rows(body, "audit") if len(row) > 2]


def _seed() -> None:
    _at(audit.record(A.LOGIN_FAILED, username="jiří.novák", face="api.php", success=False),
        "2026-11-26 22:30:00")  # fmt: skip
    _at(audit.record(A.LOGIN_OK, username="jiří.novák", face="gui"), "2026-11-26 22:31:00")
    _at(audit.record(A.PCAP_DOWNLOAD, username="山田", face="rest", object_id="123"),
        "2026-11-27 09:00:00")  # fmt: skip
    _at(audit.record(A.SHARE_CREATE, username="emoji🙂", face="gui", object_id="tok"),
        "2026-11-27 10:00:00")  # fmt: skip


def test_it_needs_can_audit_and_hides_the_link_without_it():
    client = signed_in("curious", ("can_cdr",))
    assert 'href="/audit/"' not in client.get("/reports/").content.decode()
    response = client.get("/audit/")
    assert response.status_code == 403 and b"can_audit" in response.content
    assert Client().get("/audit/")["Location"].startswith("/login/?next=/audit/")
    auditor = signed_in("auditor", AUDITOR)
    assert 'href="/audit/"' in auditor.get("/reports/").content.decode()
    assert auditor.get("/audit/").status_code == 200
    assert auditor.post("/audit/").status_code == 405  # a read-only page


def test_it_filters_by_action_user_face_and_outcome():
    _seed()
    client = signed_in("auditor", AUDITOR)
    assert _users(client.get("/audit/", {"action": "login_failed"}).content.decode()) == [
        "jiří.novák"
    ]
    body = client.get("/audit/", {"username": "jiří.novák"}).content.decode()
    assert _users(body) == ["jiří.novák", "jiří.novák"]
    assert _users(client.get("/audit/", {"face": "rest"}).content.decode()) == ["山田"]
    failed = client.get("/audit/", {"success": "no"}).content.decode()
    assert _users(failed) == ["jiří.novák"]
    ok = _users(client.get("/audit/", {"success": "yes", "face": "gui"}).content.decode())
    assert "emoji🙂" in ok and "jiří.novák" in ok and "山田" not in ok
    # the form shows the filters again
    assert 'value="jiří.novák"' in body


def test_days_are_the_users_and_times_are_shown_in_their_zone_and_format():
    _seed()
    client = signed_in("tokyo-auditor", AUDITOR)
    user = get_user_model().objects.get(username="tokyo-auditor")
    save_preferences(user, time_zone="Asia/Tokyo", date_format="d.m.Y H:i:s")
    # 2026-11-27 in Tokyo: 2026-11-26 15:00 … 2026-11-27 14:59:59 UTC
    body = client.get("/audit/", {"from": "2026-11-27", "to": "2026-11-27"}).content.decode()
    rows = table_rows(body, "audit")
    shown = {row[2]: row[0] for row in rows}
    assert set(shown) == {"jiří.novák", "山田", "emoji🙂"}
    assert shown["山田"] == "27.11.2026 18:00:00"  # 09:00 UTC
    assert [r[0] for r in rows if r[2] == "jiří.novák"] == [
        "27.11.2026 07:31:00",
        "27.11.2026 07:30:00",
    ]
    assert "Asia/Tokyo" in body
    # in UTC the two sign-ins were on the 26th
    save_preferences(user, time_zone="UTC", date_format="Y-m-d H:i:s")
    body = client.get("/audit/", {"from": "2026-11-27", "to": "2026-11-27"}).content.decode()
    assert set(_users(body)) == {"山田", "emoji🙂"}


@pytest.mark.parametrize(
    "query, message",
    [
        ({"action": "drop_tables"}, "unknown action"),
        ({"from": "yesterday"}, "from: expected a date"),
        ({"from": "2026-11-27", "to": "2026-11-01"}, "the last day is before the first day"),
        ({"success": "maybe"}, "success: yes, no or empty"),
        ({"to": "9999-12-31"}, "to: expected a date"),
        ({"before": "12abc"}, "before: expected an event number"),
    ],
)
def test_a_bad_filter_is_a_clear_message(query, message):
    client = signed_in("auditor", AUDITOR)
    response = client.get("/audit/", query)
    assert response.status_code == 400 and message in response.content.decode()


def test_it_pages_by_event_id_newest_first():
    for i in range(PAGE_SIZE * 2 + 5):
        audit.record(A.LOGIN_OK, username=f"u{i:03d}", face="gui")
    client = signed_in("pager", AUDITOR)  # force_login records nothing: the log is ours
    first = client.get("/audit/", {"face": "gui"}).content.decode()
    users = _users(first)
    assert users[0] == f"u{PAGE_SIZE * 2 + 4:03d}" and len(users) == PAGE_SIZE
    assert 'id="newer"' not in first
    older_q = re.search(r'href="\?([^"]+)" id="older"', first).group(1).replace("&amp;", "&")
    assert "face=gui" in older_q
    second = client.get("/audit/?" + older_q).content.decode()
    assert _users(second)[0] == f"u{PAGE_SIZE + 4:03d}"
    third_q = re.search(r'href="\?([^"]+)" id="older"', second).group(1).replace("&amp;", "&")
    third = client.get("/audit/?" + third_q).content.decode()
    assert _users(third) == [f"u{i:03d}" for i in range(4, -1, -1)]
    assert 'id="older"' not in third
    newer_q = re.search(r'href="\?([^"]+)" id="newer"', third).group(1).replace("&amp;", "&")
    back = client.get("/audit/?" + newer_q).content.decode()
    assert _users(back) == _users(second)


def test_a_sign_in_through_the_login_page_appears_in_the_log():
    signed_in("auditor", AUDITOR)
    user = get_user_model().objects.get(username="auditor")
    user.set_password("Heslo-123-žluťoučký")
    user.save()
    client = Client()
    response = client.post(
        "/login/", {"username": "auditor", "password": "Heslo-123-žluťoučký", "next": "/audit/"}
    )
    assert response.status_code == 302 and response["Location"] == "/audit/"
    rows = table_rows(client.get("/audit/").content.decode(), "audit")
    assert rows[0][1:3] == ["login succeeded", "auditor"] and rows[0][4] == "gui"
