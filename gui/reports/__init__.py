"""GUI page group: reports (list, run over a period as chart and tables, define) and the audit
log (see gui/__init__.py; docs/gui-reports.md).

- ``views``: the report pages; ``forms``: the definition form (filters from
  ``cdr.query.filterspec``, checked by ``cdr.reports.spec``); ``period``: the days a report
  runs over, in the user's zone; ``present``: figures as tiles, tables and SVG bar charts.
- ``audit``: ``/audit/`` (``can_audit``), over ``accounts.audit.search``.
"""
