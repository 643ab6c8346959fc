"""Call media services: a CDR id or Call-ID plus the caller's scope → files and byte streams.

Plain data in, plain data out (no HTTP here): faces (api.php, pcap.php, wav.php, later the GUI
and share links) turn these results into responses.

* Every CDR is looked up through the query engine (``cdr.query.engine.cdr_queryset``) with the
  caller's ``CdrScope``: a call outside the scope is "no such CDR", exactly like one that does
  not exist, so restricted users cannot reach other calls' media.
* Paths come only from database values (``cdr.media.spool``); nothing from a request is ever joined
  into a path.
* Everything streams or goes through unnamed temporary files: memory stays bounded whatever
  the size of a capture or the length of a call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import re
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from django.conf import settings

from cdr import schema
from cdr.flags import (
    FLAG_RTP_PAYLOAD,
    FLAG_RTP_PCAP,
    FLAG_SAVE_FLAGS_VALID,
    FLAG_SIP_PCAP,
    RTP_FLAG_CALLED,
    RTP_FLAG_CALLER,
)
from cdr.media.audio import (
    DecodedAudio,
    StreamHint,
    audio_file_blocks,
    audio_file_rate,
    decode_call,
    write_audio,
)
from cdr.media.audiograph import compute, parse_audiograph, render_png
from cdr.media.pcap import PcapReader, merge
from cdr.media.spool import (
    KIND_AUDIOGRAPH,
    KIND_RTP,
    KIND_SIP,
    CallRef,
    MediaError,
    MediaMissing,
    SpoolFile,
    SpoolLayout,
    locate,
    locate_audio,
)
from cdr.models import CdrNext, CdrRtp, CdrTarPart, Sensor
from cdr.query.engine import CdrFilter, cdr_queryset
from cdr.query.rows import rows_of_calls
from cdr.query.scope import CdrScope
from cdr.query.storedtext import display_value

__all__ = [
    "CallMedia",
    "MediaFile",
    "NoSuchCdr",
    "ZipEntry",
    "find_calls",
    "find_legs",
    "media_available",
    "pcap_stream",
    "recording",
    "zip_stream",
]

CONTENT_TYPES: Final = {
    "pcap": "application/vnd.tcpdump.pcap",
    "wav": "audio/x-wav",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "zip": "application/zip",
    "png": "image/png",
}


_DOWNLOAD_UNSAFE: Final = re.compile(r"[^A-Za-z0-9.@_-]")


class NoSuchCdr(MediaError):
    """The CDR does not exist, or the caller's scope does not include it (same answer)."""


@dataclass(frozen=True)
class CallMedia:
    """One CDR as the media layer needs it (all from the database)."""

    ref: CallRef
    calldate: dt.datetime  # aware
    duration: float | None
    connect_duration: float | None
    sipcallerip: str | None
    sipcalledip: str | None
    hints: tuple[StreamHint, ...] = ()

    @property
    def cdr_id(self) -> int:
        return self.ref.cdr_id

    @property
    def call_id(self) -> str:
        return self.ref.fbasename

    def start_us(self) -> int:
        return int(self.calldate.timestamp() * 1_000_000)

    def connect_offset(self) -> float | None:
        """Seconds from the call's start to its answer (None when not answered)."""
        if self.connect_duration is None or self.duration is None:
            return None
        return max(0.0, self.duration - self.connect_duration)

    def saved(self, bit: int) -> bool | None:
        """Whether the sniffer says it saved a file kind (None when it does not say)."""
        flags = self.ref.flags
        if flags is None or not flags & FLAG_SAVE_FLAGS_VALID:
            return None
        return bool(flags & bit)

    def download_name(self, ext: str) -> str:
        """A file name browsers save sensibly: ``<Call-ID, safe characters>.<ext>``."""
        base = _DOWNLOAD_UNSAFE.sub("_", self.ref.base)[:120] or f"cdr-{self.cdr_id}"
        return f"{base}.{ext}"


# ---------------------------------------------------------------------------
# Finding CDRs (through the query engine, with the caller's scope)
# ---------------------------------------------------------------------------

_CDR_COLUMNS = (
    "ID",
    "calldate",
    "duration",
    "connect_duration",
    "id_sensor",
    "flags",
    "sipcallerip",
    "sipcalledip",
)


