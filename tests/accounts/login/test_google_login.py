"""Google sign-in end to end with authlib against an HTTPS OpenID stand-in: discovery, state,
nonce, RS256 id_token validation (forged, wrong audience, expired refused), the hosted-domain
restriction and verified e-mail addresses."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.login.oidc import derive_id
from accounts.models import AuditEvent, ExternalIdentity, UserProfile
from tests.accounts.login import idp as stand_in
from tests.accounts.login.conftest import (
    error_kind,
    error_of,
    events,
    follow_provider,
    session_user,
)

pytestmark = pytest.mark.django_db

CLAIMS = {
    "sub": "109876543210987654321",  # Google's subjects are 21 digits: wider than 63 bits
    "email": "Petr.Novak@vmgui.test",
    "email_verified": True,
    "hd": "vmgui.test",
    "name": "Petr Novák",
}


@pytest.fixture
def google(settings, idp, support_group):
    settings.GOOGLE_CLIENT_ID = stand_in.GOOGLE_CLIENT
    settings.GOOGLE_CLIENT_SECRET = stand_in.GOOGLE_SECRET
    settings.GOOGLE_METADATA_URL = f"{idp.base}/google/.well-known/openid-configuration"
    settings.GOOGLE_HOSTED_DOMAINS = ["vmgui.test"]
    settings.GOOGLE_GROUP = "support"
    settings.GOOGLE_FLAG_MAP = {"boss@vmgui.test": ("is_admin",)}
    settings.LOGIN_CA_BUNDLE = idp.ca_path
    idp.next_claims = dict(CLAIMS)
    return idp


def test_the_login_page_shows_the_google_button(google):
    assert "Sign in with Google" in Client().get("/login/").content.decode()


def test_a_google_user_signs_in_end_to_end(google):
    client = Client()
    response = follow_provider(client, "/login/google/", google.ca_path)
    assert response.status_code == 302 and response["Location"] == "/"
    assert session_user(client) == "petr.novak@vmgui.test"
    user = get_user_model().objects.get(username="petr.novak@vmgui.test")
    profile = UserProfile.objects.get(user=user)
    assert profile.source == UserProfile.Source.GOOGLE and profile.group.name == "support"
    assert ExternalIdentity.objects.get(user=user).external_id == derive_id("google", CLAIMS["sub"])
    assert not user.is_superuser
    (ok,) = events(AuditEvent.Action.LOGIN_OK, user=user)
    assert ok.details["method"] == "google"


def test_flags_map_by_e_mail(google):
    google.next_claims = dict(CLAIMS, email="boss@vmgui.test", sub="1")
    follow_provider(Client(), "/login/google/", google.ca_path)
    assert get_user_model().objects.get(username="boss@vmgui.test").is_superuser


@pytest.mark.parametrize(
    "claims",
    [
        {"hd": "other.example", "email": "eve@other.example"},
        {"hd": None, "email": "eve@gmail.com"},
        {"hd": "vmgui.test", "email": "eve@other.example"},
    ],
)
def test_accounts_outside_the_hosted_domains_are_refused(google, claims):
    google.next_claims = {k: v for k, v in dict(CLAIMS, **claims).items() if v is not None}
    client = Client()
    response = follow_provider(client, "/login/google/", google.ca_path)
    assert "not allowed to sign in here" in error_of(response)
    assert session_user(client) is None
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED)
    assert "VMGUI_GOOGLE_HOSTED_DOMAINS" in event.details["reason"]


def test_an_unverified_e_mail_is_refused(google):
    google.next_claims = dict(CLAIMS, email_verified=False)
    assert "no verified e-mail" in error_of(
        follow_provider(Client(), "/login/google/", google.ca_path)
    )


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("forged", "BadSignature"),
        ("audience", "'aud'"),
        ("expired", "expired"),
        ("nonce", "'nonce'"),
        ("issuer", "'iss'"),
    ],
)
def test_a_spoiled_id_token_is_refused(google, tamper, why):
    google.tamper = tamper
    client = Client()
    response = follow_provider(client, "/login/google/", google.ca_path)
    assert error_kind(response) == "token"
    assert session_user(client) is None
    assert not get_user_model().objects.filter(username__contains="petr").exists()
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED)
    assert (
        event.details["method"] == "google"
        and "Google id_token rejected" in event.details["reason"]
    )
    assert why in event.details["reason"]


def test_the_hosted_domain_hint_is_sent_to_google(google):
    start = Client().get("/login/google/")
    assert "hd=vmgui.test" in start["Location"] and "nonce=" in start["Location"]
