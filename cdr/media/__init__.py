"""Call media: the sniffer's spool, pcaps, audio and audio graphs.

* ``spool``: find and read a call's files in every storage form the sniffer writes (plain,
  per-minute tars, compressed members, ``cdr_tar_part`` offsets, secondary/per-type spools).
* ``pcap``: stream pcaps, merge legs in time order, the link-layer decoder.
* ``codecs``: G.711 tables, codec sample rates, the WAV header; ``audio``: RTP → PCM → WAV/OGG.
* ``audiograph``: the sniffer's ``.graph`` files and the PNG waveform/spectrogram.
* ``service``: the call-media service faces use: CDR id or Call-ID + the caller's scope →
  files and byte streams (through ``cdr.query``).

May use: ``cdr`` core and ``cdr.query``. Never sensors, SIP history, accounts or a face. A
call's file kept only on its sensor is fetched through a locator that ``cdr.sensors``
registers here at start-up (``spool.register_remote_locator``), so media never imports sensors.
"""
