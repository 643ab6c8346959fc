"""vmgui.dbconv: MariaDB dates parsed in C give exactly the driver's own values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from MySQLdb.constants import FIELD_TYPE
from MySQLdb.times import Date_or_None, DateTime_or_None

from tests.conftest import plain_mysql_connection
from vmgui.dbconv import mysql_conversions

# What MySQL/MariaDB send for DATETIME/TIMESTAMP (0 to 6 fractional digits), and the texts
# the sniffer's tables can hold that are no real date (zero dates, zero month or day).
DATETIME_TEXTS = [
    "2026-10-02 12:00:00",
    "2026-10-02 12:00:00.5",
    "2026-10-02 12:00:00.12",
    "2026-10-02 12:00:00.000",
    "2026-10-02 12:00:00.1234",
    "2026-10-02 12:00:00.12345",
    "2026-10-02 23:59:59.999999",
    "0001-01-01 00:00:00",
    "0999-12-31 23:59:59",
    "9999-12-31 23:59:59.999999",
    "2024-02-29 00:00:00",
    "0000-00-00 00:00:00",
    "0000-00-00 00:00:00.000",
    "2026-00-10 00:00:00",
    "2026-10-00 00:00:00",
    "2025-02-29 00:00:00",
    "2026-10-02 24:00:00",
    "2026-10-02",
    "2026-10-02 12:00:00.1234567",
    "",
]
DATE_TEXTS = ["2026-10-02", "0001-01-01", "9999-12-31", "0000-00-00", "2026-00-00", "2025-02-29"]


@pytest.mark.parametrize("text", DATETIME_TEXTS)
def test_it_reads_a_datetime_text_as_the_driver_does(text):
    ours = mysql_conversions()[FIELD_TYPE.DATETIME](text)
    theirs = DateTime_or_None(text)
    assert (type(ours), ours) == (type(theirs), theirs)
    assert mysql_conversions()[FIELD_TYPE.TIMESTAMP](text) == theirs


@pytest.mark.parametrize("text", DATE_TEXTS)
def test_it_reads_a_date_text_as_the_driver_does(text):
    ours = mysql_conversions()[FIELD_TYPE.DATE](text)
    theirs = Date_or_None(text)
    assert (type(ours), ours) == (type(theirs), theirs)


def test_it_keeps_every_other_conversion_of_django():
    from django.db.backends.mysql.base import django_conversions

    ours = mysql_conversions()
    changed = {k for k in django_conversions if ours[k] is not django_conversions[k]}
    assert changed == {FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATE}


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # the plain connection reads committed rows
def test_the_connection_reads_stored_dates_as_a_plain_driver_connection_does():
    conv = connection.get_connection_params()["conv"]
    assert conv[FIELD_TYPE.DATETIME] is not DateTime_or_None, "vmgui.dbconv is not configured"
    plain = plain_mysql_connection()
    select = "SELECT a, b, c, d FROM dates ORDER BY n"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")  # zero dates, as old sniffers wrote them
            cursor.execute(
                "CREATE TABLE dates (n INT, a DATETIME, b DATETIME(3), c DATE, d TIMESTAMP NULL)"
            )
            cursor.execute(
                "INSERT INTO dates VALUES"
                " (1, '2026-10-02 12:00:00', '2026-10-02 12:00:00.125', '2026-10-02',"
                "  '2026-10-02 12:00:01'),"
                " (2, '0001-01-01 00:00:00', '9999-12-31 23:59:59.999', '9999-12-31', NULL),"
                " (3, '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00',"
                "  '0000-00-00 00:00:00')"
            )
            cursor.execute(select)
            ours = cursor.fetchall()
        cursor = plain.cursor()
        cursor.execute(select)
        assert ours == cursor.fetchall()
        assert ours[0] == (
            dt.datetime(2026, 10, 2, 12),
            dt.datetime(2026, 10, 2, 12, 0, 0, 125000),
            dt.date(2026, 10, 2),
            dt.datetime(2026, 10, 2, 12, 0, 1),
        )
        assert ours[2] == (None, None, None, None)
    finally:
        plain.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS dates")
