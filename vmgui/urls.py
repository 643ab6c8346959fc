"""URL map: the legacy PHP paths, the admin, the REST API, share pages and the operator GUI."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from vmgui.views import home

# Errors raised outside the views (middleware: sessions, the user): the database-down 503,
# and JSON on the legacy paths (vmgui.faults).
handler500 = "vmgui.faults.server_error"

# The product name (VMGUI_BRAND_NAME) in the admin's header and titles.
admin.site.site_header = admin.site.site_title = settings.BRAND_NAME
admin.site.index_title = f"{settings.BRAND_NAME} administration"

urlpatterns = [
    path("", home, name="home"),
    # Sign-in pages (before the admin: its /admin/login/ is sent to /login/ with its 2FA step).
    path("", include("accounts.login.urls")),
    path("admin/", admin.site.urls),
    path("", include("api.legacy.urls")),
    path("", include("api.rest.urls")),
    path("", include("accounts.urls")),
    path("", include("monitoring.urls")),
    path("", include("sharing.urls")),
    # The operator GUI (last: its paths are its own, /cdrs/, /calls/, /active/, /reports/ ...).
    path("", include("gui.urls")),
]
