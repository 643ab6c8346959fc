"""Microsoft Entra ID sign-in end to end: msal's authorization-code flow (PKCE) against an
HTTPS identity-provider stand-in serving RS256 id_tokens; the id_token is validated (signature,
issuer, audience, expiry, nonce); group and role claims map to a vmgui group and flags."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.login.oidc import derive_id
from accounts.models import AuditEvent, ExternalIdentity, UserProfile
from accounts.permissions import effective
from tests.accounts.login import idp as stand_in
from tests.accounts.login.conftest import (
    error_kind,
    error_of,
    events,
    follow_provider,
    session_user,
)

pytestmark = pytest.mark.django_db

OID = "6f1c9a52-3b8e-4a6f-9d55-0c2f4b1e7a10"
CLAIMS = {
    "sub": "pairwise-subject-1",
    "oid": OID,
    "tid": stand_in.TENANT,
    "preferred_username": "Jana.Dvorakova@Contoso.example",
    "name": "Jana Dvořáková",
    "groups": ["c1e0a8a2-support-group-oid"],
    "roles": ["vmgui.pcap"],
}


@pytest.fixture
def entra(settings, idp, support_group):
    settings.ENTRA_TENANT = stand_in.TENANT
    settings.ENTRA_CLIENT_ID = stand_in.ENTRA_CLIENT
    settings.ENTRA_CLIENT_SECRET = stand_in.ENTRA_SECRET
    settings.ENTRA_AUTHORITY = f"{idp.base}/{stand_in.TENANT}"
    settings.LOGIN_CA_BUNDLE = idp.ca_path
    settings.ENTRA_GROUP_MAP = {"c1e0a8a2-support-group-oid": ("support",)}
    settings.ENTRA_FLAG_MAP = {"vmgui.pcap": ("can_pcap",), "vmgui.admin": ("is_admin",)}
    idp.next_claims = dict(CLAIMS)
    return idp


def test_the_login_page_shows_the_microsoft_button(entra):
    assert "Sign in with Microsoft" in Client().get("/login/").content.decode()


def test_an_entra_user_signs_in_end_to_end(entra):
    client = Client()
    response = follow_provider(client, "/login/entra/?next=/audit/", entra.ca_path)
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert session_user(client) == "jana.dvorakova@contoso.example"
    user = get_user_model().objects.get(username="jana.dvorakova@contoso.example")
    assert (user.first_name, user.last_name) == ("Jana", "Dvořáková")
    profile = UserProfile.objects.get(user=user)
    assert profile.source == UserProfile.Source.ENTRA and profile.group.name == "support"
    assert effective(user).has("can_pcap") and not user.is_superuser
    identity = ExternalIdentity.objects.get(user=user)
    assert identity.external_id == derive_id("entra", stand_in.TENANT, OID)
    assert identity.subject == f"{stand_in.TENANT}/{OID}"
    # msal used PKCE and our client secret
    request = entra.token_requests[-1]
    assert request["code_verifier"] and request["client_secret"] == stand_in.ENTRA_SECRET
    (ok,) = events(AuditEvent.Action.LOGIN_OK, user=user)
    assert ok.details["method"] == "entra"


def test_the_derived_id_is_stable_across_sign_ins_and_renames(entra):
    follow_provider(Client(), "/login/entra/", entra.ca_path)
    entra.next_claims = dict(CLAIMS, roles=["vmgui.admin"])
    follow_provider(Client(), "/login/entra/", entra.ca_path)
    assert ExternalIdentity.objects.count() == 1
    assert get_user_model().objects.get(username="jana.dvorakova@contoso.example").is_superuser


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("forged", "signature is invalid"),
        ("audience", "another application"),
        ("expired", "expired"),
        ("nonce", "nonce does not match"),
        ("issuer", "another issuer"),
    ],
)
def test_a_spoiled_id_token_is_refused(entra, tamper, why):
    entra.tamper = tamper
    client = Client()
    response = follow_provider(client, "/login/entra/", entra.ca_path)
    assert response.status_code == 200
    assert (
        error_of(response) == "the identity provider's answer could not be verified; sign in again"
    )
    assert error_kind(response) == "token"
    assert session_user(client) is None
    assert not get_user_model().objects.filter(username__contains="jana").exists()
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED)
    assert why in event.details["reason"] and event.details["method"] == "entra"


def test_a_callback_without_a_started_flow_is_refused(entra):
    response = Client().get("/login/entra/callback/?code=abc&state=xyz")
    assert "expired or was already used" in error_of(response)


def test_a_replayed_callback_is_refused(entra):
    client = Client()
    start = client.get("/login/entra/")
    import requests

    session = requests.Session()
    session.trust_env = False
    callback = session.get(start["Location"], verify=entra.ca_path, allow_redirects=False).headers[
        "Location"
    ]
    path = callback[len("http://testserver") :]
    assert client.get(path).status_code == 302
    assert error_kind(Client().get(path)) == "token"


def test_an_unreachable_provider_is_a_clear_error(entra, settings):
    settings.ENTRA_AUTHORITY = "https://127.0.0.1:9/tenant"
    response = Client().get("/login/entra/")
    assert error_of(response) == "Microsoft sign-in cannot be reached right now; try again later"
    (event,) = events(AuditEvent.Action.LOGIN_REFUSED)
    assert event.details["method"] == "entra" and "127.0.0.1:9" in event.details["reason"]
