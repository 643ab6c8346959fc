"""Expiry, revocation, a creator who lost the right, unknown links, and password brute force:
each answers clearly and shows nothing of the call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, UserProfile
from sharing import service
from tests.sharing.test_sharing_support import (
    CALL_ID,
    CALLER_IP,
    make_share,
    share_path,
    shared_call,
    sharer,
    spool,
)

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db


def shows_nothing(response) -> bool:
    text = response.content.decode()
    return CALLER_IP not in text and CALL_ID not in text and "1001" not in text


def test_an_expired_link_is_gone_and_shows_nothing(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call, rtp=True, valid_days=1)
    client = Client()
    assert client.get(share_path(token)).status_code == 200
    share.expires_at = timezone.now() - dt.timedelta(seconds=1)
    share.save()
    for path in ("", "/data.json", "/call.pcap", "/audio/1.wav"):
        response = client.get(share_path(token) + path)
        assert response.status_code == 410 and shows_nothing(response)
    assert "expired" in client.get(share_path(token)).content.decode()


def test_valid_days_set_the_expiry_with_a_default_and_a_maximum(sharer, shared_call, settings):
    share, _, _ = make_share(sharer, shared_call, valid_days=15)
    assert abs((share.expires_at - timezone.now()) - dt.timedelta(days=15)) < dt.timedelta(
        minutes=1
    )
    share, _, _ = make_share(sharer, shared_call)
    days = settings.SHARE_DEFAULT_DAYS
    assert abs((share.expires_at - timezone.now()) - dt.timedelta(days=days)) < dt.timedelta(
        minutes=1
    )
    with pytest.raises(service.ShareRefused, match=f"1 to {settings.SHARE_MAX_DAYS} days"):
        make_share(sharer, shared_call, valid_days=settings.SHARE_MAX_DAYS + 1)


def test_a_revoked_link_is_gone_and_shows_nothing(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call, rtp=True)
    assert service.revoke(share, sharer) is True
    assert service.revoke(share, sharer) is False
    response = Client().get(share_path(token))
    assert response.status_code == 410 and "revoked" in response.content.decode()
    assert shows_nothing(response)
    assert Client().get(share_path(token) + "/call.pcap").status_code == 410


def test_an_unknown_or_malformed_link_is_404(db):
    for token in ("A" * 43, "short", "x" * 200, "%00"):
        response = Client().get(share_path(token))
        assert response.status_code == 404 and "does not exist" in response.content.decode()
    assert AuditEvent.objects.filter(action="share_use", success=False).count() == 4


def test_a_share_never_shows_more_than_its_creator_may_see_today(sharer, shared_call):
    share, token, _ = make_share(sharer, shared_call, rtp=True)
    profile = UserProfile.objects.get(user=sharer)
    profile.can_pcap = False  # the creator lost the PCAP right after sharing
    profile.save()
    client = Client()
    html = client.get(share_path(token)).content.decode()
    assert "<audio" not in html and "call.pcap" not in html
    assert client.get(share_path(token) + "/call.pcap").status_code == 404
    profile.blocked = True  # then was blocked
    profile.save()
    response = client.get(share_path(token))
    assert response.status_code == 410 and shows_nothing(response)


def test_a_creator_whose_scope_no_longer_has_the_call_opens_nothing(sharer, shared_call):
    _, token, _ = make_share(sharer, shared_call)
    group = UserProfile.objects.get(user=sharer).group
    group.number = "+420%"
    group.save()
    response = Client().get(share_path(token))
    assert response.status_code == 410 and shows_nothing(response)


def _try(client: Client, token: str, password: str):
    return client.post(share_path(token), {"password": password})


def test_a_protected_link_asks_for_its_password_first(sharer, shared_call):
    _, token, password = make_share(sharer, shared_call, "self_protected_link", rtp=True)
    assert len(password) == 12
    client = Client()
    form = client.get(share_path(token))
    assert form.status_code == 200 and 'name="password"' in form.content.decode()
    assert shows_nothing(form)
    assert client.get(share_path(token) + "/call.pcap").status_code == 401
    wrong = _try(client, token, "not-the-password")
    assert wrong.status_code == 401 and shows_nothing(wrong)
    right = _try(client, token, password)
    assert right.status_code == 303
    page = client.get(share_path(token))
    assert page.status_code == 200 and CALLER_IP in page.content.decode()
    assert client.get(share_path(token) + "/call.pcap").status_code == 200


def test_password_brute_force_is_throttled_even_for_the_right_password(
    sharer, shared_call, settings
):
    settings.SHARE_PASSWORD_MAX_FAILURES = 5
    _, token, _ = make_share(sharer, shared_call, "self_protected_link", password="s3cret-pass")
    attacker = Client()
    for n in range(5):
        assert _try(attacker, token, f"guess-{n}").status_code == 401
    blocked = _try(attacker, token, "s3cret-pass")
    assert blocked.status_code == 429 and "too many wrong passwords" in blocked.content.decode()
    assert shows_nothing(blocked)
    assert Client().get(share_path(token)).status_code == 429  # the form is not even shown
    refused = AuditEvent.objects.filter(action="share_use", success=False)
    assert refused.filter(details__refused="password").count() == 5


def test_password_failures_are_also_counted_per_address(sharer, shared_call, settings):
    settings.SHARE_PASSWORD_MAX_FAILURES_IP = 3
    tokens = [
        make_share(sharer, shared_call, "self_protected_link", password="s3cret-pass")[1]
        for _ in range(2)
    ]
    client = Client()
    for n in range(3):
        _try(client, tokens[n % 2], "wrong-guess")
    assert _try(client, tokens[1], "s3cret-pass").status_code == 429
    assert _try(Client(REMOTE_ADDR="192.0.2.9"), tokens[1], "s3cret-pass").status_code == 303


def test_the_throttle_forgets_failures_after_its_window(sharer, shared_call, settings):
    settings.SHARE_PASSWORD_MAX_FAILURES = 2
    _, token, _ = make_share(sharer, shared_call, "self_protected_link", password="s3cret-pass")
    client = Client()
    _try(client, token, "a-wrong-one")
    _try(client, token, "a-wrong-one")
    assert _try(client, token, "s3cret-pass").status_code == 429
    old = timezone.now() - dt.timedelta(seconds=settings.SHARE_PASSWORD_WINDOW_SECONDS + 5)
    AuditEvent.objects.filter(action="share_use").update(time=old)
    assert _try(client, token, "s3cret-pass").status_code == 303
