"""The product name (and the operator's domain) in every template: ``{{ brand_name }}``; the
share site's address derived from them (used by the settings and by sharing.service)."""

from __future__ import annotations

from django.conf import settings


def brand(request) -> dict[str, str]:
    """Template context processor (settings.TEMPLATES)."""
    return {"brand_name": settings.BRAND_NAME, "brand_domain": settings.BRAND_DOMAIN}


def share_site_of(sharesite: str, domain: str) -> str:
    """``scheme://host[:port]`` of share_link URLs from VMGUI_BRAND_SHARESITE, else
    ``https://share.<VMGUI_BRAND_DOMAIN>``; "" when neither is set (the asked host)."""
    site = sharesite.strip().rstrip("/") or (f"share.{domain}" if domain else "")
    if not site:
        return ""
    return site if "://" in site else f"https://{site}"
