"""GUI page group: active (see gui/__init__.py)."""
