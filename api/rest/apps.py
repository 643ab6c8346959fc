from django.apps import AppConfig


class RestApiConfig(AppConfig):
    name = "api.rest"
    label = "rest_api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of our authentication classes.
        from api.rest import schema  # noqa: F401
