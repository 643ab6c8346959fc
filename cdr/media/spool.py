"""Locate and read one call's spool files exactly as the VoIPmonitor sniffer stores them.

Facts (shared/reference/sniffer-spool.md, sniffer 2026.04.0):

* ``<root>/[<sensor>/]YYYY-MM-DD/HH/MM/<TYPE>/`` keyed on the call's *start* (``cdr.calldate``
  wall clock); ``<root>`` = the primary spool, or the secondary one when
  ``cdr_next.spool_index = 1``.
* Base name = ``cdr_next.fbasename`` (the raw Call-ID) with every character outside
  ``[A-Za-z0-9:-.@]`` replaced by ``_`` (truncated to 255). The database holds the raw value, so
  the sanitising is ours; it is also what makes a path out of database text safe (no ``/``, no
  ``..`` component can survive it).
* Plain files ``<TYPE>/<base>.pcap`` or per-minute tars ``<type>_[<sensor>_]<date>-HH-MM.tar``
  (+ ``.zst``/``.gz``/``.xz``; rotated ``.1`` … ``.99`` after a restart). One file may be split
  into several members ``<name>#<n>`` (final one unsuffixed); long names are hashed;
  ``cdr_tar_part`` rows give member offsets in uncompressed tars. A tar still being written
  has no end blocks and, when zstd, an unterminated frame.
* Every file may additionally be compressed on its own (gzip, zstd, or the sniffer's ``LZO`` /
  ``LZ4`` chunk framing): detected by magic bytes, never by name.
* ``cleanspool`` deletes whole hours independently of the database: a missing file is a normal
  answer (``MediaMissing``), not a crash.

Everything here streams: files are read in chunks, decompressed incrementally and handed on as
an iterator of ``bytes``; nothing reads a whole file into memory. Nothing from a request is
ever joined into a path: paths come from database values through ``sanitize_name``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import lzma
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import lz4.block
import lzallright
import zstandard
from django.conf import settings

from cdr import telemetry

__all__ = [
    "AUDIO_EXTENSIONS",
    "CallRef",
    "ChunkReader",
    "KIND_AUDIO",
    "KIND_AUDIOGRAPH",
    "KIND_GRAPH",
    "KIND_RTP",
    "KIND_SIP",
    "MediaError",
    "MediaMissing",
    "SpoolFile",
    "SpoolLayout",
    "decompress",
    "locate",
    "locate_audio",
    "sanitize_name",
    "tar_member_name",
]

READ_SIZE: Final = 1 << 18  # bytes read from disk at a time (bounded memory)
TAR_BLOCK: Final = 512

KIND_SIP: Final = "SIP"
KIND_RTP: Final = "RTP"
KIND_GRAPH: Final = "GRAPH"
KIND_AUDIO: Final = "AUDIO"
KIND_AUDIOGRAPH: Final = "AUDIOGRAPH"
# cdr_tar_part.type per kind (spool §5): only uncompressed tars get offsets.
TAR_PART_TYPE: Final = {KIND_SIP: 1, KIND_RTP: 2, KIND_GRAPH: 3}
# The audio file the sniffer may have written, in the order we prefer to serve it.
AUDIO_EXTENSIONS: Final = ("wav", "ogg", "mp3")

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9:\-.@]")
_TAR_NAME_LIMIT: Final = 92  # longer member names are hashed (tar_use_hash_instead_of_long_callid)
_TAR_NAME_MAX: Final = 99
_HASH_KEEP: Final = 54
_MAX_ROTATIONS: Final = 99
# "#<n>" intermediate-part suffix, and the legacy "_<digits>" one the sniffer's reader accepts.
_PART_SUFFIX: Final = re.compile(r"(?:#\d+|_\d{1,6})$")
_TAR_SUFFIXES: Final = ("", ".zst", ".gz", ".xz")
# Upper bound for one LZO/LZ4 chunk; the sniffer's chunks are ~8 KiB (its write buffer).
_MAX_CHUNK: Final = 64 << 20


class MediaError(Exception):
    """A call's media cannot be produced; ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaMissing(MediaError):
    """The file is not (or no longer) in the spool: cleanspool, or never saved."""


