"""The CDR list's columns: what each shows (cell), exports (CSV) and sorts by.

A column turns one engine row (cdr.query.rows: raw columns + SIP response text, sensor name,
Call-ID, custom headers) into a ``Cell`` for the table and into values for the CSV export, so
the page and the export show the same columns. The user picks the visible ones (``columns=``
in the URL, remembered per user as the ``cdr_columns`` setting); custom headers the user may
see are columns too (``header.<Name>``). Sortable columns name their ``cdr.query.engine.SORTABLE``
key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts import preferences
from cdr.query.filterspec import HEADER_PREFIX
from cdr.query.rows import codec_name, scaled
from gui.templatetags.gui import loss_class, mos_class, sip_class, when

SETTING_KEY: Final = "cdr_columns"
# Always shown: the time cell is each row's link to the call page.
REQUIRED: Final = "time"


@dataclass(frozen=True)
class Cell:
    """One table cell: text (always: colour is never the only cue), optional second line,
    CSS class (a colour cue), link."""

    text: str
    sub: str = ""
    css: str = ""
    badge: bool = False
    href: str = ""
    title: str = ""


@dataclass(frozen=True)
class Context:
    """What cells need besides the row: the user's date format, link builders."""

    date_format: str
    call_url: Callable[[int], str]
    pcap_url: Callable[[int], str] | None = None


@dataclass(frozen=True)
class Column:
    """A column of the list and of its CSV export."""

    key: str
    label: str
    cell: Callable[[dict, Context], Cell]
    csv: Callable[[dict], Sequence[tuple[str, Any]]]
    sort: str | None = None  # the engine's sort name
    default: bool = False
    numeric: bool = False
    flag: str | None = None  # the permission this column needs (its controls are hidden)
    # a click on the heading sorts descending first (largest/newest/worst first)
    descending_first: bool = False


def td(column: Column, cell: Cell) -> SafeString:
    """One ``<td>`` (built here rather than in the template: a page of 200 rows has 2,400
    cells, and Python's string building is several times cheaper than template tags)."""
    attrs = ' class="num"' if column.numeric else ""
    if cell.title:
        attrs += format_html(' title="{}"', cell.title)
    if cell.href:
        body = format_html('<a href="{}">{}</a>', cell.href, cell.text)
    elif cell.badge:
        body = format_html('<span class="badge {}">{}</span>', cell.css, cell.text)
    elif cell.css:
        body = format_html('<span class="{}">{}</span>', cell.css, cell.text)
    else:
        body = escape(cell.text)
    if cell.sub:
        body += format_html('<br><span class="muted sub">{}</span>', cell.sub)
    return mark_safe(f"<td{attrs}>{body}</td>")  # every part is escaped above


