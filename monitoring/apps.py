"""Django app of the /metrics face: counts failed database statements from start-up on."""

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring (/metrics)"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from cdr.telemetry import install_db_error_counter

        # Every new database connection gets the error-counting execute wrapper.
        connection_created.connect(install_db_error_counter, dispatch_uid="vmgui-db-errors")
