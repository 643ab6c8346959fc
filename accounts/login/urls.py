"""Sign-in URLs: the login page, the provider callbacks, the two-factor step."""

from django.urls import path

from accounts.login import views

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("login/2fa/", views.second_factor, name="login_2fa"),
    path("login/entra/", views.entra_start, name="login_entra"),
    path("login/entra/callback/", views.entra_callback, name="login_entra_callback"),
    path("login/google/", views.google_start, name="login_google"),
    path("login/google/callback/", views.google_callback, name="login_google_callback"),
    # The admin's own login form has no second factor: it sends people here instead.
    path("admin/login/", views.admin_login),
]
