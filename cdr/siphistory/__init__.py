"""SIP history of a call (pcap2text.php, the GUI's call detail).

* ``extract``: SIP messages from the call's pcaps (UDP, TCP reassembly, IP fragments), RTP
  streams and DTMF → a ``CallFlow`` of plain data.
* ``msc``: the ladder (message sequence chart) of a ``CallFlow`` as SVG and PNG.

May use: ``cdr`` core, ``cdr.query``, ``cdr.media``. Never sensors, accounts or a face.
"""
