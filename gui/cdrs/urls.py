"""URLs of the GUI page group cdrs: the CDR list, its CSV export, the old GUI's deep link."""

from django.urls import path

from gui.cdrs import views

urlpatterns = [
    path("cdrs/", views.cdr_list, name="cdr_list"),
    path("cdrs/export.csv", views.cdr_csv, name="cdr_csv"),
    # The old GUI's deep link (/admin.php?cdr_filter={...}) opens the list with its filters.
    path("admin.php", views.deep_link, name="cdr_deep_link"),
]
