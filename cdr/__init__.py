"""The sniffer's data and everything vmgui does with it, one sub-package per domain.

Layers (enforced by ``make lint``, contracts in ``.importlinter``; docs/architecture.md):

* core, here and in ``cdr.query``: the sniffer's tables as unmanaged models (``models``,
  ``fields``), real-column introspection (``schema``), sniffer-compatible DDL (``ddl``),
  sniffer-style bulk inserts (``bulk``), the sniffer's codec numbers (``codecnumbers``);
* ``cdr.query``: the CDR query engine (filter, row-level scope, rows);
* domain services: ``cdr.media`` (spool, pcaps, audio, graphs), ``cdr.siphistory`` (SIP
  messages and the ladder), ``cdr.sensors`` (manager protocol, sensor registry, simulator);
* ``cdr.demo``: demo data written exactly like the sniffer writes it.

Nothing in ``cdr`` imports a face (``api``, ``sharing``) or ``accounts``.
"""
