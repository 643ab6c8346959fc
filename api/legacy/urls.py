"""Legacy PHP-path endpoints (thin adapters over the cdr core)."""

from django.urls import path

from api.legacy import api_php, license, pcap2text, sql_php, tasks_media, utilities_php

urlpatterns = [
    path("php/api.php", api_php.api_php, name="api_php"),
    path("api.php", api_php.wrong_path, name="api_php_wrong_path"),
    path("php/model/sql.php", sql_php.sql_php, name="sql_php"),
    path("php/pcap.php", tasks_media.pcap_php, name="pcap_php"),
    path("php/wav.php", tasks_media.wav_php, name="wav_php"),
    path("php/pcap2text.php", pcap2text.pcap2text_php, name="pcap2text_php"),
    path("php/model/utilities.php", utilities_php.utilities_php, name="utilities_php"),
    path("php/apilicensecheck.php", license.apilicensecheck_php, name="apilicensecheck_php"),
]
