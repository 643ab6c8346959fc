"""URLs of the GUI page group active."""

urlpatterns: list = []
