"""Reports: stored report definitions run over the CDRs (the old GUI's "Daily Report").

A definition (``models.ReportDefinition``) is a name (the Description the legacy
``reportSummary`` matches), a filter spec in the REST/GUI filter names of
``cdr.query.filterspec``, the metric sections it shows and an optional e-mail schedule.
``service`` computes every metric in the database (grouped queries through the query engine,
always under the caller's ``CdrScope``), ``chart`` draws the PNG, ``schedule`` and ``mail``
serve the ``send_reports`` command. Faces (api.php, the REST API) are thin adapters over it.

A domain service beside ``cdr.media``: it may import ``cdr.query`` and the core, never a face
or ``accounts``; only its entry points that act for a user (the admin and the ``send_reports``
command) ask the permission layer (pyproject.toml, the ``layers`` contract). docs/reports.md.
"""
