"""GUI page group: cdrs (see gui/__init__.py)."""
