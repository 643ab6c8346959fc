"""Branding and the share site: the product name, share_link URLs on the operator's own
domain, and nothing but share pages answered on the share site's host name."""

from __future__ import annotations

import pytest
from django.test import Client

from sharing import service
from tests.sharing.test_sharing_support import (
    CALLER_IP,
    make_share,
    share_path,
    shared_call,
    sharer,
    spool,
)

__all__ = ["shared_call", "sharer", "spool"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def share_site(settings):
    settings.BRAND_SHARESITE = "share.example.com"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "share.example.com"]
    return Client(HTTP_HOST="share.example.com")


def test_the_brand_name_is_in_every_share_page(sharer, shared_call, settings):
    settings.BRAND_NAME = "Acme Voice"
    _, token, _ = make_share(sharer, shared_call)
    html = Client().get(share_path(token)).content.decode()
    assert "<title>Shared call – Acme Voice</title>" in html and "Shared with Acme Voice" in html
    assert "Acme Voice" in Client().get(share_path("x" * 43)).content.decode()


def test_share_links_live_on_the_share_site(sharer, shared_call, settings):
    share, token, _ = make_share(sharer, shared_call)
    assert service.url(share, token) == share_path(token)
    settings.BRAND_DOMAIN = "example.net"
    assert service.url(share, token) == f"https://share.example.net{share_path(token)}"
    settings.BRAND_SHARESITE = "http://calls.example.org:8080"
    assert service.url(share, token) == f"http://calls.example.org:8080{share_path(token)}"
    protected, token2, _ = make_share(sharer, shared_call, "self_protected_link")
    assert service.url(protected, token2) == share_path(token2)  # local links stay local


def test_the_share_site_answers_share_pages_only(sharer, shared_call, share_site):
    _, token, _ = make_share(sharer, shared_call, rtp=True)
    page = share_site.get(share_path(token))
    assert page.status_code == 200 and CALLER_IP in page.content.decode()
    assert share_site.get(share_path(token) + "/call.pcap").status_code == 200
    for path in ("/", "/admin/", "/php/api.php", "/api/v1/cdrs/", "/login/", "/metrics"):
        assert share_site.get(path).status_code == 404, path
    assert Client().get("/admin/").status_code == 302  # the application's own host is unchanged
