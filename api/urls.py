"""Legacy PHP-path endpoints (thin adapters over the cdr core)."""

from django.urls import path

from api import legacy_api, legacy_media, legacy_siphistory, legacy_sql

urlpatterns = [
    path("php/api.php", legacy_api.api_php, name="api_php"),
    path("api.php", legacy_api.wrong_path, name="api_php_wrong_path"),
    path("php/model/sql.php", legacy_sql.sql_php, name="sql_php"),
    path("admin.php", legacy_sql.admin_php, name="admin_php"),
    path("php/pcap.php", legacy_media.pcap_php, name="pcap_php"),
    path("php/wav.php", legacy_media.wav_php, name="wav_php"),
    path("php/pcap2text.php", legacy_siphistory.pcap2text_php, name="pcap2text_php"),
]