# ---------------------------------------------------------------------------
# Names and layout
# ---------------------------------------------------------------------------


def sanitize_name(text: str) -> str:
    """The sniffer's file-name rule: cut to 255, then ``[^A-Za-z0-9:-.@]`` → ``_``.

    Because ``/`` and NUL become ``_`` and a name of dots only cannot come out of a Call-ID
    without other characters around it in practice, we additionally refuse ``.``/``..``.
    """
    name = _UNSAFE.sub("_", text[:255])
    if name in ("", ".", ".."):
        return "_" * max(len(name), 1)
    return name


def tar_member_name(filename: str) -> str:
    """The member name of ``filename`` in a sniffer tar (hashed when over 92 characters)."""
    if len(filename) <= _TAR_NAME_LIMIT:
        return filename
    digest = hashlib.md5(filename[_HASH_KEEP:].encode(), usedforsecurity=False).hexdigest()
    return filename[:_HASH_KEEP] + "_hash_" + digest


def _member_matches(name: str, targets: tuple[str, ...]) -> tuple[bool, bool]:
    """(belongs to the target, is the final unsuffixed member)."""
    if name in targets:
        return True, True
    stripped = _PART_SUFFIX.sub("", name)
    if stripped == name:
        return False, False
    if stripped in targets:
        return True, False
    # A part name cut to fit 99 characters (only when hashing long names is switched off).
    if len(name) >= _TAR_NAME_MAX and any(t.startswith(stripped) for t in targets):
        return True, False
    return False, False


@dataclass(frozen=True)
class SpoolLayout:
    """Where the sniffer writes: roots (by ``spool_index``), per-type roots, sensor folders."""

    roots: tuple[Path, ...]
    type_roots: dict[str, Path] = field(default_factory=dict)
    by_sensor: str = "none"  # none | id | name (spooldir_by_sensor / spooldir_by_sensorname)
    local_sensor_name: str = "local"
    # Files missing here are asked from the call's sensor (manager port; cdr.sensors.registry).
    remote: bool = False

    @classmethod
    def from_settings(cls) -> SpoolLayout:
        roots = [Path(settings.SPOOL_DIR)]
        if getattr(settings, "SPOOL_DIR_2", None):
            roots.append(Path(settings.SPOOL_DIR_2))
        type_roots = {k: Path(v) for k, v in getattr(settings, "SPOOL_TYPE_DIRS", {}).items() if v}
        return cls(
            roots=tuple(roots),
            type_roots=type_roots,
            by_sensor=getattr(settings, "SPOOL_BY_SENSOR", "none"),
            local_sensor_name=getattr(settings, "SPOOL_LOCAL_SENSOR_NAME", "local"),
            remote=getattr(settings, "SPOOL_REMOTE", "off") == "missing",
        )

    def root(self, spool_index: int, kind: str) -> Path:
        if spool_index == 0 and kind in self.type_roots:
            return self.type_roots[kind]
        if spool_index < len(self.roots):
            return self.roots[spool_index]
        raise MediaMissing(
            f"the call is stored in secondary spool #{spool_index}, which is not configured "
            "(set VMGUI_SPOOL_DIR_2)"
        )


