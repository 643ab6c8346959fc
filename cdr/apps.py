from django.apps import AppConfig


class CdrConfig(AppConfig):
    name = "cdr"
    verbose_name = "Calls (sniffer data)"
