"""Legacy PHP-path endpoints (thin adapters over the cdr core)."""

from django.urls import path

from api import legacy_api

urlpatterns = [
    path("php/api.php", legacy_api.api_php, name="api_php"),
    path("api.php", legacy_api.wrong_path, name="api_php_wrong_path"),
]
