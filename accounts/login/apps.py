"""App config of the sign-in package (its admin page and its start-up check of the hook)."""

from django.apps import AppConfig
from django.core import checks


class LoginConfig(AppConfig):
    name = "accounts.login"
    label = "accounts_login"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from accounts.login import hook

        checks.register(hook.system_check, checks.Tags.security)
