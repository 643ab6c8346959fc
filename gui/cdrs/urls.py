"""URLs of the GUI page group cdrs."""

urlpatterns: list = []
