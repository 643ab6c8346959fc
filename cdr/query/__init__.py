"""The CDR query engine: the one filter/query layer every face goes through.

* ``engine``: ``CdrFilter`` (what a face asks) → ``cdr_queryset`` / ``fetch_rows`` /
  ``iter_rows``, counts and groupings; always ANDed with the caller's scope.
* ``scope``: ``CdrScope`` and ``scope_q``, the one place row restrictions become SQL.
* ``patterns``, ``ipfilter``, ``customheaders``: the building blocks of a filter (number
  and domain patterns, IP/CIDR per column encoding, fixed and dynamic custom headers).
* ``rows``: batched enrichment of a page and the display conversions.

May use: ``cdr`` core (models, fields, schema, codecnumbers). Never media, SIP history,
sensors, accounts or a face.
"""
