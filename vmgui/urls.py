"""URL map: the legacy PHP paths, the admin, and (later) the REST API and GUI."""

from django.contrib import admin
from django.urls import include, path

from vmgui.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("api.legacy.urls")),
    path("", include("accounts.urls")),
]
