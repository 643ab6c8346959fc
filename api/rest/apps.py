from django.apps import AppConfig


class RestApiConfig(AppConfig):
    name = "api.rest"
    label = "rest_api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of our authentication classes.
        # A saved or deleted token (admin edits) invalidates remembered tokens
        # (api.rest.tokens.remembered), as user and group changes do.
        from django.db.models.signals import post_delete, post_save

        from accounts.principals import permissions_changed
        from api.rest import schema  # noqa: F401
        from api.rest.models import ApiToken

        def changed(sender, **kwargs) -> None:
            permissions_changed()

        post_save.connect(changed, sender=ApiToken, weak=False, dispatch_uid="vmgui-token-save")
        post_delete.connect(changed, sender=ApiToken, weak=False, dispatch_uid="vmgui-token-del")
