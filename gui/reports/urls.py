"""URLs of the GUI page group reports: the report pages and the audit log."""

from django.urls import path

from gui.reports import audit, views

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/<int:report_id>/", views.report_view, name="report_view"),
    path("reports/<int:report_id>/chart.png", views.report_png, name="report_png"),
    path("reports/<int:report_id>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:report_id>/delete/", views.report_delete, name="report_delete"),
    path("audit/", audit.audit_log, name="audit"),
]
