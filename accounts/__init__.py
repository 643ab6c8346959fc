"""Users, groups and what they may do: the one permission layer every face asks.

* ``models``, ``flags``, ``restrictions``: groups and per-user overrides of the old GUI's
  flags (``can_*``) and row restrictions (sensors, IP/CIDR, numbers, domains, ...), with
  the parsers of the restriction lists admins paste.
* ``permissions``: ``effective(user)`` → flags + ``CdrScope`` (the rules, in one place).
* ``services``: authentication for the legacy faces, ``scope_for``; ``backends``,
  ``middleware``, ``throttle``: login, blocked users, failed-login throttling; ``audit``.
* pages: ``views`` (/logout; the audit log page is the GUI's, ``gui.reports.audit``),
  ``admin`` (the Django admin), ``urls``.

May use: ``cdr.query`` (``CdrScope``). Never a face (``api``, ``sharing``); no service
imports the pages.
"""
