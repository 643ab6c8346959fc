"""URLs of the accounts pages: the audit log and /logout."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    # Both spellings: a POST to /logout must not be redirected to /logout/ (it would lose it).
    path("logout", views.logout_view),
    path("logout/", views.logout_view, name="logout"),
]
