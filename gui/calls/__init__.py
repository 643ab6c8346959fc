"""GUI page group: calls (see gui/__init__.py)."""
