"""URLs of the accounts pages: /logout (the audit log is the GUI's /audit/, gui.reports)."""

from django.urls import path

from accounts import views

urlpatterns = [
    # Both spellings: a POST to /logout must not be redirected to /logout/ (it would lose it).
    path("logout", views.logout_view),
    path("logout/", views.logout_view, name="logout"),
]
