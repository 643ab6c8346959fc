"""The operator GUI: server-rendered pages over the same services as every other face.

One sub-package per page group, each a face (thin views over services that return plain data):

- ``gui.cdrs``: the CDR list (filters from ``cdr.query.filterspec``), CSV, the /admin.php deep link
- ``gui.calls``: one call: summary, SIP ladder, RTP streams, audio, downloads, share dialog
- ``gui.active``: active calls per sensor, pause/unpause, live listening
- ``gui.reports``: reports (list, define, chart/table) and the audit log
- ``gui.access``, ``gui.context``, ``gui.preferences``: sign-in/permission checks, the page
  frame (navigation by permission flag), the user's time zone and date format

May use: ``accounts`` (permissions, preferences, audit), ``sharing.service``, every ``cdr``
service, ``vmgui.responses``. Never another face (``api``, ``sharing.pages``, ``monitoring``).
No asset comes from a CDN: CSS and JS are in ``gui/static/gui/``.
"""
