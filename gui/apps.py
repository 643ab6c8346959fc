from django.apps import AppConfig


class GuiConfig(AppConfig):
    """The operator GUI (no models: every value it shows comes from a service)."""

    name = "gui"
    label = "gui"
    verbose_name = "Operator GUI"
