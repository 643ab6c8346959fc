"""How MySQL's date and time texts become Python values on vmgui's MariaDB connections.

mysqlclient converts each DATETIME, TIMESTAMP and DATE value with a Python function
(``MySQLdb.times.DateTime_or_None`` slices the text and calls ``int`` seven times: ~1.6 µs a
value). A page of CDRs has two datetimes a row (calldate, callend), so on a 10,000-row
getVoipCalls page the driver alone spent ~3 µs of each row's cost there (issue 19,
docs/benchmarks.md). ``datetime.fromisoformat`` parses the same text in C (~0.1 µs).

The values are the same: MySQL always sends ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (and
``YYYY-MM-DD`` for DATE), which both read alike; any text ``fromisoformat`` refuses (a zero
date ``0000-00-00 00:00:00`` the sniffer's tables may hold, a zero month or day) goes to the
driver's own function, which answers None for it as before. tests/vmgui/test_dbconv.py checks
both on every form, and on a real MariaDB.

Everything else is Django's own conversion table (``django_conversions``), unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def mysql_conversions() -> dict[Any, Any]:
    """Django's MySQL conversion table with C parsing of DATETIME, TIMESTAMP and DATE
    (the ``conv`` connection option)."""
    # Imported here: settings build this before Django is set up, and only MySQL needs it.
    from django.db.backends.mysql.base import django_conversions
    from MySQLdb.constants import FIELD_TYPE
    from MySQLdb.times import Date_or_None, DateTime_or_None

    parse_datetime, parse_date = dt.datetime.fromisoformat, dt.date.fromisoformat

    def datetime_or_none(text: str) -> dt.datetime | dt.date | None:
        # MySQL's longest is 26 characters (6 fractional digits); the driver's function answers
        # a date for a text of 10 or fewer, and None for more than 6 digits
        if 10 < len(text) <= 26:
            try:
                return parse_datetime(text)
            except ValueError:
                pass
        return DateTime_or_None(text)

    def date_or_none(text: str) -> dt.date | None:
        try:
            return parse_date(text)
        except ValueError:
            return Date_or_None(text)

    return {
        **django_conversions,
        FIELD_TYPE.DATETIME: datetime_or_none,
        FIELD_TYPE.TIMESTAMP: datetime_or_none,
        FIELD_TYPE.DATE: date_or_none,
    }
