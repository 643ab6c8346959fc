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
