"""The ``/metrics`` face: vmgui's call statistics and own health in the Prometheus text format.

A face like ``api.legacy``: it reads the sniffer's data through the CDR query engine
(``cdr.query.engine.call_stats``) and the sensors' manager ports (``cdr.sensors.registry``),
and vmgui's own counters from ``cdr.telemetry``; it never imports another face. Modules:
``views`` (the endpoint and its protection), ``collect`` (the scrape-time snapshot, its
cross-process cache and the Prometheus collector), ``middleware`` (api.php / sql.php request
counting). Operator documentation: docs/monitoring.md.
"""
