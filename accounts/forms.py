"""Login forms that show why a login was refused (throttled, blocked) instead of Django's
generic "enter a correct username and password" (the reason comes from accounts.backends)."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.backends import refusal_reason


class _ReasonMixin:
    request = None

    def get_invalid_login_error(self) -> ValidationError:
        reason = refusal_reason(self.request)
        if reason:
            return ValidationError(reason, code="refused")
        return super().get_invalid_login_error()  # type: ignore[misc]


class VmAuthenticationForm(_ReasonMixin, AuthenticationForm):
    """The browser login form (the GUI later)."""


class VmAdminAuthenticationForm(_ReasonMixin, AdminAuthenticationForm):
    """The admin's login form (set as ``admin.site.login_form`` in accounts.admin)."""
