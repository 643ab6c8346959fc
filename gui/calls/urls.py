"""URLs of the GUI page group calls."""

urlpatterns: list = []