@dataclass(frozen=True)
class CallRef:
    """What the spool needs to know about one call; every value comes from the database."""

    cdr_id: int
    calldate: dt.datetime  # the sniffer's naive wall clock (= its directory time)
    fbasename: str  # the raw Call-ID (cdr_next.fbasename)
    id_sensor: int | None = None
    sensor_name: str | None = None
    spool_index: int = 0
    tar_parts: tuple[tuple[int, int], ...] = ()  # (cdr_tar_part.type, pos) in order
    flags: int | None = None

    @property
    def base(self) -> str:
        return sanitize_name(self.fbasename or "")

    def positions(self, kind: str) -> tuple[int, ...]:
        wanted = TAR_PART_TYPE.get(kind)
        return tuple(pos for t, pos in self.tar_parts if t == wanted)

    def sensor_dir(self, layout: SpoolLayout) -> str | None:
        if layout.by_sensor == "id":
            return str(self.id_sensor) if self.id_sensor and self.id_sensor > 0 else None
        if layout.by_sensor == "name":
            if self.id_sensor and self.id_sensor > 0 and self.sensor_name:
                return sanitize_name(self.sensor_name)
            return sanitize_name(layout.local_sensor_name)
        return None

    def minute_dirs(self, layout: SpoolLayout, kind: str) -> list[tuple[Path, str]]:
        """(minute directory, tar date stamp) candidates, most likely first.

        In ms mode ``calldate`` is rounded to the millisecond, so a call that started at
        ``…:59.9996`` is stored under the previous minute: a start of exactly ``:00.000`` also
        tries the minute before.
        """
        root = self.root_for(layout, kind)
        sensor = self.sensor_dir(layout)
        times = [self.calldate]
        if self.calldate.second == 0 and self.calldate.microsecond == 0:
            times.append(self.calldate - dt.timedelta(minutes=1))
        out = []
        for t in times:
            rel = Path(t.strftime("%Y-%m-%d"), t.strftime("%H"), t.strftime("%M"))
            base = root / sensor / rel if sensor else root / rel
            out.append((base, t.strftime("%Y-%m-%d-%H-%M")))
        return out

    def root_for(self, layout: SpoolLayout, kind: str) -> Path:
        return layout.root(self.spool_index or 0, kind)


# ---------------------------------------------------------------------------
# Decompression (streaming, by magic bytes)
# ---------------------------------------------------------------------------


