"""GUI page group: reports (see gui/__init__.py)."""