def _wall_clock(value: dt.datetime) -> dt.datetime:
    """The sniffer's naive wall-clock time of an aware datetime (its directory time)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def _load(rows: list[dict]) -> list[CallMedia]:
    ids = [row["ID"] for row in rows]
    if not ids:
        return []
    calls = [(row["ID"], row["calldate"]) for row in rows]
    next_cols = ["cdr_id", "fbasename"]
    if schema.has_column("cdr_next", "spool_index"):
        next_cols.append("spool_index")
    nexts = {n["cdr_id"]: n for n in rows_of_calls(CdrNext, calls).values(*next_cols)}
    parts: dict[int, list[tuple[int, int]]] = {}
    if schema.has_table("cdr_tar_part"):
        for p in rows_of_calls(CdrTarPart, calls).values("cdr_id", "type", "pos"):
            parts.setdefault(p["cdr_id"], []).append((p["type"], p["pos"]))
    hints: dict[int, list[StreamHint]] = {}
    if schema.has_table("cdr_rtp"):
        cols = [c for c in ("saddr", "sport", "daddr", "dport", "ssrc", "flags")]
        cols = [c for c in cols if schema.has_column("cdr_rtp", c)]
        for r in rows_of_calls(CdrRtp, calls).values("cdr_id", *cols):
            flags = r.get("flags") or 0
            caller = True if flags & RTP_FLAG_CALLER else False if flags & RTP_FLAG_CALLED else None
            hints.setdefault(r["cdr_id"], []).append(
                StreamHint(
                    r.get("saddr"),
                    r.get("sport"),
                    r.get("daddr"),
                    r.get("dport"),
                    r.get("ssrc"),
                    caller,
                )
            )
    names: dict[int, str] = {}
    sensor_ids = {row["id_sensor"] for row in rows if row.get("id_sensor")}
    if sensor_ids and schema.has_table("sensors"):
        names = dict(
            Sensor.objects.filter(id_sensor__in=sensor_ids).values_list("id_sensor", "name")
        )
    out = []
    for row in rows:
        nxt = nexts.get(row["ID"], {})
        ref = CallRef(
            cdr_id=row["ID"],
            calldate=_wall_clock(row["calldate"]),
            # the Call-ID as sent (latin1 column holding UTF-8): names the spool files too
            fbasename=display_value("cdr_next", "fbasename", nxt.get("fbasename") or ""),
            id_sensor=row.get("id_sensor"),
            sensor_name=names.get(row.get("id_sensor")),
            spool_index=nxt.get("spool_index") or 0,
            tar_parts=tuple(sorted(parts.get(row["ID"], []), key=lambda p: (p[0], p[1]))),
            flags=row.get("flags"),
        )
        out.append(
            CallMedia(
                ref=ref,
                calldate=row["calldate"],
                duration=float(row["duration"]) if row.get("duration") is not None else None,
                connect_duration=float(row["connect_duration"])
                if row.get("connect_duration") is not None
                else None,
                sipcallerip=row.get("sipcallerip"),
                sipcalledip=row.get("sipcalledip"),
                hints=tuple(hints.get(row["ID"], [])),
            )
        )
    return out


def _columns() -> list[str]:
    info = schema.table_info("cdr")
    if info is None:
        raise MediaError("this database has no cdr table (run manage.py create_sniffer_schema)")
    return [c for c in _CDR_COLUMNS if info.has(c)]


def find_calls(cdr_ids: Sequence[int], scope: CdrScope) -> list[CallMedia]:
    """The CDRs ``cdr_ids`` in the given order; ``NoSuchCdr`` for one outside the scope."""
    wanted = list(dict.fromkeys(cdr_ids))
    qs = cdr_queryset(CdrFilter(cdr_ids=wanted), scope).values(*_columns())
    by_id = {c.cdr_id: c for c in _load(list(qs))}
    for cdr_id in wanted:
        if cdr_id not in by_id:
            raise NoSuchCdr(f"no such CDR: {cdr_id}")
    return [by_id[i] for i in wanted]


def find_legs(
    call_id: str,
    scope: CdrScope,
    *,
    interval_s: float = 60,
    around: dt.datetime | None = None,
) -> list[CallMedia]:
    """Every leg (CDR) with this exact Call-ID within ``interval_s`` seconds of the latest one.

    ``around`` (a date hint) limits the search to that day ± the interval; without it all
    dates are searched (cdr_next.fbasename is indexed). Legs come ordered by calldate.
    """
    if "%" in call_id:
        # The engine reads % as a wildcard; a download names one call exactly.
        raise NoSuchCdr("callId must be an exact Call-ID here (no % wildcards)")
    f = CdrFilter(call_ids=[call_id])
    if around is not None:
        f.date_from = around - dt.timedelta(seconds=interval_s)
        f.date_to = around + dt.timedelta(days=1, seconds=interval_s)
    rows = list(cdr_queryset(f, scope).order_by("calldate", "ID").values(*_columns())[:1000])
    if not rows:
        raise NoSuchCdr(f"no such CDR: no call with Call-ID {call_id[:120]!r}")
    latest = rows[-1]["calldate"]
    keep = [r for r in rows if (latest - r["calldate"]).total_seconds() <= interval_s]
    return _load(keep)


# ---------------------------------------------------------------------------
# PCAP
# ---------------------------------------------------------------------------


def _layout() -> SpoolLayout:
    return SpoolLayout.from_settings()


def pcap_files(call: CallMedia, *, rtp: bool = True) -> list[SpoolFile]:
    """The call's SIP (and RTP) pcaps present in the spool; ``MediaMissing`` when none."""
    layout = _layout()
    found = []
    for kind in (KIND_SIP, KIND_RTP) if rtp else (KIND_SIP,):
        f = locate(call.ref, kind, layout)
        if f is not None:
            found.append(f)
    if not found:
        saved = call.saved(FLAG_SIP_PCAP)
        why = (
            "the sniffer did not save a pcap for it"
            if saved is False
            else "it is not in the spool (removed by cleanspool, or never saved)"
        )
        raise MediaMissing(f"no pcap for CDR {call.cdr_id}: {why}")
    return found


