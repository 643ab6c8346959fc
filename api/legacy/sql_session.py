"""sql.php's session login (``module=bypass_login``) and who a session request acts as.

The old GUI's PHP session is a Django session here: ``bypass_login`` checks user/pass against
LOCAL accounts (accounts.services.authenticate_local, as api.php), logs the user in with
Django's ``login`` and answers the session key as ``SID``. The key IS the value of the session
cookie (``settings.SESSION_COOKIE_NAME``: ``PHPSESSID``, or ``PHPSESSID-<prefix>`` under a URL
prefix), so a client that only sends ``Cookie: PHPSESSID=<SID>`` is the logged-in user, and
so is a browser logged in through the admin (later the GUI): one session for every face.
``module=logout`` ends that session on the server (accounts.services.end_session).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest

from accounts import principals
from accounts.login.flow import authenticate_for_api
from accounts.services import ApiPrincipal, authenticate_local, end_session, scope_for
from api.legacy.params import first_text


class NoSession(Exception):
    """No valid session (missing, expired, or ended) and API authorization is on."""


def _login_backend() -> str:
    """The backend the session records; it reloads the user (and refuses blocked ones)."""
    return settings.AUTHENTICATION_BACKENDS[0]


def bypass_login(request: HttpRequest, fields: dict[str, Any]) -> dict[str, Any]:
    """``module=bypass_login&user=..&pass=..``: open a session, answer its id (the cookie).

    ``password`` is accepted as an alias of ``pass``. A wrong or non-local account raises
    AuthRefused (the same reasons as api.php). Django's ``login`` gives the session a new key
    (no session fixation) and the session middleware sets the cookie on the response.
    """
    username = first_text(fields, "user", "username")
    password = first_text(fields, "pass", "password")
    if settings.SQL_BYPASS_LOGIN_CUSTOM:
        # Off by default (the spec's APIs take local accounts only): then the custom_login
        # hook / LDAP answer for non-local users too, as on the login page (docs/login.md).
        user, backend = authenticate_for_api(username, password, request=request, face="sql.php")
    else:
        user = authenticate_local(
            username, password, request=request, face="sql.php", record_success=True
        )
        backend = _login_backend()
    login(request, user, backend=backend)
    return {
        "SID": request.session.session_key,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "success": True,
        "_vm_version": settings.VM_VERSION,
    }


def session_logout(request: HttpRequest, fields: dict[str, Any]) -> dict[str, Any]:
    """``module=logout`` (or ``task=logout``): end the session on the server.

    Always a success, with or without a session (logging out twice is not an error);
    ``loggedOut`` says whether there was a session to end. The session row is deleted, so
    the SID stops working for every face at once (sql.php, pcap2text.php, pcap.php, admin).
    """
    was_logged_in = end_session(request)
    return {"success": True, "loggedOut": was_logged_in, "_vm_version": settings.VM_VERSION}


def session_principal(request: HttpRequest) -> ApiPrincipal:
    """The session's user and scope; anonymous (unrestricted) when API authorization is off.

    A logged-in session always acts as its user (a restricted user stays restricted even
    with the setting on). Blocked users lose their session in accounts' middleware.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Rights computed once per change of any account (accounts.principals), kept on this
        # request's user object (the task asks per flag).
        principals.rights.rights_of(user)
        return ApiPrincipal(user, scope_for(user))
    if settings.API_DISABLE_AUTH:
        return ApiPrincipal(None, scope_for(None))
    raise NoSession()


def wants_html(request: HttpRequest) -> bool:
    """A browser (it accepts HTML) rather than a script (curl sends ``*/*``, clients JSON)."""
    return "text/html" in request.headers.get("Accept", "")
