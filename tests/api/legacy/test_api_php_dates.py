"""Request dates in every form clients send; response dates as YYYY-MM-DD HH:MM:SS."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings

from api.legacy.dates import (
    DateParamError,
    format_datetime,
    format_datetimes,
    parse_datetime_param,
)

UTC = dt.UTC
PRAGUE = zoneinfo.ZoneInfo("Europe/Prague")


def parse(value, **kwargs) -> dt.datetime:
    return parse_datetime_param(value, "params.startTime", **kwargs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", dt.datetime(2024, 1, 1)),
        ("2024-01-01 10:00:00", dt.datetime(2024, 1, 1, 10)),
        ("2024-01-01T10:00:00", dt.datetime(2024, 1, 1, 10)),
        ("2024-01-01T10:00", dt.datetime(2024, 1, 1, 10)),
        ("2024-1-2 3:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-01 10:00:00.631", dt.datetime(2024, 1, 1, 10, 0, 0, 631000)),
        ("2024-01-01T10:00:00.123456789", dt.datetime(2024, 1, 1, 10, 0, 0, 123456)),
        ("  2024-01-01 10:00:00  ", dt.datetime(2024, 1, 1, 10)),
        ("7/27/2026 12:00:00 PM", dt.datetime(2026, 7, 27, 12)),
        ("7/27/2026 12:00:00 AM", dt.datetime(2026, 7, 27, 0)),
        ("7/27/2026 1:05:00 pm", dt.datetime(2026, 7, 27, 13, 5)),
        ("7/27/2026 13:05", dt.datetime(2026, 7, 27, 13, 5)),
        ("7/27/2026", dt.datetime(2026, 7, 27)),
        ("27/7/2026 10:00:00", dt.datetime(2026, 7, 27, 10)),
        ("27.7.2026 10:00:00", dt.datetime(2026, 7, 27, 10)),
        ("20240101", dt.datetime(2024, 1, 1)),
        ("20240101103000", dt.datetime(2024, 1, 1, 10, 30)),
    ],
)
def test_it_reads_naive_forms_as_wall_clock_in_the_sniffer_zone(text, expected):
    assert parse(text) == expected.replace(tzinfo=UTC)


@override_settings(TIME_ZONE="Europe/Prague")
def test_naive_values_are_in_settings_time_zone():
    value = parse("2026-07-27 12:00:00")
    assert value.tzinfo is not None
    assert value == dt.datetime(2026, 7, 27, 12, tzinfo=PRAGUE)
    assert value.astimezone(UTC).hour == 10


@override_settings(TIME_ZONE="Europe/Prague")
@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-07-27T10:00:00Z", dt.datetime(2026, 7, 27, 10)),
        ("2026-07-27T10:00:00.5Z", dt.datetime(2026, 7, 27, 10, 0, 0, 500000)),
        ("2026-07-27T12:00:00+02:00", dt.datetime(2026, 7, 27, 10)),
        ("2026-07-27T05:00:00-0500", dt.datetime(2026, 7, 27, 10)),
        ("2026-07-27 10:00:00 UTC", dt.datetime(2026, 7, 27, 10)),
        ("2026-07-27T12:00:00 02:00", dt.datetime(2026, 7, 27, 10)),
    ],
)
def test_zoned_values_are_converted_to_the_sniffer_zone(text, utc):
    value = parse(text)
    assert value == utc.replace(tzinfo=UTC)
    assert value.utcoffset() == dt.timedelta(hours=2)  # expressed in Europe/Prague (CEST)


def test_epoch_seconds_and_milliseconds_are_accepted():
    assert parse(1785148800) == dt.datetime(2026, 7, 27, 10, 40, tzinfo=UTC)
    assert parse("1785148800000") == dt.datetime(2026, 7, 27, 10, 40, tzinfo=UTC)


def test_end_of_day_extends_a_date_without_time():
    assert parse("2024-01-31", end_of_day=True) == dt.datetime(
        2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert parse("2024-01-31 10:00", end_of_day=True) == dt.datetime(2024, 1, 31, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01",
        "2024-02-30",
        "2024-01-01 25:00",
        "7/27/2026 13:00 PM",
        "2024-01-01T10:00:00+25:00",
        "12345",
        "",
        "   ",
        None,
        True,
        ["2024-01-01"],
        {"date": "2024-01-01"},
    ],
)
def test_garbage_is_refused_naming_the_parameter(value):
    with pytest.raises(DateParamError) as info:
        parse(value)
    assert str(info.value).startswith("params.startTime: ")


def test_format_datetime_gives_seconds_in_the_sniffer_zone():
    value = dt.datetime(2026, 11, 27, 4, 3, 38, 631000, tzinfo=UTC)
    assert format_datetime(value) == "2026-11-27 04:03:38"
    assert format_datetime(None) is None


@override_settings(TIME_ZONE="Europe/Prague")
def test_format_datetime_converts_to_settings_time_zone():
    value = dt.datetime(2026, 11, 27, 4, 3, 38, tzinfo=UTC)
    assert format_datetime(value) == "2026-11-27 05:03:38"
    assert format_datetime(dt.datetime(2026, 11, 27, 4, 3, 38)) == "2026-11-27 04:03:38"


@pytest.mark.parametrize("zone", ["UTC", "Europe/Prague", "America/St_Johns", "Asia/Tokyo"])
def test_a_column_of_dates_is_written_as_each_date_alone(zone):
    """format_datetimes writes a page's dates from cached day and minute texts: every value
    must come out as format_datetime writes it (DST folds and gaps, other zones, naive
    values, fractions, years before 1000, None)."""
    tz = zoneinfo.ZoneInfo(zone)
    base = dt.datetime(2026, 3, 28, 20, 0, 7, 999999)
    values = [base + dt.timedelta(minutes=37 * n, seconds=n) for n in range(600)]  # DST start
    values += [dt.datetime(2026, 10, 25, 0, 30) + dt.timedelta(minutes=10 * n) for n in range(30)]
    column = [
        *values,  # naive: the sniffer's zone
        *(v.replace(tzinfo=tz) for v in values),
        *(v.replace(tzinfo=UTC) for v in values),
        *(v.replace(tzinfo=PRAGUE, fold=1) for v in values),
        None,
        dt.datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(1000, 1, 1, 0, 0, 0),
        dt.datetime(9999, 12, 31, 23, 59, 59),
    ]
    with override_settings(TIME_ZONE=zone):
        got = format_datetimes(column)
        assert got == [format_datetime(v) for v in column]
    assert got[0] == "2026-03-28 20:00:07"
