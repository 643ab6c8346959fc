"""Refuse every request of a logged-in user who has been blocked since logging in.

Password checks already refuse blocked users (accounts.services / backends); this catches
sessions that were open when the block happened, on every face, in one place.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpResponseForbidden

from accounts.models import UserProfile
from vmgui.legacyjson import JsonResponse


class BlockedUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The auth backend already turns a blocked user's session into an anonymous one
        # (user_can_authenticate); here we give that session its reason and end it. A session
        # whose user the backend accepted is not blocked: no second look-up for it.
        session = getattr(request, "session", None)
        user_id = session.get(SESSION_KEY) if session is not None else None
        if user_id is not None and not request.user.is_authenticated:
            profile = (
                UserProfile.objects.filter(user_id=user_id)
                .only("blocked", "blocked_reason")
                .first()
            )
            if profile is not None and profile.blocked:
                reason = f"user is blocked: {profile.blocked_reason or 'no reason given'}"
                logout(request)
                if request.path.startswith("/php/") or request.path.endswith(".php"):
                    # Both legacy shapes: api.php clients read errors.reason, sql.php's read
                    # error.type / error.descr.
                    return JsonResponse(
                        {
                            "success": False,
                            "error": {"type": "blocked", "descr": reason},
                            "errors": {"reason": reason},
                        }
                    )
                return HttpResponseForbidden(reason, content_type="text/plain")
        return self.get_response(request)
