from django.apps import AppConfig


class CdrConfig(AppConfig):
    name = "cdr"
    verbose_name = "Calls (sniffer data)"

    def ready(self) -> None:
        # Dependency inversion: the media layer reads remote spool files through a locator
        # the sensors package registers, so cdr.media never imports cdr.sensors.
        from cdr.media import spool
        from cdr.sensors.registry import remote_locate

        spool.register_remote_locator(
            lambda call, kind, index: remote_locate(call, kind, index=index)
        )

        # Custom header definitions are read once per request (cdr.query.customheaders).
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_delete, post_save

        from cdr.models import CdrCustomHeader
        from cdr.query import customheaders

        request_started.connect(customheaders.begin_request, dispatch_uid="cdr-headers-begin")
        request_finished.connect(customheaders.end_request, dispatch_uid="cdr-headers-end")
        for signal in (post_save, post_delete):
            signal.connect(
                customheaders.forget_definitions,
                sender=CdrCustomHeader,
                dispatch_uid=f"cdr-headers-forget-{signal is post_save}",
            )

        # The per-request database ping, skipped for a connection used moments ago
        # (vmgui.dbhealth).
        from django.db.backends.signals import connection_created

        from vmgui import dbhealth

        connection_created.connect(dbhealth.install, dispatch_uid="vmgui-db-check")
        request_finished.connect(dbhealth.note_healthy, dispatch_uid="vmgui-db-healthy")