def _dedupe(files: Iterable[SpoolFile]) -> list[SpoolFile]:
    """Merged legs share the main call's files (spool §6.6): read each file once."""
    seen: set[tuple] = set()
    out = []
    for f in files:
        key = (f.path, f.filename, f.positions)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def open_readers(files: Sequence[SpoolFile]) -> list[PcapReader]:
    """Open every pcap now (reads the headers), so a missing or broken file fails early.

    A file that turns out not to be in its tar is skipped, as long as one remains.
    """
    readers: list[PcapReader] = []
    missing: MediaMissing | None = None
    for f in files:
        try:
            readers.append(PcapReader(f.open(), f.describe()))
        except MediaMissing as exc:
            missing = exc
    if not readers:
        raise missing or MediaMissing("no pcap in the spool")
    return readers


def pcap_stream(calls: Sequence[CallMedia], *, rtp: bool = True) -> Iterator[bytes]:
    """One time-ordered classic pcap of the calls' SIP and RTP (headers read eagerly)."""
    files: list[SpoolFile] = []
    errors: list[MediaMissing] = []
    for call in calls:
        try:
            files.extend(pcap_files(call, rtp=rtp))
        except MediaMissing as exc:
            errors.append(exc)
    if not files:
        raise errors[0]
    readers = open_readers(_dedupe(files))
    return merge(readers)


# ---------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------


@dataclass
class MediaFile:
    """A finished file to send: an open binary file at offset 0 (closing it deletes a temp)."""

    file: BinaryIO
    size: int
    content_type: str
    filename: str
    source: str = ""  # "sniffer" (its own file served as is), "converted", "decoded"


def _tmp_dir() -> Path | None:
    directory = getattr(settings, "MEDIA_TMP_DIR", None)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        return Path(directory)
    return None


def _temp_file() -> BinaryIO:
    """An unnamed temporary file: it disappears when closed, even if the worker dies."""
    return tempfile.TemporaryFile(dir=_tmp_dir())


