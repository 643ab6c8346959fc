"""Sensors and their manager port (active calls, pausing, remote spool files).

* ``manager``: the sniffer's manager protocol client (plain, gzip, AES-CBC) and its parsers:
  every manager command vmgui sends lives here.
* ``registry``: the ``sensors`` table, the caller's sensor scope, the parallel fan-out over
  sensors, remote spool files (registered into ``cdr.media.spool`` at start-up).
* ``listening``: live listening to active calls (bounded, idle-stopped listen sessions over
  ``listen``/``readaudio``/``listen_stop``).
* ``simulator``: a TCP sniffer-manager stand-in for tests and the demo.

May use: ``cdr`` core, ``cdr.query`` (scope), ``cdr.media`` (spool file names). Never SIP
history, accounts or a face.
"""
