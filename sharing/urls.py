"""URLs of the public share pages (sharing.pages)."""

from django.urls import path, re_path

from sharing import pages

app_name = "sharing"
urlpatterns = [
    path("share/<str:token>", pages.page, name="page"),
    path("share/<str:token>/data.json", pages.data_json, name="data"),
    path("share/<str:token>/call.pcap", pages.pcap, name="pcap"),
    path("share/<str:token>/audio/<int:n>.wav", pages.audio, name="audio"),
    re_path(r"^share/", pages.not_found, name="not_found"),
]