# A full (or over-quota) temporary directory: the answer names it instead of "internal error".
NO_SPACE_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@contextlib.contextmanager
def _temp_space() -> Iterator[None]:
    """Turn "no space left" while writing temporary files into a MediaError.

    Nothing half-written stays behind: the temporary files are unnamed and closed by the
    code that fails (their space is freed at once).
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE_ERRNOS:
            raise
        where = getattr(settings, "MEDIA_TMP_DIR", "") or tempfile.gettempdir()
        raise MediaError(
            f"no space left in the temporary directory to prepare the recording ({where}, "
            "VMGUI_MEDIA_TMP_DIR); try again later"
        ) from None


def _finish(out: BinaryIO, ext: str, name: str, source: str) -> MediaFile:
    size = out.tell()
    out.seek(0)
    return MediaFile(out, size, CONTENT_TYPES[ext], name, source)


def decode(call: CallMedia, *, after_connect: bool = False) -> DecodedAudio:
    """Decode the call's RTP pcap into stereo PCM (``MediaMissing`` without an RTP pcap)."""
    layout = _layout()
    rtp = locate(call.ref, KIND_RTP, layout)
    if rtp is None:
        if call.saved(FLAG_RTP_PCAP) is False:
            raise MediaMissing(f"no recording for CDR {call.cdr_id}: the sniffer saved no RTP")
        raise MediaMissing(
            f"no recording for CDR {call.cdr_id}: neither an audio file nor an RTP pcap is in "
            "the spool (removed by cleanspool, or never saved)"
        )
    if call.saved(FLAG_RTP_PCAP) and call.saved(FLAG_RTP_PAYLOAD) is False:
        raise MediaMissing(
            f"no recording for CDR {call.cdr_id}: the sniffer saved RTP headers only "
            "(savertp=header)"
        )
    sip = locate(call.ref, KIND_SIP, layout)
    connect = call.connect_offset()
    try:
        return decode_call(
            rtp.open,
            sip.open if sip is not None else None,
            start_us=call.start_us(),
            connect_us=call.start_us() + int(connect * 1_000_000) if connect is not None else None,
            caller_ip=call.sipcallerip,
            hints=call.hints,
            after_connect=after_connect,
            tmp_dir=_tmp_dir(),
        )
    except MediaMissing as exc:
        # e.g. the minute's RTP tar exists but this call has no member in it (a failed call)
        why = "the sniffer saved no RTP" if call.saved(FLAG_RTP_PCAP) is False else exc.reason
        raise MediaMissing(f"no recording for CDR {call.cdr_id}: {why}") from None


def recording(call: CallMedia, *, fmt: str = "wav", after_connect: bool = False) -> MediaFile:
    """The call's recording as ``wav`` or ``ogg``.

    The sniffer's own audio file is served as it is when it has the asked format; it is
    converted (or cut at the answer for ``after_connect``: the sniffer's file starts at the
    INVITE) otherwise. Without one, the RTP pcap is decoded (cdr.media.audio).
    """
    if fmt not in ("wav", "ogg"):
        raise ValueError(fmt)
    with _temp_space():
        return _recording(call, fmt, after_connect)


def _recording(call: CallMedia, fmt: str, after_connect: bool) -> MediaFile:
    name = call.download_name(fmt)
    own = locate_audio(call.ref, _layout())
    if own is not None:
        if own.suffix == f".{fmt}" and not after_connect:
            audio_file_rate(own)  # a damaged or empty file is an error, not a download
            fh = open(own, "rb")  # noqa: SIM115 - handed to the response, which closes it
            return MediaFile(fh, own.stat().st_size, CONTENT_TYPES[fmt], name, "sniffer")
        start = 0
        if after_connect:
            offset = call.connect_offset()
            if offset is None:
                raise MediaMissing(f"no recording for CDR {call.cdr_id}: the call was not answered")
            info = _audio_rate(own)
            start = int(round(offset * info))
        blocks, frames, rate = audio_file_blocks(own, start)
        out = _temp_file()
        try:
            write_audio(blocks, frames, rate, out, fmt)
        except BaseException:
            out.close()
            raise
        return _finish(out, fmt, name, "converted")
    audio = decode(call, after_connect=after_connect)
    out = _temp_file()
    try:
        write_audio(audio.blocks(), audio.frames, audio.rate, out, fmt)
    except BaseException:
        out.close()
        raise
    finally:
        audio.close()
    return _finish(out, fmt, name, "decoded")


def _audio_rate(path: Path) -> int:
    return audio_file_rate(path)


@dataclass(frozen=True)
class Availability:
    """What a page about the call can offer, judged from the spool and ``cdr.flags`` only
    (nothing is decoded): its SIP pcap, and a recording (``no_audio`` says why not)."""

    sip: bool
    audio: bool
    no_audio: str = ""


def media_available(call: CallMedia) -> Availability:
    """Whether the call's SIP pcap and a recording can be expected (cheap: files are located,
    not read). A file that turns out damaged still fails later, with its own reason."""
    layout = _layout()
    try:
        sip = locate(call.ref, KIND_SIP, layout) is not None
        if locate_audio(call.ref, layout) is not None:
            return Availability(sip, True)
        if call.saved(FLAG_RTP_PCAP) is False:
            return Availability(sip, False, "the sniffer saved no RTP for this call")
        if call.saved(FLAG_RTP_PCAP) and call.saved(FLAG_RTP_PAYLOAD) is False:
            return Availability(sip, False, "the sniffer saved RTP headers only (savertp=header)")
        if locate(call.ref, KIND_RTP, layout) is None:
            return Availability(
                sip,
                False,
                "neither an audio file nor an RTP pcap is in the spool (removed by cleanspool, "
                "or never saved)",
            )
    except MediaError as exc:  # e.g. a remote spool that cannot be asked
        return Availability(False, False, exc.reason)
    return Availability(sip, True)


