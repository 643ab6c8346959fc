"""URLs of the active-calls pages (``gui:active_calls`` and its actions)."""

from django.urls import path

from gui.active import views

urlpatterns = [
    path("active/", views.active_calls, name="active_calls"),
    path("active/table/", views.active_table, name="active_table"),
    path(
        "active/<int:sensor_id>/<str:ref>/pause/",
        views.pause,
        {"action": "pause"},
        name="active_pause",
    ),
    path(
        "active/<int:sensor_id>/<str:ref>/unpause/",
        views.pause,
        {"action": "unpause"},
        name="active_unpause",
    ),
    path("active/<int:sensor_id>/<str:ref>/listen/", views.listen_start, name="active_listen"),
    path("active/listen/<str:listen_id>/audio/", views.listen_audio, name="active_listen_audio"),
    path("active/listen/<str:listen_id>/stop/", views.listen_stop, name="active_listen_stop"),
]
