"""URLs of the GUI page group calls: one call's page, its media, downloads and share link."""

from django.urls import path

from gui.calls import views

urlpatterns = [
    path("calls/<int:cdr_id>/", views.call_detail, name="call_detail"),
    path("calls/<int:cdr_id>/audio.wav", views.audio_play, name="call_audio"),
    path(
        "calls/<int:cdr_id>/recording.wav",
        views.recording_download,
        {"fmt": "wav"},
        name="call_wav",
    ),
    path(
        "calls/<int:cdr_id>/recording.ogg",
        views.recording_download,
        {"fmt": "ogg"},
        name="call_ogg",
    ),
    path("calls/<int:cdr_id>/graph/<str:kind>.png", views.audio_graph, name="call_graph"),
    path("calls/<int:cdr_id>/call.pcap", views.pcap_download, {"rtp": True}, name="call_pcap"),
    path("calls/<int:cdr_id>/sip.pcap", views.pcap_download, {"rtp": False}, name="call_sip_pcap"),
    path("calls/<int:cdr_id>/sip.txt", views.sip_text, name="call_sip_text"),
    path("calls/<int:cdr_id>/share/", views.share, name="call_share"),
]
