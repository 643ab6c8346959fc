"""GUI page group: active calls (see gui/__init__.py).

``/active/``: the live calls of every sensor the user's scope may see, per sensor (a sensor
that does not answer is named with the reason), refreshing itself; pause/unpause buttons
(``can_activecalls``); live listening (``can_listen_active_call``) through
``cdr.sensors.listening``. ``table`` builds the rows, ``views`` are the thin adapters.
User documentation: docs/active-calls.md.
"""
