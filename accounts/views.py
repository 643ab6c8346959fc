"""Small views of the accounts app: /logout (the audit log is a GUI page: gui.reports.audit)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.services import end_session


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """/logout: GET asks for confirmation, POST ends the session on the server.

    For every user, staff or not (the admin's /admin/logout/ only serves staff): the session
    row is deleted, so the cookie (sql.php's SID too) stops working everywhere at once.
    A GET never logs out (a link or an image on another site must not), and the POST form
    carries Django's CSRF token.
    """
    if request.method == "POST":
        was_logged_in = end_session(request)
        return render(request, "accounts/logged_out.html", {"was_logged_in": was_logged_in})
    return render(request, "accounts/logout.html")
