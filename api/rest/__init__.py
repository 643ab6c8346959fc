"""REST API v1 (``/api/v1/``): a face for new integrations, documented by OpenAPI.

* ``models``/``tokens``: API tokens (only a hash stored, shown once, expiry, read-only or
  write, allowed client IPs, revocable); ``authentication``: bearer tokens and the GUI session.
* ``filters``: the CDR filter query parameters, read from the one filter declaration of the
  query engine (``cdr.query.filterspec``) that the legacy faces translate too.
* ``views/``: one module per resource (CDRs and their media, SIP history, sensors, active
  calls, audit log, users and groups, tokens); ``problems``: errors as problem JSON.

Thin adapter: parameters → ``cdr`` / ``accounts`` services → JSON, CSV or files. May use
``accounts`` and ``cdr``; never another face (``api.legacy``, ``sharing``).
"""
