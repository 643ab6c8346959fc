"""URL map of the operator GUI (namespace ``gui``); each page group owns its own urls module."""

from django.urls import include, path

from gui import preferences, start

app_name = "gui"

urlpatterns = [
    path("start/", start.start, name="start"),
    path("settings/", preferences.preferences_page, name="preferences"),
    path("", include("gui.cdrs.urls")),
    path("", include("gui.calls.urls")),
    path("", include("gui.active.urls")),
    path("", include("gui.reports.urls")),
]
