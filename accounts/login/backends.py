"""The session backend of users signed in by the hook, LDAP, Entra ID or Google.

Those sign-ins are run by ``accounts.login.flow`` (never by Django's ``authenticate()``), which
then logs the user in with this backend; on later requests it reloads the user like the local
backend does, and a user blocked since (or deactivated) loses the session.
"""

from __future__ import annotations

from accounts.backends import VmModelBackend


class ExternalLoginBackend(VmModelBackend):
    """Reloads session users; authenticates nobody by password (accounts.login.flow does)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None
