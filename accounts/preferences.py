"""Per-user display preferences of the browser GUI: time zone and date format.

Stored as ``UserSetting`` rows (keys ``time_zone`` and ``date_format``), keyed by the user like
every per-user setting. The GUI shows every time in the user's zone and format; the legacy
faces and the REST API keep their documented formats (the sniffer's zone, ISO 8601).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import UserSetting

TIME_ZONE_KEY: Final = "time_zone"
DATE_FORMAT_KEY: Final = "date_format"

# Django date-format strings (the ``date`` filter) → what the user sees in the choice list.
DATE_FORMATS: Final[dict[str, str]] = {
    "Y-m-d H:i:s": "2026-11-26 14:05:09 (ISO)",
    "d.m.Y H:i:s": "26.11.2026 14:05:09",
    "d/m/Y H:i:s": "26/11/2026 14:05:09",
    "m/d/Y h:i:s A": "11/26/2026 02:05:09 PM",
}
DEFAULT_DATE_FORMAT: Final = "Y-m-d H:i:s"


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the choice list)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@dataclass(frozen=True)
class Preferences:
    """What the GUI needs to show a time to one user."""

    time_zone: str
    date_format: str

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def date_only_format(self) -> str:
        return self.date_format.split(" ", 1)[0]


def defaults() -> Preferences:
    """The sniffer's zone (VMGUI_TIME_ZONE) and ISO dates: what a user sees until they choose."""
    return Preferences(settings.TIME_ZONE, DEFAULT_DATE_FORMAT)


def preferences_of(user) -> Preferences:
    """The user's preferences (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return defaults()
    cached = getattr(user, "_vm_preferences", None)
    if cached is not None:
        return cached
    base = defaults()
    values = dict(
        UserSetting.objects.filter(user=user, key__in=(TIME_ZONE_KEY, DATE_FORMAT_KEY)).values_list(
            "key", "value"
        )
    )
    zone = values.get(TIME_ZONE_KEY)
    fmt = values.get(DATE_FORMAT_KEY)
    # A stored value that is no longer valid (zone removed from tzdata) falls back quietly.
    prefs = Preferences(
        zone if isinstance(zone, str) and zone in time_zones() else base.time_zone,
        fmt if isinstance(fmt, str) and fmt in DATE_FORMATS else base.date_format,
    )
    user._vm_preferences = prefs
    return prefs


def check_time_zone(name: str) -> str:
    if name not in time_zones():
        raise ValidationError(f"{name[:60]!r} is not a time zone name (e.g. Europe/Prague)")
    return name


def check_date_format(fmt: str) -> str:
    if fmt not in DATE_FORMATS:
        raise ValidationError(f"{fmt[:60]!r} is not one of the offered date formats")
    return fmt


def save_preferences(user, *, time_zone: str, date_format: str) -> Preferences:
    """Validate and store both preferences (ValidationError names the bad one)."""
    check_time_zone(time_zone)
    check_date_format(date_format)
    for key, value in ((TIME_ZONE_KEY, time_zone), (DATE_FORMAT_KEY, date_format)):
        UserSetting.objects.update_or_create(user=user, key=key, defaults={"value": value})
    prefs = Preferences(time_zone, date_format)
    user._vm_preferences = prefs
    return prefs


def user_setting(user, key: str, default=None):
    """Another per-user setting (a GUI page's remembered choice, e.g. ``cdr_columns``)."""
    found = UserSetting.objects.filter(user=user, key=key).values_list("value", flat=True).first()
    return default if found is None else found


def save_user_setting(user, key: str, value) -> None:
    """Store a per-user setting (a JSON value) under ``key``."""
    UserSetting.objects.update_or_create(user=user, key=key, defaults={"value": value})
