"""manage.py send_reports: scheduled reports by e-mail (locmem backend), once per period, with
the owner's rights; and the periods each schedule covers."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from PIL import Image

from accounts.models import UserProfile
from cdr.reports.models import ReportDefinition, ReportDelivery
from cdr.reports.schedule import last_period
from tests.cdr.reports.test_reports_support import DAY, seed_calls, sql_report
from tests.factories import aware

NOW = "2026-11-28T06:00:00+00:00"  # the morning after DAY


def owner(name="owner", *, superuser=False, **profile):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(name, f"{name}@example.com", "pass-12345")
    user = User.objects.create_user(name, password="pass-12345")
    UserProfile.objects.create(user=user, **{"can_cdr": True, **profile})
    return user


def send(*args) -> str:
    out = io.StringIO()
    call_command("send_reports", "--now", NOW, *args, stdout=out, stderr=out)
    return out.getvalue()


def scheduled(user, **fields) -> ReportDefinition:
    defaults = {
        "description": "Daily Summary",
        "schedule": "daily",
        "recipients": "noc@example.com",
    }
    return ReportDefinition.objects.create(owner=user, **{**defaults, **fields})


@pytest.mark.django_db
def test_it_emails_the_previous_days_report_with_png_and_json():
    seed_calls()
    scheduled(owner(superuser=True), recipients="noc@example.com\nnoc@example.com")
    assert "1 sent" in send()
    (message,) = mail.outbox
    assert message.to == ["noc@example.com"]
    assert message.subject == f"[vmgui] Daily Summary: {DAY} 00:00:00 – {DAY} 23:59:59 (UTC)"
    (png_name, png, png_type), (json_name, figures, json_type) = message.attachments
    assert (png_name, png_type) == (f"report-daily-summary-{DAY}.png", "image/png")
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert json_type == "application/json"
    assert json.loads(figures)["summary"] == sql_report()["summary"]
    assert "Calls:     60" in message.body


@pytest.mark.django_db
def test_it_sends_each_period_only_once():
    scheduled(owner(superuser=True))
    send()
    assert "already sent" in send()
    assert len(mail.outbox) == 1
    delivery = ReportDelivery.objects.get()
    assert delivery.status == "sent" and delivery.period_start == aware(f"{DAY} 00:00:00")
    # the next day is a new period
    out = io.StringIO()
    call_command("send_reports", "--now", "2026-11-29T01:00:00Z", stdout=out)
    assert len(mail.outbox) == 2 and ReportDelivery.objects.count() == 2


@pytest.mark.django_db
def test_it_runs_the_report_with_the_owners_restrictions():
    seed_calls()
    scheduled(owner(enable_sensors="2"))
    send()
    figures = json.loads(mail.outbox[0].attachments[1][1])
    assert figures["summary"] == sql_report(where="id_sensor = 2")["summary"]


@pytest.mark.django_db
def test_it_does_not_send_for_a_blocked_owner_and_retries_once_unblocked():
    user = owner(blocked=True)
    scheduled(user)
    assert "is blocked or inactive" in send()
    assert mail.outbox == [] and ReportDelivery.objects.get().status == "failed"
    UserProfile.objects.filter(user=user).update(blocked=False)
    assert "1 sent" in send()
    assert len(mail.outbox) == 1 and ReportDelivery.objects.get().status == "sent"


@pytest.mark.django_db
def test_it_does_not_send_for_an_owner_without_can_cdr_or_without_owner():
    scheduled(owner(can_cdr=False))
    scheduled(None, description="Orphan")
    out = send()
    assert "lacks the can_cdr permission" in out and "has no owner" in out
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_retries_after_a_failing_mail_server(settings):
    scheduled(owner(superuser=True))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused
    assert "not sent" in send() and ReportDelivery.objects.get().status == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert "1 sent" in send() and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_dry_run_sends_nothing():
    scheduled(owner(superuser=True))
    assert "would send: 'Daily Summary'" in send("--dry-run")
    assert mail.outbox == [] and not ReportDelivery.objects.exists()


@pytest.mark.parametrize(
    ("schedule", "now", "start", "end"),
    [
        ("daily", "2026-11-28 00:00:00", "2026-11-27 00:00:00", "2026-11-27 23:59:59.999999"),
        ("weekly", "2026-11-25 12:00:00", "2026-11-16 00:00:00", "2026-11-22 23:59:59.999999"),
        ("weekly", "2026-11-23 00:00:00", "2026-11-16 00:00:00", "2026-11-22 23:59:59.999999"),
        ("monthly", "2026-03-01 00:30:00", "2026-02-01 00:00:00", "2026-02-28 23:59:59.999999"),
        ("monthly", "2027-01-15 08:00:00", "2026-12-01 00:00:00", "2026-12-31 23:59:59.999999"),
    ],
)
def test_each_schedule_covers_the_last_complete_period(schedule, now, start, end):
    period = last_period(schedule, aware(now))
    assert (period.start, period.end) == (aware(start), aware(end))
    assert period.end - period.start < dt.timedelta(days=31)
