"""The Django project: typed settings from environment variables (``env``, ``settings``),
the URL map that mounts every face (``urls``), the landing page, the WSGI entry points.
"""