# ---------------------------------------------------------------------------
# Audio graphs
# ---------------------------------------------------------------------------

MAX_AUDIOGRAPH_BYTES: Final = 32 << 20


def audio_graph(call: CallMedia, kind: str = "ALL", side: str | None = None) -> bytes:
    """PNG of the call's spectrogram (``S``), waveform (``P``) or both (``ALL``).

    ``side`` ``L`` = caller, ``R`` = called, None = both. From the sniffer's ``.audiograph``
    when it is in the spool, else computed from the recording (cdr.media.audiograph).
    """
    channels = {"L": [0], "R": [1], None: [0, 1]}[side]
    layout = _layout()
    stored = locate(call.ref, KIND_AUDIOGRAPH, layout)
    graphs = None
    if stored is not None:
        try:
            data = bytearray()
            for chunk in stored.chunks():
                data += chunk
                if len(data) > MAX_AUDIOGRAPH_BYTES:
                    raise MediaError("the sniffer's audiograph file is too large")
            graphs = parse_audiograph(bytes(data))
        except MediaMissing:
            graphs = None
    if graphs is None:
        spectrogram = kind in ("S", "ALL")
        own = locate_audio(call.ref, layout)
        if own is not None:
            blocks, frames, rate = audio_file_blocks(own)
            graphs = compute(blocks, frames, rate, spectrogram=spectrogram)
        else:
            with _temp_space():
                audio = decode(call)
            try:
                graphs = compute(audio.blocks(), audio.frames, audio.rate, spectrogram=spectrogram)
            finally:
                audio.close()
    return render_png(graphs, kind, channels)


# ---------------------------------------------------------------------------
# ZIP (streamed)
# ---------------------------------------------------------------------------


@dataclass
class ZipEntry:
    """One file of a streamed ZIP: its name and a function giving its bytes when written."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    compress: bool = True


class _Pipe:
    """A write-only, unseekable sink for zipfile: collects output for the generator to yield."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0
        self.held = 0  # bytes waiting to be yielded

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.pos += len(data)
        self.held += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        self.held = 0
        return out


def zip_stream(entries: Sequence[ZipEntry]) -> Iterator[bytes]:
    """A ZIP of ``entries`` produced piece by piece (zip64, data descriptors: no seeking).

    An entry whose content fails while streaming is dropped from the archive and named in a
    final ``errors.txt``: the HTTP status has already been sent by then.
    """
    pipe = _Pipe()
    errors: list[str] = []
    # compresslevel 1: a quick deflate pass already shrinks pcaps a lot; audio is stored.
    with zipfile.ZipFile(pipe, "w", allowZip64=True, compresslevel=1) as zf:  # type: ignore[arg-type]
        for entry in entries:
            # zf.open(name) takes the archive's current method and level for the new member
            zf.compression = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
            info = entry.name
            try:
                source = iter(entry.chunks())
                first = next(source, b"")
            except MediaError as exc:
                errors.append(f"{entry.name}: {exc.reason}")
                continue
            with zf.open(info, "w", force_zip64=True) as member:
                member.write(first)
                yield pipe.take()
                try:
                    for chunk in source:
                        member.write(chunk)
                        if pipe.held >= 1 << 20:  # hand on about a megabyte at a time
                            yield pipe.take()
                except MediaError as exc:
                    errors.append(f"{entry.name}: incomplete: {exc.reason}")
            yield pipe.take()
        if errors:
            zf.writestr("errors.txt", "\n".join(errors) + "\n")
    yield pipe.take()


def file_chunks(media: MediaFile, size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of a ``MediaFile``, closing it at the end."""
    try:
        while True:
            chunk = media.file.read(size)
            if not chunk:
                return
            yield chunk
    finally:
        media.file.close()


def ids_label(ids: Sequence[int]) -> str:
    """``6-7-8`` for a few ids, ``6-and-41-more`` for many (ZIP file names)."""
    if len(ids) <= 5:
        return "-".join(str(i) for i in ids)
    return f"{ids[0]}-and-{len(ids) - 1}-more"
