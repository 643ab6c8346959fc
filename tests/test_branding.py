"""BRAND_NAME is the product name in every page's title (home, sign-in, logout, audit, SIP
history), not only on the share pages (tests/sharing/test_share_site.py)."""

import pytest
from django.contrib.auth import get_user_model

BRAND = "Acme VoIP Monitor"


@pytest.mark.django_db
def test_every_page_is_titled_with_the_brand_name(client, settings):
    settings.BRAND_NAME = BRAND
    pages = ["/", "/login/", "/logout/"]
    for path in pages:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert b"<title>" in response.content
        assert BRAND.encode() in response.content, path
        assert b"\xe2\x80\x93 vmgui</title>" not in response.content, path
    admin = get_user_model().objects.create_superuser("brandadmin", "b@x", "brand-pass-123")
    client.force_login(admin)
    audit = client.get("/audit/")
    assert audit.status_code == 200 and BRAND.encode() in audit.content
    history = client.get(
        "/php/pcap2text.php", {"action": "brief", "id": "999999"}, HTTP_ACCEPT="text/html"
    )
    assert f"– {BRAND}</title>".encode() in history.content