def _iter_file(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        if start:
            fh.seek(start)
        left = length
        while left is None or left > 0:
            chunk = fh.read(READ_SIZE if left is None else min(READ_SIZE, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def _peek(chunks: Iterator[bytes], n: int) -> tuple[bytes, Iterator[bytes]]:
    """The first ``n`` bytes (or fewer at EOF) and an iterator that still yields everything."""
    head = b""
    held: list[bytes] = []
    for chunk in chunks:
        held.append(chunk)
        head += chunk[: n - len(head)]
        if len(head) >= n:
            break

    def rest() -> Iterator[bytes]:
        yield from held
        yield from chunks

    return head, rest()


def _members(
    chunks: Iterable[bytes], new: Callable[[], Any], errors: tuple[type[Exception], ...], what: str
) -> Iterator[bytes]:
    """Decode a stream of concatenated members (gzip, zstd frames, xz streams).

    A flushed sniffer tar is a series of members; the last one may be unfinished while the
    sniffer still writes it: yield whatever decodes. Corrupt data is a MediaError naming the
    format.
    """
    d = new()
    try:
        for chunk in chunks:
            while chunk:
                out = d.decompress(chunk)
                if out:
                    yield out
                if d.eof:
                    chunk = d.unused_data
                    d = new()
                else:
                    chunk = b""
        tail = d.flush() if hasattr(d, "flush") else b""
    except errors as exc:
        raise MediaError(f"corrupt {what} data in the spool ({exc})") from None
    if tail:
        yield tail


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _members(chunks, lambda: zlib.decompressobj(wbits=47), (zlib.error,), "gzip")


def _unzstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    return _members(chunks, dctx.decompressobj, (zstandard.ZstdError,), "zstd")


def _unxz(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _members(chunks, lzma.LZMADecompressor, (lzma.LZMAError,), "xz")


_lzo = lzallright.LZOCompressor()


def _lzo_block(data: bytes, size: int) -> bytes:
    try:
        # lzallright grows its buffer when the hint is short: the header size is only a hint.
        return _lzo.decompress(data, output_size_hint=max(size, 1))
    except lzallright.LZOError as exc:
        raise MediaError(f"corrupt LZO chunk in the spool ({exc})") from None


def _lz4_block(data: bytes, size: int) -> bytes:
    # "size" is the write() length, normally the decoded size; retry with a safe bound if not.
    for bound in (size, max(size * 4, 1 << 16), _MAX_CHUNK):
        try:
            return lz4.block.decompress(data, uncompressed_size=bound)
        except lz4.block.LZ4BlockError:
            continue
    raise MediaError("corrupt LZ4 chunk in the spool")


def _unchunk(
    chunks: Iterable[bytes], block: Callable[[bytes, int], bytes], label: str
) -> Iterator[bytes]:
    """The sniffer's chunk framing after a 3-byte magic: (u32 size, u32 csize, data)*."""
    buf = bytearray()
    skipped = False
    for chunk in chunks:
        buf += chunk
        if not skipped:
            if len(buf) < 3:
                continue
            del buf[:3]
            skipped = True
        pos = 0
        while len(buf) - pos >= 8:
            size, csize = struct.unpack_from("<II", buf, pos)
            if csize > _MAX_CHUNK or size > _MAX_CHUNK:
                raise MediaError(f"corrupt {label} framing in the spool")
            if len(buf) - pos - 8 < csize:
                break
            yield block(bytes(buf[pos + 8 : pos + 8 + csize]), size)
            pos += 8 + csize
        del buf[:pos]
    # A trailing partial chunk means the file is still being written: stop there.


def decompress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Undo per-file (or per-tar) compression, detected from the first bytes (spool §4)."""
    head, stream = _peek(iter(chunks), 4)
    if head[:2] == b"\x1f\x8b":
        return _gunzip(stream)
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return _unzstd(stream)
    if head[:4] == b"\xfd7zX":
        return _unxz(stream)
    if head[:3] == b"LZO":
        return _unchunk(stream, _lzo_block, "LZO")
    if head[:3] == b"LZ4":
        return _unchunk(stream, _lz4_block, "LZ4")
    if head[:3] == b"SNA":
        raise MediaError("snappy-compressed spool files are not supported (pcap_dump_zip=snappy)")
    return stream


class ChunkReader(io.RawIOBase):
    """A read-only binary file over an iterator of ``bytes`` (bounded buffering)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._buf = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        while not self._eof and (n < 0 or len(self._buf) < n):
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                self._eof = True

    def read(self, n: int = -1) -> bytes:
        self._fill(n)
        if n < 0 or n >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
            return out
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def readinto(self, b) -> int:  # pragma: no cover - io plumbing
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close:
            close()
        super().close()


# ---------------------------------------------------------------------------
# Tars
# ---------------------------------------------------------------------------


def _octal(field_: bytes) -> int:
    text = field_.replace(b"\0", b" ").strip()
    return int(text, 8) if text else 0


def parse_tar_header(block: bytes) -> tuple[str, int] | None:
    """(name, size) of a ustar header, or None for an end block / garbage (checksum wrong)."""
    if len(block) < TAR_BLOCK or block.count(0) == TAR_BLOCK:
        return None
    try:
        stored = _octal(block[148:156])
        size = _octal(block[124:136])
    except ValueError:
        return None
    if stored != sum(block[:148]) + 8 * 32 + sum(block[156:TAR_BLOCK]):
        return None
    name = block[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    return name, size


def _blocks(chunks: Iterable[bytes]) -> Iterator[tuple[str, int, Iterator[bytes]]]:
    """Members of an uncompressed tar stream as (name, size, data iterator).

    The data iterator must be consumed (or skipped with ``for _ in it: pass``) before the next
    member is requested. An archive without end blocks or with a cut last member just ends.
    """
    reader = ChunkReader(chunks)
    while True:
        header = reader.read(TAR_BLOCK)
        parsed = parse_tar_header(header)
        if parsed is None:
            return
        name, size = parsed

        def data(size: int = size) -> Iterator[bytes]:
            left = size
            while left > 0:
                piece = reader.read(min(left, READ_SIZE))
                if not piece:
                    return
                left -= len(piece)
                yield piece
            reader.read(-size % TAR_BLOCK)

        it = data()
        yield name, size, it
        for _ in it:  # skip what the consumer did not read
            pass


def _tar_scan(path: Path, targets: tuple[str, ...]) -> Iterator[bytes]:
    """Stream-scan a (possibly compressed) tar: data of the target's parts, in archive order."""
    found = False
    for name, _size, data in _blocks(decompress(_iter_file(path))):
        belongs, final = _member_matches(name, targets)
        if not belongs:
            continue
        found = True
        yield from data
        if final:
            return
    if not found:
        raise MediaMissing(f"{targets[0]} is not in {path.name}")


def _read_header_at(fh: BinaryIO, pos: int) -> tuple[str, int] | None:
    fh.seek(pos)
    return parse_tar_header(fh.read(TAR_BLOCK))


def _tar_positions(path: Path, positions: tuple[int, ...], targets: tuple[str, ...]):
    """Members at ``cdr_tar_part`` offsets of an uncompressed tar (header names checked)."""
    with open(path, "rb") as fh:
        for pos in positions:
            parsed = _read_header_at(fh, pos)
            if parsed is None or not _member_matches(parsed[0], targets)[0]:
                raise MediaError(f"{path.name}: offset {pos} does not hold {targets[0]}")
            left = parsed[1]
            while left > 0:
                chunk = fh.read(min(left, READ_SIZE))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


def _is_compressed(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head[:2] == b"\x1f\x8b" or head == b"\x28\xb5\x2f\xfd" or head == b"\xfd7zX"


def _tar_candidates(directory: Path, stem: str) -> list[Path]:
    """Existing tars for one minute: ``stem.tar[.zst|.gz|.xz]`` then rotations ``.1`` …"""
    found: list[Path] = []
    for suffix in _TAR_SUFFIXES:
        name = f"{stem}.tar{suffix}"
        base = directory / name
        if base.is_file():
            found.append(base)
        for i in range(1, _MAX_ROTATIONS + 1):
            rotated = directory / f"{name}.{i}"
            if not rotated.is_file():
                break
            found.append(rotated)
    return found


# ---------------------------------------------------------------------------
# Located files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SpoolFile:
    """One call file found in the spool: a plain file, or (parts of) a member of tars."""

    kind: str
    filename: str  # the file's own name (<base>.pcap, <base>.wav, ...)
    path: Path  # the plain file, or the first tar to look in
    tars: tuple[Path, ...] = ()  # tar mode: every candidate tar, in search order
    positions: tuple[int, ...] = ()  # cdr_tar_part offsets (uncompressed tar at ``path``)

    @property
    def in_tar(self) -> bool:
        return bool(self.tars)

    def _targets(self) -> tuple[str, ...]:
        hashed = tar_member_name(self.filename)
        return tuple(dict.fromkeys((hashed, self.filename[:_TAR_NAME_MAX])))

    def raw_chunks(self) -> Iterator[bytes]:
        """The stored bytes (tar parts reassembled), before per-file decompression."""
        if not self.in_tar:
            yield from _iter_file(self.path)
            return
        if self.positions:
            yield from _tar_positions(self.path, self.positions, self._targets())
            return
        missing: MediaMissing | None = None
        for tar in self.tars:
            try:
                # Only the first tar that holds the member is used (the sniffer's reader too).
                yield from _tar_scan(tar, self._targets())
                return
            except MediaMissing as exc:
                missing = exc
        raise MediaMissing(f"{self.kind} file of the call is not in the spool any more") from (
            missing
        )

    def chunks(self) -> Iterator[bytes]:
        """The file's content, decompressed (read failures are counted for /metrics)."""
        try:
            stream = decompress(self.raw_chunks())
        except (MediaError, OSError) as exc:
            _count_read_error(self.kind, exc)
            raise
        return _counted(stream, self.kind)

    def open(self) -> ChunkReader:
        """A file-like object over the decompressed content."""
        return ChunkReader(self.chunks())

    def describe(self) -> str:
        if self.in_tar:
            return f"{self.path.name}:{tar_member_name(self.filename)}"
        return self.path.name


def _count_read_error(kind: str, exc: BaseException) -> None:
    if isinstance(exc, MediaMissing):
        telemetry.count_spool_error(kind, "missing")
    elif isinstance(exc, MediaError):
        telemetry.count_spool_error(kind, "corrupt")
    elif isinstance(exc, OSError):
        telemetry.count_spool_error(kind, "io")


def _counted(chunks: Iterator[bytes], kind: str) -> Iterator[bytes]:
    """``chunks``, counting a failure while they are read (vmgui_spool_read_errors_total)."""
    try:
        yield from chunks
    except (MediaError, OSError) as exc:
        _count_read_error(kind, exc)
        raise


def _plain(directory: Path, kind_dir: str, filename: str) -> Path | None:
    for candidate in (directory / kind_dir / filename, directory / kind_dir / f"{filename}.gz"):
        if candidate.is_file():
            return candidate
    return None


def spool_file_name(base: str, kind: str, index: int | None = None) -> str:
    """The file (or tar member) name of a call's SIP/RTP pcap, GRAPH or AUDIOGRAPH file."""
    if kind in (KIND_SIP, KIND_RTP):
        return f"{base}.pcap"
    if kind == KIND_GRAPH:
        return f"{base}.{index or 0}.graph"
    if kind == KIND_AUDIOGRAPH:
        return f"{base}.audiograph"
    raise ValueError(f"not a spool pcap/graph kind: {kind}")


def locate(call: CallRef, kind: str, layout: SpoolLayout, *, index: int | None = None):
    """The call's SIP/RTP pcap, GRAPH (stream ``index``) or AUDIOGRAPH file, or None.

    Plain files are tried first, then the minute's tars (``cdr_tar_part`` offsets when the
    tar is uncompressed and the header at the first offset names the file).
    """
    filename = spool_file_name(call.base, kind, index)
    for directory, stamp in call.minute_dirs(layout, kind):
        found = _plain(directory, kind, filename)
        if found is None and kind in (KIND_SIP, KIND_RTP):
            found = _plain(directory, "ALL", filename)  # pcapsplit=no: one pcap per call
        if found is not None:
            return SpoolFile(kind, filename, found)
        sensor = call.sensor_dir(layout)
        stem = f"{kind.lower()}_{sensor + '_' if sensor else ''}{stamp}"
        tars = _tar_candidates(directory / kind, stem)
        if not tars:
            continue
        positions = call.positions(kind)
        if positions:
            targets = SpoolFile(kind, filename, tars[0])._targets()
            for tar in tars:
                if _is_compressed(tar):
                    continue
                with open(tar, "rb") as fh:
                    parsed = _read_header_at(fh, positions[0])
                if parsed and _member_matches(parsed[0], targets)[0]:
                    return SpoolFile(kind, filename, tar, tars=(tar,), positions=positions)
        return SpoolFile(kind, filename, tars[0], tars=tuple(tars))
    if layout.remote:  # VMGUI_SPOOL_REMOTE=missing: the sensor's own spool, via its manager
        if _remote_locator is None:
            raise MediaMissing("the file is not in the local spool (no remote spool reader)")
        return _remote_locator(call, kind, index)
    return None


#: Finds a call file on its sensor's own spool: (call, kind, graph index) → a readable file
#: or None. Registered by ``cdr.sensors`` at start-up (``CdrConfig.ready``): the media layer
#: never imports the sensors package, which depends on it (manager ``getfile`` names).
RemoteLocator = Callable[["CallRef", str, int | None], Any]
_remote_locator: RemoteLocator | None = None


def register_remote_locator(locator: RemoteLocator | None) -> None:
    """Install (or, with None, remove) the reader of files kept only on a sensor's spool."""
    global _remote_locator
    _remote_locator = locator


def locate_audio(call: CallRef, layout: SpoolLayout) -> Path | None:
    """The sniffer's own recording (``AUDIO/<base>.wav|ogg|mp3``; never tarred), or None."""
    for directory, _ in call.minute_dirs(layout, KIND_AUDIO):
        for ext in AUDIO_EXTENSIONS:
            candidate = directory / KIND_AUDIO / f"{call.base}.{ext}"
            if candidate.is_file():
                return candidate
    return None
