"""Demo data written exactly like the sniffer writes it: CDR rows (``dataset``), real pcaps
with RTP audio (``pcapgen``, ``signals``) and the spool layout with tars and WAVs
(``spoolwriter``). Used by ``manage.py demo``, the tests and the benchmarks.

May use: ``cdr`` core, ``cdr.query``, ``cdr.media``. Never accounts or a face.
"""
