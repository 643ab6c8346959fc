"""The legacy PHP endpoints, one module per endpoint or task group.

* endpoints: ``api_php`` (/php/api.php: transports, auth, task dispatch), ``sql_php``
  (/php/model/sql.php; the admin.php deep link is a GUI page, gui.cdrs), ``pcap2text``
  (/php/pcap2text.php); ``tasks_media`` also serves /php/pcap.php and /php/wav.php.
* api.php task handlers: ``tasks_cdr`` (getVoipCalls, listCdrIds), ``tasks_media`` (getPCAP,
  getVoiceRecording, getAudioGraph), ``tasks_active`` (listActiveCalls, handleActiveCall).
* sql.php: ``sql_session`` (bypass_login, PHPSESSID), ``sql_filters`` (the GUI's filter
  parameters → ``CdrFilter``), ``sql_listing`` (LISTING, TOTAL, CDR_stats).
* shared legacy parameter parsing: ``params`` (fields from every transport, typed values;
  JSON/JavaScript-style object text is read by ``vmgui.jsobject``, shared with the GUI),
  ``dates`` (legacy date formats), ``concurrency`` (api.php's host-wide request cap).

May use: ``accounts`` (authentication, permissions, audit) and ``cdr`` services. Never
another face.
"""