def _num(value: Any) -> float | int | None:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def clock(seconds: Any) -> str:
    """Seconds as m:ss (h:mm:ss from an hour on); empty for NULL."""
    if seconds is None:
        return ""
    total = int(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_iso(value: Any) -> str:
    """A time for the CSV: ISO-like wall clock of the user's zone (the header names the zone)."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _address(ip: Any, port: Any) -> str:
    if not ip:
        return ""
    text = str(ip)
    if not port:
        return text
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def sip_text(row: dict) -> str:
    """The last SIP response as "486 Busy Here" (the code alone when no text is stored)."""
    code = row.get("lastSIPresponseNum")
    text = (row.get("lastSIPresponse") or "").strip()
    if code is None:
        return text
    if not text:
        return str(code)
    return text if text.startswith(str(code)) else f"{code} {text}"


def codec_names(row: dict) -> str:
    """The call's codecs by name (each side; the same codec once)."""
    names: list[str] = []
    for key in ("a_payload", "b_payload", "payload"):
        number = row.get(key)
        if number is None or number < 0:
            continue
        name = codec_name(number) or f"codec {number}"
        if name not in names:
            names.append(name)
    return " / ".join(names)


def mos_value(row: dict) -> float | None:
    """The call's MOS: the worse side's (``mos_min_mult10``), as 4.1."""
    return scaled(row.get("mos_min_mult10"), 10)


def loss_value(row: dict) -> float | None:
    """The call's packet loss in percent: the worse side's (``packet_loss_perc_mult1000``)."""
    return scaled(row.get("packet_loss_perc_mult1000"), 1000)


def _time_cell(row: dict, ctx: Context) -> Cell:
    return Cell(when(row.get("calldate"), ctx.date_format), href=ctx.call_url(row["ID"]))


def _party(side: str) -> Callable[[dict, Context], Cell]:
    def cell(row: dict, ctx: Context) -> Cell:
        domain = row.get(f"{side}_domain") or ""
        return Cell(str(row.get(side) or ""), sub=f"@{domain}" if domain else "")

    return cell


def _duration(key: str) -> Callable[[dict, Context], Cell]:
    def cell(row: dict, ctx: Context) -> Cell:
        value = row.get(key)
        if value is None:
            return Cell("–", title="not answered" if key == "connect_duration" else "")
        return Cell(clock(value), title=f"{_num(value)} s")

    return cell


def _sip_cell(row: dict, ctx: Context) -> Cell:
    return Cell(sip_text(row), css=sip_class(row.get("lastSIPresponseNum")))


def _mos_cell(row: dict, ctx: Context) -> Cell:
    value = mos_value(row)
    if value is None:
        return Cell("–", title="no voice quality measured")
    return Cell(f"{value:.1f}", css=mos_class(value), badge=True, title="MOS (worse side)")


def _loss_cell(row: dict, ctx: Context) -> Cell:
    value = loss_value(row)
    if value is None:
        return Cell("–", title="no voice quality measured")
    return Cell(
        f"{value:.1f} %", css=loss_class(value), badge=True, title="packet loss (worse side)"
    )


def _sensor_cell(row: dict, ctx: Context) -> Cell:
    name, number = row.get("sensorname"), row.get("id_sensor")
    if number is None:
        return Cell("–", title="no sensor id")
    return Cell(str(name or f"#{number}"), title=f"sensor id {number}")


def _ip(side: str) -> Callable[[dict, Context], Cell]:
    def cell(row: dict, ctx: Context) -> Cell:
        return Cell(_address(row.get(f"sip{side}ip"), row.get(f"sip{side}port")))

    return cell


def _plain(key: str) -> Callable[[dict, Context], Cell]:
    def cell(row: dict, ctx: Context) -> Cell:
        value = row.get(key)
        return Cell("" if value is None else str(_num(value)))

    return cell


def _ua_cell(row: dict, ctx: Context) -> Cell:
    return Cell(str(row.get("a_ua") or ""), sub=str(row.get("b_ua") or ""))


def _pcap_cell(row: dict, ctx: Context) -> Cell:
    return Cell("PCAP", href=ctx.pcap_url(row["ID"]) if ctx.pcap_url else "")


def _csv(*pairs: tuple[str, Callable[[dict], Any]]) -> Callable[[dict], list[tuple[str, Any]]]:
    def values(row: dict) -> list[tuple[str, Any]]:
        return [(label, fn(row)) for label, fn in pairs]

    return values


def _get(key: str) -> Callable[[dict], Any]:
    return lambda row: _num(row.get(key))


COLUMNS: Final[tuple[Column, ...]] = (
    Column("time", "Time", _time_cell, _csv(("Time", lambda r: local_iso(r.get("calldate")))),
           "calldate", default=True, descending_first=True),
    Column("caller", "Caller", _party("caller"),
           _csv(("Caller", _get("caller")), ("Caller domain", _get("caller_domain"))),
           "caller", default=True),
    Column("called", "Called", _party("called"),
           _csv(("Called", _get("called")), ("Called domain", _get("called_domain"))),
           "called", default=True),
    Column("duration", "Duration", _duration("duration"),
           _csv(("Duration (s)", _get("duration"))), "duration", default=True, numeric=True,
           descending_first=True),
    Column("connect_duration", "Connected", _duration("connect_duration"),
           _csv(("Connected (s)", _get("connect_duration"))), "connect_duration",
           default=True, numeric=True, descending_first=True),
    Column("sip", "Last SIP response", _sip_cell,
           _csv(("SIP code", _get("lastSIPresponseNum")),
                ("SIP response", lambda r: (r.get("lastSIPresponse") or ""))),
           "lastSIPresponseNum", default=True),
    Column("codec", "Codecs", lambda r, c: Cell(codec_names(r)), _csv(("Codecs", codec_names)),
           default=True),
    Column("mos", "MOS", _mos_cell, _csv(("MOS", mos_value)), "mos_min", default=True,
           numeric=True),
    Column("loss", "Loss", _loss_cell, _csv(("Loss (%)", loss_value)), "packet_loss_perc",
           default=True, numeric=True, descending_first=True),
    Column("sensor", "Sensor", _sensor_cell,
           _csv(("Sensor", lambda r: r.get("sensorname") or ""), ("Sensor id", _get("id_sensor"))),
           "id_sensor", default=True),
    Column("caller_ip", "Caller IP", _ip("caller"),
           _csv(("Caller IP", _get("sipcallerip")), ("Caller port", _get("sipcallerport"))),
           "sipcallerip", default=True),
    Column("called_ip", "Called IP", _ip("called"),
           _csv(("Called IP", _get("sipcalledip")), ("Called port", _get("sipcalledport"))),
           "sipcalledip", default=True),
    # offered in the column chooser
    Column("id", "CDR id", _plain("ID"), _csv(("CDR id", _get("ID"))), "ID", numeric=True,
           descending_first=True),
    Column("callend", "Ended", lambda r, c: Cell(when(r.get("callend"), c.date_format)),
           _csv(("Ended", lambda r: local_iso(r.get("callend")))), "callend", descending_first=True),
    Column("caller_name", "Caller name", _plain("callername"),
           _csv(("Caller name", _get("callername"))), "callername"),
    Column("call_id", "Call-ID", _plain("fbasename"), _csv(("Call-ID", _get("fbasename")))),
    Column("pdd", "PDD", _duration("progress_time"), _csv(("PDD (s)", _get("progress_time"))),
           "progress_time", numeric=True, descending_first=True),
    Column("whohanged", "Hung up by", _plain("whohanged"),
           _csv(("Hung up by", _get("whohanged"))), "whohanged"),
    Column("ua", "User agents", _ua_cell,
           _csv(("Caller user agent", _get("a_ua")), ("Called user agent", _get("b_ua")))),
    Column("vlan", "VLAN", _plain("vlan"), _csv(("VLAN", _get("vlan"))), "vlan", numeric=True),
    Column("pcap", "PCAP", _pcap_cell, _csv(), flag="can_pcap"),
)  # fmt: skip
BY_KEY: Final[dict[str, Column]] = {c.key: c for c in COLUMNS}
DEFAULT_KEYS: Final[tuple[str, ...]] = tuple(c.key for c in COLUMNS if c.default)


def header_column(name: str) -> Column:
    """The column of a custom header (its value from the row's ``custom_headers``)."""

    def value(row: dict) -> str:
        return str((row.get("custom_headers") or {}).get(name) or "")

    return Column(
        f"{HEADER_PREFIX}{name}",
        name,
        lambda row, ctx: Cell(value(row)),
        _csv((name, value)),
    )


def offered(headers: Sequence[str], may: Callable[[str], bool], pcap: bool) -> list[Column]:
    """Every column this user may choose: the built-in ones whose flag they hold (and whose
    page exists: ``pcap``), then one per visible custom header."""
    out = []
    for column in COLUMNS:
        if column.flag is not None and not may(column.flag):
            continue
        if column.key == "pcap" and not pcap:
            continue
        out.append(column)
    return out + [header_column(h) for h in headers]


def split_keys(values: Sequence[str]) -> list[str]:
    """``columns`` values (repeated and/or comma lists) → keys, in order, each once.

    Custom header names cannot hold a comma (SIP header names are tokens), so a comma always
    separates columns.
    """
    keys: list[str] = []
    for value in values:
        for key in value.split(","):
            key = key.strip()
            if key and key not in keys:
                keys.append(key)
    return keys[:200]


def choose(keys: Sequence[str], available: Sequence[Column]) -> list[Column]:
    """The columns named by ``keys`` that this user may see, in the catalogue's order; the
    required time column always. Unknown keys (a header the user may not see, a column of a
    newer version) are left out quietly, like a header that does not exist."""
    wanted = set(keys) | {REQUIRED}
    return [c for c in available if c.key in wanted]


def stored_keys(user) -> list[str] | None:
    """The user's remembered choice (None: never chose)."""
    value = preferences.user_setting(user, SETTING_KEY)
    if isinstance(value, list) and all(isinstance(k, str) for k in value):
        return list(value)
    return None


def remember(user, columns: Sequence[Column]) -> None:
    """Store the choice when it changed (a page view with the same columns writes nothing)."""
    keys = [c.key for c in columns]
    if stored_keys(user) != keys:
        preferences.save_user_setting(user, SETTING_KEY, keys)
