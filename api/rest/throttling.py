"""Request rate per token (or per session user): ``VMGUI_REST_RATE`` (e.g. ``600/min``)."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from api.rest.models import ApiToken


class PerTokenRateThrottle(SimpleRateThrottle):
    """Each token has its own budget; a session counts per user, anonymous callers per IP."""

    scope = "rest"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
