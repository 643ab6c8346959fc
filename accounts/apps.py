"""The accounts app: users, groups, flags, permissions, authentication, audit."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and permissions"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_audit_logout, dispatch_uid="vmgui-audit-logout")
        # Remembered API principals are invalidated by these saves in every process
        # (accounts.principals), including manage.py commands.
        from accounts import principals

        principals.connect()


def _audit_logout(sender, request, user, **kwargs) -> None:
    """Every logout (sql.php, /logout, the admin's) is an audit event."""
    if user is None:
        return
    from accounts import audit
    from accounts.models import AuditEvent
    from accounts.services import face_of

    path = getattr(request, "path_info", "") or ""
    audit.record(AuditEvent.Action.LOGOUT, user=user, request=request, face=face_of(path))
