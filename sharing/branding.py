"""The product name (and the operator's domain) in every template: ``{{ brand_name }}``."""

from __future__ import annotations

from django.conf import settings


def brand(request) -> dict[str, str]:
    """Template context processor (settings.TEMPLATES)."""
    return {"brand_name": settings.BRAND_NAME, "brand_domain": settings.BRAND_DOMAIN}
