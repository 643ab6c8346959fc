"""URLs of the GUI page group reports."""

urlpatterns: list = []
