"""GUI page group: one call (``/calls/<id>/``): summary, SIP ladder with the messages, RTP
streams, audio player with waveform and spectrogram, PCAP/WAV/OGG downloads, share dialog.

``summary`` gathers the page's plain data from the services (with the user's scope),
``views`` are the thin HTTP views (one flag each), ``forms`` the share form. docs/gui-calls.md.
"""
