"""Write generated calls into a spool laid out exactly like the sniffer's.

Layout (docs: sniffer-spool.md, checked byte-for-byte against the real sniffer
2026.04.0 fixtures ``spool_live`` and ``spool_notar``)::

    <root>/[<sensor>/]YYYY-MM-DD/HH/MM/SIP/sip_YYYY-MM-DD-HH-MM.tar.zst    (tar=True)
    <root>/[<sensor>/]YYYY-MM-DD/HH/MM/RTP/rtp_YYYY-MM-DD-HH-MM.tar        (tar=True)
    <root>/[<sensor>/]YYYY-MM-DD/HH/MM/SIP/<base>.pcap                    (tar=False)
    <root>/[<sensor>/]YYYY-MM-DD/HH/MM/RTP/<base>.pcap   gzip inside      (tar=False)
    <root>/[<sensor>/]YYYY-MM-DD/HH/MM/AUDIO/<base>.wav                   (answered calls)

The minute is the call's start (``calldate``); ``<base>`` is the Call-ID with every
character outside ``[A-Za-z0-9:-.@]`` replaced by ``_``.

Byte-level conventions reproduced from the sniffer (tar.cpp, tools.cpp):

* pcap: libpcap LE µs header, v2.4, snaplen 10000, linktype 1 (Ethernet).
* tar headers: the sniffer's own libtar-derived writer – mode ``"   444 \\0"``,
  uid/gid ``"     0 \\0"``, size/mtime as 11 octal digits + space, typeflag NUL,
  magic ``"ustar\\0"`` + version ``"  "``, empty uname/gname, mtime = call start
  (whole seconds). The archive ends with two zero blocks, no record padding.
* RTP members: the pcap is LZO-compressed (``LZO`` + per-buffer chunks of
  ``u32 size, u32 compressed_size, LZO1X data``) where a buffer is the sniffer's
  8 KiB write buffer, flushed when the next ``write()`` would not fit (the pcap file
  header, each record header and each packet are separate writes). The compressed
  stream is cut into tar members of 160 KiB (the size the real sniffer emitted with
  its default ``tar_chunk_kb=128``), named ``<name>#<n>`` with a per-tar running
  counter ``n`` that every member increments; the last member is ``<name>``.
  The header offset of every member goes to ``cdr_tar_part`` (type 2).
* SIP members: plain pcap, one member per call; the whole tar is one zstd frame
  (level 1, no checksum, no content size). No ``cdr_tar_part`` rows (compressed).
* Member names longer than 92 characters: first 54 + ``_hash_`` + md5 hex of the rest.
* A tar that already exists when first opened is renamed to ``<name>.1`` … ``.99``.
* Plain mode RTP pcaps are gzip (level 1, mtime 0) like the sniffer's ``-r`` output.

LZO bytes are not identical to the sniffer's (it uses liblzo's LZO1X-1, we use
lzallright's LZO1X compressor); any LZO1X decompressor reads both.

Everything streams to disk: tar members are emitted as their chunks fill, the SIP
tar is assembled uncompressed in a hidden work file and zstd-compressed on close.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final

import lzallright
import numpy as np
import numpy.typing as npt
import zstandard

from cdr.demo.pcapgen import CallResult, CallSpec, file_flags
from cdr.media.codecs import wav_header

__all__ = [
    "CDR_TAR_PART_GRAPH",
    "CDR_TAR_PART_RTP",
    "CDR_TAR_PART_SIP",
    "CallFiles",
    "SpoolWriter",
    "lzo_stream",
    "minute_dir",
    "sanitize_basename",
    "tar_member_name",
    "tar_name",
    "ustar_header",
]

#: ``cdr_tar_part.type`` values.
CDR_TAR_PART_SIP: Final = 1
CDR_TAR_PART_RTP: Final = 2
CDR_TAR_PART_GRAPH: Final = 3

TAR_BLOCK: Final = 512
#: Size of intermediate RTP tar members; the real sniffer wrote 163840-byte parts.
RTP_TAR_CHUNK: Final = 160 * 1024
#: The sniffer's FileZipHandler write buffer; one LZO chunk per buffer flush.
LZO_WRITE_BUFFER: Final = 8192
#: zstd level of ``sip_*.tar.zst`` (the real files have a 512 KiB window = level 1).
SIP_TAR_ZSTD_LEVEL: Final = 1
#: gzip level of plain-mode RTP pcaps (their header has XFL=4, i.e. level 1).
RTP_GZIP_LEVEL: Final = 1

_TAR_FILENAME_LENGTH: Final = 100
_TAR_FILENAME_RESERVE_LIMIT: Final = 92  # 100 - 8 reserved for the "#n" suffix
_TAR_HASH_PREFIX: Final = "_hash_"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9:\-.@]")
_MAX_RENAMES: Final = 99


# ---------------------------------------------------------------------------
# Names and paths
# ---------------------------------------------------------------------------


def sanitize_basename(fbasename: str) -> str:
    """The spool file base name of a Call-ID (``cdr_next.fbasename``).

    Truncated to 255 characters, then every character that is not ASCII
    alphanumeric, ``:``, ``-``, ``.`` or ``@`` becomes ``_`` (spool §3).
    """
    return _UNSAFE.sub("_", fbasename[:255])


def tar_member_name(filename: str) -> str:
    """A tar member name as the sniffer writes it (before any ``#n`` suffix).

    Names over 92 characters become the first 54 characters + ``_hash_`` + the
    lowercase hex MD5 of the remainder (``tar_use_hash_instead_of_long_callid``).
    """
    if len(filename) <= _TAR_FILENAME_RESERVE_LIMIT:
        return filename
    keep = _TAR_FILENAME_RESERVE_LIMIT - len(_TAR_HASH_PREFIX) - 32
    digest = hashlib.md5(filename[keep:].encode(), usedforsecurity=False).hexdigest()
    return filename[:keep] + _TAR_HASH_PREFIX + digest


def minute_dir(calldate: datetime, sensor_dir: str | None = None) -> Path:
    """Relative directory of a call: ``[<sensor>/]YYYY-MM-DD/HH/MM``."""
    rel = Path(calldate.strftime("%Y-%m-%d"), calldate.strftime("%H"), calldate.strftime("%M"))
    return Path(sensor_dir) / rel if sensor_dir else rel


def tar_name(kind: str, calldate: datetime, sensor_dir: str | None = None) -> str:
    """``sip_[<sensor>_]YYYY-MM-DD-HH-MM.tar.zst`` / ``rtp_…tar`` / ``graph_…tar.zst``."""
    suffix = {"sip": ".tar.zst", "rtp": ".tar", "graph": ".tar.zst"}[kind]
    sensor = f"{sensor_dir}_" if sensor_dir else ""
    return f"{kind}_{sensor}{calldate.strftime('%Y-%m-%d-%H-%M')}{suffix}"


# ---------------------------------------------------------------------------
# Byte formats
# ---------------------------------------------------------------------------


def ustar_header(name: str, size: int, mtime: int) -> bytes:
    """One 512-byte tar header, byte-identical to the sniffer's ``Tar::th_write``."""
    raw = name.encode("utf-8", "replace")[: _TAR_FILENAME_LENGTH - 1]
    h = bytearray(TAR_BLOCK)
    h[0 : len(raw)] = raw
    h[100:108] = b"   444 \0"  # libtar int_to_oct(): "%6lo " + NUL
    h[108:116] = b"     0 \0"
    h[116:124] = b"     0 \0"
    h[124:136] = f"{size:11o} ".encode()  # int_to_oct_nonull(): 11 digits + space
    h[136:148] = f"{mtime:11o} ".encode()
    # typeflag (156) stays NUL: "regular file", old style
    h[257:263] = b"ustar\0"
    h[263:265] = b"  "
    # checksum: bytes summed with the checksum field counted as spaces
    checksum = sum(h) + 8 * ord(" ")
    h[148:156] = f"{checksum:6o} \0".encode()
    return bytes(h)


def _lzo_block_bounds(write_sizes: Sequence[int] | npt.NDArray[np.int64]) -> list[int]:
    """End offsets of the sniffer's buffered writes (FileZipHandler::_writeToBuffer)."""
    bounds: list[int] = []
    pos = used = 0
    for size in np.asarray(write_sizes, dtype=np.int64).tolist():
        if used + size <= LZO_WRITE_BUFFER:
            used += size
            continue
        if used:
            pos += used
            bounds.append(pos)
            used = 0
        if size <= LZO_WRITE_BUFFER:
            used = size
        else:  # a write larger than the buffer bypasses it
            pos += size
            bounds.append(pos)
    if used:
        bounds.append(pos + used)
    return bounds


def lzo_stream(data: bytes, write_sizes: Sequence[int] | npt.NDArray[np.int64]) -> Iterator[bytes]:
    """The sniffer's LZO file format for ``data``, yielded piece by piece.

    ``write_sizes`` are the producer's write() lengths (they must add up to
    ``len(data)``); each 8 KiB buffer flush becomes one chunk.
    """
    compressor = lzallright.LZOCompressor()
    yield b"LZO"
    view = memoryview(data)
    start = 0
    for end in _lzo_block_bounds(write_sizes):
        block = view[start:end]
        packed = compressor.compress(bytes(block))
        yield struct.pack("<II", len(block), len(packed))
        yield packed
        start = end
    if start != len(data):
        raise ValueError("write_sizes do not add up to the data length")


# ---------------------------------------------------------------------------
# Tars
# ---------------------------------------------------------------------------


def _rename_existing(path: Path) -> None:
    """Move an existing tar aside like the sniffer's ``Tar::tar_open`` (.1 … .99)."""
    if not path.exists():
        return
    for i in range(1, _MAX_RENAMES + 1):
        candidate = path.with_name(f"{path.name}.{i}")
        if not candidate.exists():
            path.rename(candidate)
            return
    raise FileExistsError(f"{path}: .1 … .{_MAX_RENAMES} all exist")


class _Tar:
    """One per-minute tar being built: an uncompressed stream plus its member counter.

    Data is appended to ``work_path`` (the final path for plain tars, a hidden file
    for zstd ones); the file handle is opened per call and closed again, so any
    number of minutes can be "open" without running out of descriptors.
    """

    def __init__(self, path: Path, *, zstd: bool) -> None:
        self.path = path
        self.zstd = zstd
        self.work_path = path.with_name(f".{path.name}.partial") if zstd else path
        self.size = 0
        self.counter = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        _rename_existing(path)
        self.work_path.write_bytes(b"")

    def add_file(
        self, name: str, mtime: int, pieces: Iterable[bytes], chunk_size: int | None
    ) -> list[int]:
        """Append one file as member(s); returns the header offset of each member.

        With ``chunk_size``, full chunks are written as ``<name>#<n>`` members as
        soon as more data follows; the rest becomes the final ``<name>`` member.
        """
        base = tar_member_name(name)
        positions: list[int] = []
        with open(self.work_path, "ab") as fh:
            buf = bytearray()
            for piece in pieces:
                buf += piece
                while chunk_size is not None and len(buf) > chunk_size:
                    positions.append(self._member(fh, base, mtime, buf[:chunk_size], final=False))
                    del buf[:chunk_size]
            positions.append(self._member(fh, base, mtime, buf, final=True))
        return positions

    def _member(
        self, fh: BinaryIO, base: str, mtime: int, data: bytes | bytearray, final: bool
    ) -> int:
        self.counter += 1  # the sniffer counts every member, suffixed or not
        name = base
        if not final:
            suffix = f"#{self.counter}"
            if len(name) + len(suffix) > _TAR_FILENAME_LENGTH - 1:
                name = name[: _TAR_FILENAME_LENGTH - 1 - len(suffix)]
            name += suffix
        pos = self.size
        pad = -len(data) % TAR_BLOCK
        fh.write(ustar_header(name, len(data), mtime))
        fh.write(data)
        fh.write(b"\0" * pad)
        self.size += TAR_BLOCK + len(data) + pad
        return pos

    def close(self) -> None:
        """Write the end-of-archive blocks; compress into the final path if zstd."""
        with open(self.work_path, "ab") as fh:
            fh.write(b"\0" * (2 * TAR_BLOCK))
        if not self.zstd:
            return
        cctx = zstandard.ZstdCompressor(
            level=SIP_TAR_ZSTD_LEVEL, write_checksum=False, write_content_size=False
        )
        with open(self.work_path, "rb") as src, open(self.path, "wb") as dst:
            cctx.copy_stream(src, dst)
        self.work_path.unlink()


# ---------------------------------------------------------------------------
# The writer
# ---------------------------------------------------------------------------


@dataclass
class CallFiles:
    """Where one call's files went, and what the CDR should record about them.

    In tar mode ``sip``/``rtp`` are the per-minute tar paths and ``sip_member``/
    ``rtp_member`` the (unsuffixed) member names; the tars are complete only after
    :meth:`SpoolWriter.close`. ``tar_parts`` are the ``cdr_tar_part`` rows
    ``(type, pos)`` in order (RTP only: the SIP tar is compressed). ``flags`` are
    the ``cdr.flags`` bits 23–29 for the files written; OR them with
    ``CallResult.flags``.
    """

    base: str
    directory: Path
    sip: Path | None = None
    sip_member: str | None = None
    rtp: Path | None = None
    rtp_member: str | None = None
    audio: Path | None = None
    tar_parts: list[tuple[int, int]] = field(default_factory=list)
    rtp_payload: bool = False

    @property
    def flags(self) -> int:
        return file_flags(
            sip=self.sip is not None,
            rtp=self.rtp is not None,
            rtp_payload=self.rtp_payload,
            audio=self.audio is not None,
        )


class SpoolWriter:
    """Context manager writing calls into a sniffer-style spool under ``root``.

    ``tar=True`` (the sniffer default) packs SIP/RTP pcaps into per-minute tars
    that stay open until :meth:`close` (called on exit); ``tar=False`` writes one
    plain ``.pcap`` per call and type. ``sensor_dir`` adds the
    ``spooldir_by_sensor`` level (and tar name infix).
    """

    def __init__(
        self, root: str | os.PathLike[str], tar: bool = True, *, sensor_dir: str | None = None
    ):
        self.root = Path(root)
        self.tar = tar
        self.sensor_dir = sensor_dir
        self._tars: dict[Path, _Tar] = {}
        self._closed = False

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _tar(self, path: Path, *, zstd: bool) -> _Tar:
        tar = self._tars.get(path)
        if tar is None:
            tar = self._tars[path] = _Tar(path, zstd=zstd)
        return tar

    def add_call(self, spec: CallSpec, result: CallResult, wav: bool = True) -> CallFiles:
        """Write ``result`` (generated from ``spec``) and return where it went."""
        if self._closed:
            raise RuntimeError("SpoolWriter is closed")
        base = sanitize_basename(spec.call_id)
        directory = self.root / minute_dir(spec.calldate, self.sensor_dir)
        files = CallFiles(base=base, directory=directory)
        mtime = int(result.sip.ts_us[0] // 1_000_000) if len(result.sip) else 0
        pcap_name = f"{base}.pcap"

        sip_pcap = result.sip.pcap_bytes()
        if self.tar:
            tar_path = directory / "SIP" / tar_name("sip", spec.calldate, self.sensor_dir)
            self._tar(tar_path, zstd=True).add_file(pcap_name, mtime, [sip_pcap], None)
            files.sip, files.sip_member = tar_path, tar_member_name(pcap_name)
        else:
            path = directory / "SIP" / pcap_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(sip_pcap)
            files.sip = path

        if result.has_rtp:
            rtp_pcap = result.rtp.pcap_bytes()
            if self.tar:
                tar_path = directory / "RTP" / tar_name("rtp", spec.calldate, self.sensor_dir)
                pieces = lzo_stream(rtp_pcap, result.rtp.pcap_write_sizes())
                positions = self._tar(tar_path, zstd=False).add_file(
                    pcap_name, mtime, pieces, RTP_TAR_CHUNK
                )
                files.tar_parts = [(CDR_TAR_PART_RTP, pos) for pos in positions]
                files.rtp, files.rtp_member = tar_path, tar_member_name(pcap_name)
            else:
                path = directory / "RTP" / pcap_name
                path.parent.mkdir(parents=True, exist_ok=True)
                gz = zlib.compressobj(RTP_GZIP_LEVEL, zlib.DEFLATED, 31)  # gzip, mtime 0
                with open(path, "wb") as fh:
                    view = memoryview(rtp_pcap)
                    for start in range(0, len(view), 1 << 20):
                        fh.write(gz.compress(view[start : start + (1 << 20)]))
                    fh.write(gz.flush())
                files.rtp = path
            files.rtp_payload = True

        if wav and result.has_audio:
            files.audio = self._write_wav(directory / "AUDIO" / f"{base}.wav", result)
        return files

    @staticmethod
    def _write_wav(path: Path, result: CallResult) -> Path:
        pcm = result.stereo_pcm().astype("<i2", copy=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(wav_header(len(pcm), 8000))
            fh.write(np.ascontiguousarray(pcm).data)
        return path

    def close(self) -> None:
        """Finish every open tar (end blocks; zstd compression of SIP tars)."""
        if self._closed:
            return
        self._closed = True
        for path in sorted(self._tars):
            self._tars[path].close()
        self._tars.clear()
