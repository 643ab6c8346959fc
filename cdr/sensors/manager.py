"""Client of the VoIPmonitor sniffer's manager port (TCP 5029): active calls, pausing, files.

Facts (shared/reference/sniffer-manager.md, sniffer 2026.04.0):

* **One command per TCP connection.** We send ``command args\\r\\n\\r\\n`` in a single write
  (the sniffer then answers at once); the reply ends when the sniffer closes the socket (EOF).
  There is no length prefix and usually no trailing newline.
* **Timeouts.** Connecting is bounded by ``connect_timeout`` and the *whole* reply by
  ``timeout`` (a deadline, not a per-``recv`` idle time), so a dead or slow-dripping sensor
  can never hold a request longer than ``connect_timeout + timeout``. File downloads
  (``getfile*``) are streams: there ``timeout`` is the longest silence between two chunks.
* **gzip.** ``listcalls {"zip":"yes"}`` and the ``*_zip`` commands answer a gzip stream; any
  buffered reply starting with ``1f 8b`` is decompressed (JSON and the sniffer's text replies
  never start with those bytes).
* **AES.** When the sniffer has a key (config, or the ``system`` row ``manager_key``) most
  commands must be encrypted: ``<cipher>:<AES-CBC ciphertext of the command>:sea``; the reply
  is ``aes:`` followed by the ciphertext of the answer. Key and IV are base64 in the row's JSON
  ``{"key": .., "iv": ..}`` or in our settings (``VMGUI_MANAGER_AES_KEY``/``_IV``, which win,
  like the sniffer's own config). The cipher follows the key length (16/24/32 bytes →
  aes-128/192/256-cbc).
* **Strict requests.** Every command is checked *before* a socket is opened: printable ASCII
  on one line (the sniffer cuts a command at the first ``\\r``/``\\n`` and reads the rest of the
  line as arguments, so a newline would smuggle a second command), call references are
  ``0x<hex>`` only, spool paths are relative, without ``..`` or whitespace.

Replies are parsed into typed values (``CallList``/``ActiveCall`` for ``listcalls``); anything
unexpected raises ``ManagerReplyError`` with a message naming what was wrong. Every error is
a ``ManagerError`` whose ``reason`` is safe to show to a client.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import ipaddress
import json
import re
import socket
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cdr.media.spool import (
    KIND_AUDIOGRAPH,
    KIND_GRAPH,
    KIND_RTP,
    KIND_SIP,
    CallRef,
    ChunkReader,
    MediaError,
    MediaMissing,
    decompress,
    spool_file_name,
)

__all__ = [
    "AesConfig",
    "ActiveCall",
    "BadCallReference",
    "CallList",
    "CallNotFound",
    "InvalidRequest",
    "ListTotals",
    "ManagerClient",
    "ManagerConnectError",
    "ManagerError",
    "ManagerRefused",
    "ManagerReplyError",
    "ManagerTimeout",
    "check_call_ref",
    "check_command",
    "ip_text",
    "parse_listcalls",
    "parse_pause_reply",
]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 5029
DEFAULT_CONNECT_TIMEOUT: Final = 2.0
DEFAULT_TIMEOUT: Final = 5.0
# A buffered reply larger than this (raw or gunzipped) is refused: listcalls of ~100k calls.
MAX_REPLY_BYTES: Final = 128 << 20
RECV_SIZE: Final = 64 << 10
GZIP_MAGIC: Final = b"\x1f\x8b"
AES_REPLY_PREFIX: Final = b"aes:"
AES_REQUEST_SUFFIX: Final = b":sea"
TERMINATOR: Final = b"\r\n\r\n"

# Plain-text refusals the sniffer sends whatever the command (manager.md §2, §3).
NEED_AES: Final = "need aes!"
FAILED_AES: Final = "failed aes decrypt!"
COMMAND_NOT_FOUND: Final = "command not found"
# pausecall / unpausecall replies (manager.md §5).
CALL_ID_NOT_FOUND: Final = "Call id not found"
BAD_CALL_ID: Final = "Bad/missing Call id"

_COMMAND: Final = re.compile(r"[\x21-\x7e][\x20-\x7e]*")
_CALL_REF: Final = re.compile(r"0x[0-9a-fA-F]{1,16}")
_WORD: Final = re.compile(r"[A-Za-z0-9_.:@#,+=-]{1,300}")
_REL_PATH: Final = re.compile(r"[A-Za-z0-9_.:@#+=-]+(?:/[A-Za-z0-9_.:@#+=-]+)*")
MAX_COMMAND_LENGTH: Final = 60_000


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class ManagerError(Exception):
    """A manager request failed; ``reason`` is safe to show to a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidRequest(ManagerError, ValueError):
    """We refuse to send this (bad command text, call reference, path): nothing was sent."""


class ManagerConnectError(ManagerError):
    """The sensor's manager port could not be reached (refused, no route, DNS)."""


class ManagerTimeout(ManagerError):
    """The sensor did not connect or did not finish its reply in time."""


class ManagerReplyError(ManagerError):
    """The reply is not what the protocol promises (malformed JSON, bad ciphertext, ...)."""


class ManagerRefused(ManagerError):
    """The sniffer refused the command: AES required, AES key wrong, unknown command."""


class CallNotFound(ManagerError):
    """pausecall/unpausecall: no active call has this reference (it ended, or never was)."""


class BadCallReference(ManagerError):
    """pausecall/unpausecall: the sniffer could not read the reference."""


# ---------------------------------------------------------------------------
# Request validation (before anything is sent)
# ---------------------------------------------------------------------------


def check_command(command: str) -> str:
    """The command line as sent: printable ASCII on one line, or InvalidRequest."""
    if not isinstance(command, str):
        raise InvalidRequest("a manager command must be text")
    if len(command) > MAX_COMMAND_LENGTH:
        raise InvalidRequest(f"manager command longer than {MAX_COMMAND_LENGTH} characters")
    if not _COMMAND.fullmatch(command):
        raise InvalidRequest(
            "a manager command must be one line of printable ASCII "
            "(no line breaks or control characters)"
        )
    return command


def check_call_ref(ref: Any) -> str:
    """A call reference as listcalls gives it: ``0x`` and 1-16 hex digits, nothing else."""
    if not isinstance(ref, str) or not _CALL_REF.fullmatch(ref):
        shown = ref[:40] if isinstance(ref, str) else type(ref).__name__
        raise InvalidRequest(
            f"call reference {shown!r} is not valid: expected 0x followed by 1-16 hex digits "
            "(the callreference column of listActiveCalls)"
        )
    return ref.lower()


def _check_word(value: Any, what: str) -> str:
    text = str(value)
    if not _WORD.fullmatch(text):
        raise InvalidRequest(f"{what} {text[:40]!r} contains characters the manager cannot take")
    return text


def _check_rel_path(path: Any, what: str = "spool path") -> str:
    if not isinstance(path, str) or not _REL_PATH.fullmatch(path) or len(path) > 1024:
        raise InvalidRequest(f"{what} must be a relative path without spaces or special characters")
    if any(part in (".", "..") for part in path.split("/")):
        raise InvalidRequest(f"{what} must not contain . or .. components")
    return path


def _json_arg(options: Mapping[str, Any]) -> str:
    """Options as the sniffer's JSON argument: every value a string (manager.md §4)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, (int, float)):
            value = str(value)
        out[str(key)] = value
    return json.dumps(out, separators=(",", ":"), ensure_ascii=True)


# ---------------------------------------------------------------------------
# AES
# ---------------------------------------------------------------------------

_CIPHERS: Final = {16: "aes-128-cbc", 24: "aes-192-cbc", 32: "aes-256-cbc"}


@dataclass(frozen=True)
class AesConfig:
    """The manager's AES key and IV (raw bytes); the cipher follows the key length."""

    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.key) not in _CIPHERS:
            raise ValueError(f"AES key must be 16, 24 or 32 bytes, not {len(self.key)}")
        if len(self.iv) != 16:
            raise ValueError(f"AES IV must be 16 bytes, not {len(self.iv)}")

    @classmethod
    def from_base64(cls, key: str, iv: str, source: str = "") -> AesConfig:
        try:
            raw_key = base64.b64decode(key.strip(), validate=True)
            raw_iv = base64.b64decode(iv.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("AES key and IV must be base64") from None
        return cls(raw_key, raw_iv, source)

    @classmethod
    def from_json(cls, content: str, source: str = "") -> AesConfig:
        """The ``system`` row ``manager_key`` content: ``{"key": "<b64>", "iv": "<b64>"}``."""
        try:
            data = json.loads(content)
            return cls.from_base64(str(data["key"]), str(data["iv"]), source)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"manager_key is not {{'key','iv'}} JSON with base64 values: {exc}"
            ) from None

    @property
    def cipher_name(self) -> str:
        return _CIPHERS[len(self.key)]

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv))

    def encrypt(self, data: bytes) -> bytes:
        padder = padding.PKCS7(128).padder()
        enc = self._cipher().encryptor()
        return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()

    def decrypt(self, data: bytes) -> bytes:
        chunks = list(self.decrypt_stream(iter([data])))
        return b"".join(chunks)

    def decrypt_stream(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Incremental CBC decryption with the padding removed at the end."""
        dec = self._cipher().decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        total = 0
        try:
            for chunk in chunks:
                total += len(chunk)
                out = unpadder.update(dec.update(chunk))
                if out:
                    yield out
            tail = unpadder.update(dec.finalize()) + unpadder.finalize()
        except ValueError:
            raise ManagerReplyError(
                "cannot decrypt the sensor's AES reply (wrong key or IV, or a cut reply)"
            ) from None
        if total % 16:
            raise ManagerReplyError("the sensor's AES reply is cut (not whole 16-byte blocks)")
        if tail:
            yield tail

    def request(self, command: str) -> bytes:
        """``<cipher>:<ciphertext>:sea`` for one command."""
        return f"{self.cipher_name}:".encode() + self.encrypt(command.encode()) + AES_REQUEST_SUFFIX


# ---------------------------------------------------------------------------
# listcalls: typed parse
# ---------------------------------------------------------------------------

# JSON types of the listcalls columns (manager.md §4); any other column is a custom header.
INT_COLUMNS: Final = frozenset(
    [
        "calldate_num",
        "lastpackettime",
        "duration",
        "connect_duration",
        "callerip_encaps_prot",
        "calledip_encaps_prot",
        "lastSIPresponseNum",
        "callercodec",
        "calledcodec",
        "src_received",
        "dst_received",
        "src_loss_abs",
        "dst_loss_abs",
        "id_sensor",
        "vlan",
    ]
    + [
        f"{side}_mos{kind}{stat}"
        for side in ("src", "dst")
        for kind in ("f1", "f2", "AD")
        for stat in ("", "_avg", "_min")
    ]
)
FLOAT_COLUMNS: Final = frozenset(
    [f"{side}_jitter{stat}" for side in ("src", "dst") for stat in ("", "_avg", "_max")]
    + [f"{side}_loss{stat}" for side in ("src", "dst") for stat in ("", "_last10sec")]
)
BOOL_COLUMNS: Final = frozenset(["caller_international", "called_international"])
IP_COLUMNS: Final = (
    "callerip",
    "calledip",
    "callerip_encaps",
    "calledip_encaps",
    "rtp_src",
    "rtp_dst",
)
STR_COLUMNS: Final = frozenset(
    [
        "callreference",
        "callid",
        "calldate",
        "caller",
        "called",
        "caller_country",
        "called_country",
        "callername",
        "callerdomain",
        "calleddomain",
        "calleragent",
        "calledagent",
        "callerip_country",
        "calledip_country",
        "sipproxies",
        "rtp_src_country",
        "rtp_dst_country",
    ]
)
# The 68 built-in columns in the sniffer's order (custom headers follow them).
BUILTIN_COLUMNS: Final = (
    "callreference callid calldate calldate_num lastpackettime duration connect_duration "
    "caller called caller_country called_country caller_international called_international "
    "callername callerdomain calleddomain calleragent calledagent callerip calledip "
    "callerip_country calledip_country callerip_encaps calledip_encaps callerip_encaps_prot "
    "calledip_encaps_prot sipproxies lastSIPresponseNum rtp_src rtp_dst rtp_src_country "
    "rtp_dst_country callercodec calledcodec "
    "src_mosf1 src_mosf1_avg src_mosf1_min src_mosf2 src_mosf2_avg src_mosf2_min "
    "src_mosAD src_mosAD_avg src_mosAD_min dst_mosf1 dst_mosf1_avg dst_mosf1_min "
    "dst_mosf2 dst_mosf2_avg dst_mosf2_min dst_mosAD dst_mosAD_avg dst_mosAD_min "
    "src_jitter src_jitter_avg src_jitter_max dst_jitter dst_jitter_avg dst_jitter_max "
    "src_received dst_received src_loss_abs dst_loss_abs src_loss dst_loss "
    "src_loss_last10sec dst_loss_last10sec id_sensor vlan"
).split()
TOTALS_KEYS: Final = ("total", "is_receiver", "is_server", "id_sensor")


def ip_text(value: Any) -> str | None:
    """A listcalls IP value as text: INET_ATON integers → dotted IPv4, IPv6 strings as they
    are; ``0``/``null`` (unknown) → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value == 0 or not 0 < value < 1 << 32:
            return None
        return str(ipaddress.IPv4Address(value))
    if isinstance(value, str):
        text = value.strip()
        return text if text and text != "0" else None
    return None


def _typed(column: str, value: Any, where: str) -> Any:
    """Check one value against its column's JSON type (null is allowed everywhere)."""
    if value is None:
        return None

    def bad(expected: str) -> ManagerReplyError:
        shown = json.dumps(value)[:60]
        return ManagerReplyError(
            f"malformed listcalls reply: {where}, column {column!r} should be {expected}, "
            f"got {shown}"
        )

    if column in INT_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if column in FLOAT_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if column in BOOL_COLUMNS:
        if isinstance(value, bool):
            return value
        if value in (0, 1) and isinstance(value, int):
            return bool(value)
        raise bad("true or false")
    if column in IP_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise bad("an IPv4 integer or an IPv6 string")
        if isinstance(value, int) and not 0 <= value < 1 << 32:
            raise bad("an IPv4 integer (0 .. 2^32-1)")
        return value
    if column in STR_COLUMNS:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    # custom headers (and columns of a newer sniffer): any JSON scalar
    if isinstance(value, (list, dict)):
        raise bad("a single value")
    return value


@dataclass(frozen=True)
class ActiveCall:
    """One active call: the manager's columns (header order) with typed values."""

    values: dict[str, Any]

    def __getitem__(self, column: str) -> Any:
        return self.values[column]

    def get(self, column: str, default: Any = None) -> Any:
        return self.values.get(column, default)

    @property
    def callreference(self) -> str:
        return self.values["callreference"]

    @property
    def callid(self) -> str | None:
        return self.values.get("callid")

    @property
    def id_sensor(self) -> int | None:
        return self.values.get("id_sensor")

    def ip(self, column: str) -> str | None:
        return ip_text(self.values.get(column))


@dataclass(frozen=True)
class ListTotals:
    """listcalls' totals object (present when a JSON argument was sent)."""

    total: int
    is_receiver: bool
    is_server: bool
    id_sensor: int
    extra: dict[str, Any] = field(default_factory=dict)  # sensors, ip_src, ... maps


@dataclass(frozen=True)
class CallList:
    """A parsed listcalls reply."""

    columns: tuple[str, ...]
    calls: tuple[ActiveCall, ...]
    totals: ListTotals | None = None
    trailing: int = 0  # values beyond the header seen in the value arrays (trailing nulls)

    def __len__(self) -> int:
        return len(self.calls)


def _totals(obj: Any, where: str) -> ListTotals:
    if not isinstance(obj, dict):
        raise ManagerReplyError(f"malformed listcalls reply: {where} is not a totals object")
    for key in TOTALS_KEYS:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ManagerReplyError(
                f"malformed listcalls reply: totals {key!r} should be a whole number, "
                f"got {json.dumps(value)[:40]}"
            )
    return ListTotals(
        total=obj["total"],
        is_receiver=bool(obj["is_receiver"]),
        is_server=bool(obj["is_server"]),
        id_sensor=obj["id_sensor"],
        extra={k: v for k, v in obj.items() if k not in TOTALS_KEYS},
    )


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # The sniffer strips non-ASCII bytes of records that are not valid UTF-8; be as lenient.
        return data.decode("utf-8", errors="replace")


def refusal(data: bytes) -> ManagerRefused | None:
    """The sniffer's generic plain-text refusals, whatever the command."""
    text = data.strip().decode("ascii", errors="replace")
    if text == NEED_AES:
        return ManagerRefused(
            "the sensor requires AES-encrypted manager commands (need aes!): set "
            "VMGUI_MANAGER_AES_KEY/VMGUI_MANAGER_AES_IV or the system manager_key row, or "
            "manager_enable_unencrypted=yes on the sniffer"
        )
    if text == FAILED_AES:
        return ManagerRefused(
            "the sensor could not decrypt our AES command (failed aes decrypt!): the manager "
            "key or IV differs from the sniffer's"
        )
    if text == COMMAND_NOT_FOUND:
        return ManagerRefused("the sensor does not know this manager command")
    return None


def gunzip(data: bytes, limit: int = MAX_REPLY_BYTES) -> bytes:
    """Decompress a (possibly multi-member) gzip reply, at most ``limit`` bytes."""
    out = bytearray()
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(wbits=31)
            out += d.decompress(rest, limit + 1 - len(out))
            if len(out) > limit:
                raise ManagerReplyError(f"the sensor's gzip reply is larger than {limit} bytes")
            if not d.eof:
                if d.unconsumed_tail:
                    raise ManagerReplyError(f"the sensor's gzip reply is larger than {limit} bytes")
                raise ManagerReplyError("the sensor's gzip reply is cut (no gzip end)")
            rest = d.unused_data
            if rest and not rest.startswith(GZIP_MAGIC):
                break  # trailing garbage after the last member: ignore like gzip(1)
    except zlib.error as exc:
        raise ManagerReplyError(f"the sensor's gzip reply is corrupt ({exc})") from None
    return bytes(out)


def parse_listcalls(data: bytes) -> CallList:
    """A listcalls reply (plain or gzip) → ``CallList``; ManagerReplyError when malformed.

    Shapes (manager.md §4): ``[[header], [values], ...]``; with a JSON argument
    ``[[header], [{totals}], [values], ...]``; with ``limit`` 0 just ``{totals}``. Value
    arrays may carry trailing nulls beyond the header (custom headers): they are zipped by
    the header's length.
    """
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data)
    refused = refusal(data)
    if refused is not None:
        raise refused
    text = _text(data).strip()
    if not text:
        raise ManagerReplyError("empty listcalls reply (expected a JSON array)")
    if text[0] not in "[{":
        raise ManagerReplyError(f"the sensor answered listcalls with text: {text[:200]!r}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManagerReplyError(
            f"malformed listcalls reply: not valid JSON ({exc.msg} at character {exc.pos})"
        ) from None
    if isinstance(doc, dict):
        return CallList(columns=(), calls=(), totals=_totals(doc, "the reply"))
    if not isinstance(doc, list) or not doc:
        raise ManagerReplyError("malformed listcalls reply: expected a non-empty JSON array")
    header = doc[0]
    if (
        not isinstance(header, list)
        or not header
        or not all(isinstance(c, str) and c for c in header)
    ):
        raise ManagerReplyError(
            "malformed listcalls reply: the first element must be the list of column names"
        )
    if len(set(header)) != len(header):
        raise ManagerReplyError("malformed listcalls reply: duplicate column names")
    if "callreference" not in header:
        raise ManagerReplyError("malformed listcalls reply: no callreference column")
    columns = tuple(header)
    totals = None
    rows = doc[1:]
    if rows and isinstance(rows[0], list) and len(rows[0]) == 1 and isinstance(rows[0][0], dict):
        totals = _totals(rows[0][0], "the totals element")
        rows = rows[1:]
    calls = []
    trailing = 0
    width = len(columns)
    for n, row in enumerate(rows, start=1):
        where = f"call #{n}"
        if not isinstance(row, list):
            raise ManagerReplyError(f"malformed listcalls reply: {where} is not an array")
        if len(row) < width:
            raise ManagerReplyError(
                f"malformed listcalls reply: {where} has {len(row)} values for {width} columns"
            )
        trailing = max(trailing, len(row) - width)
        values = {col: _typed(col, row[i], where) for i, col in enumerate(columns)}
        if not isinstance(values["callreference"], str) or not values["callreference"]:
            raise ManagerReplyError(f"malformed listcalls reply: {where} has no callreference")
        calls.append(ActiveCall(values))
    return CallList(columns=columns, calls=tuple(calls), totals=totals, trailing=trailing)


def parse_pause_reply(data: bytes) -> None:
    """pausecall/unpausecall: empty = done; the sniffer's errors → exceptions."""
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data)
    refused = refusal(data)
    if refused is not None:
        raise refused
    text = _text(data).strip()
    if not text:
        return
    if text == CALL_ID_NOT_FOUND:
        raise CallNotFound("no active call with this reference on the sensor (it may have ended)")
    if text == BAD_CALL_ID:
        raise BadCallReference("the sensor could not read the call reference")
    raise ManagerReplyError(f"unexpected reply from the sensor: {text[:200]!r}")


# ---------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------


class ManagerClient:
    """One sensor's manager port. Thread-safe: every request is its own connection."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        timeout: float = DEFAULT_TIMEOUT,
        aes: AesConfig | None = None,
        max_reply: int = MAX_REPLY_BYTES,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.connect_timeout = float(connect_timeout)
        self.timeout = float(timeout)
        self.aes = aes
        self.max_reply = max_reply

    def __repr__(self) -> str:
        return f"ManagerClient({self.address}, aes={'on' if self.aes else 'off'})"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # --- transport -----------------------------------------------------------------------

    def _wire(self, command: str) -> bytes:
        check_command(command)
        if self.aes is not None:
            return self.aes.request(command)
        return command.encode("ascii") + TERMINATOR

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError:
            raise ManagerTimeout(
                f"no connection to {self.address} within {self.connect_timeout:g} s"
            ) from None
        except OSError as exc:
            why = exc.strerror or exc.__class__.__name__
            raise ManagerConnectError(f"cannot connect to {self.address}: {why}") from None

    def _send(self, sock: socket.socket, wire: bytes) -> None:
        try:
            sock.sendall(wire)
        except TimeoutError:
            raise ManagerTimeout(f"{self.address} did not take the command in time") from None
        except OSError as exc:
            raise ManagerConnectError(
                f"{self.address} closed the connection while we sent the command "
                f"({exc.strerror or exc.__class__.__name__})"
            ) from None

    def raw(self, command: str) -> bytes:
        """Send one command and read the whole reply (until EOF, within the deadline).

        The reply is decrypted in AES mode but otherwise untouched (no gunzip).
        """
        wire = self._wire(command)  # validates before connecting
        sock = self._connect()
        deadline = time.monotonic() + self.timeout
        try:
            self._send(sock, wire)
            buf = bytearray()
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._late(len(buf))
                sock.settimeout(left)
                try:
                    chunk = sock.recv(RECV_SIZE)
                except TimeoutError:
                    raise self._late(len(buf)) from None
                except OSError as exc:
                    raise ManagerConnectError(
                        f"{self.address} broke the connection during the reply "
                        f"({exc.strerror or exc.__class__.__name__})"
                    ) from None
                if not chunk:
                    break
                buf += chunk
                if len(buf) > self.max_reply:
                    raise ManagerReplyError(
                        f"the reply of {self.address} is larger than {self.max_reply} bytes"
                    )
        finally:
            sock.close()
        data = bytes(buf)
        if self.aes is not None and data.startswith(AES_REPLY_PREFIX):
            data = self.aes.decrypt(data[len(AES_REPLY_PREFIX) :])
        return data

    def _late(self, received: int) -> ManagerTimeout:
        what = "no reply" if not received else f"reply not finished ({received} bytes)"
        return ManagerTimeout(f"{what} from {self.address} within {self.timeout:g} s")

    def request(self, command: str) -> bytes:
        """One command's reply, gunzipped when gzip; the generic refusals raise."""
        data = self.raw(command)
        if data.startswith(GZIP_MAGIC):
            data = gunzip(data, self.max_reply)
        refused = refusal(data)
        if refused is not None:
            raise refused
        return data

    def stream(self, command: str) -> Iterator[bytes]:
        """A long reply (file download) as chunks; ``timeout`` bounds each silence.

        The connection is opened (and the command sent) when iteration starts.
        """
        wire = self._wire(command)
        return self._stream(wire)

    def _stream(self, wire: bytes) -> Iterator[bytes]:
        sock = self._connect()
        try:
            self._send(sock, wire)
            sock.settimeout(self.timeout)

            def chunks() -> Iterator[bytes]:
                while True:
                    try:
                        chunk = sock.recv(RECV_SIZE)
                    except TimeoutError:
                        raise ManagerTimeout(
                            f"{self.address} sent nothing for {self.timeout:g} s"
                        ) from None
                    except OSError as exc:
                        raise ManagerConnectError(
                            f"{self.address} broke the connection "
                            f"({exc.strerror or exc.__class__.__name__})"
                        ) from None
                    if not chunk:
                        return
                    yield chunk

            source = chunks()
            if self.aes is None:
                yield from source
                return
            head = b""
            for chunk in source:
                head += chunk
                if len(head) >= len(AES_REPLY_PREFIX):
                    break
            if not head.startswith(AES_REPLY_PREFIX):
                if head:  # a plain-text answer (an error, or a plaintext-only command)
                    yield head
                yield from source
                return

            def body() -> Iterator[bytes]:
                rest = head[len(AES_REPLY_PREFIX) :]
                if rest:
                    yield rest
                yield from source

            yield from self.aes.decrypt_stream(body())
        finally:
            sock.close()

    # --- commands ------------------------------------------------------------------------

    def getversion(self) -> str:
        text = _text(self.request("getversion")).strip()
        if not text or len(text) > 100:
            raise ManagerReplyError(f"unexpected getversion reply: {text[:100]!r}")
        return text

    def totalcalls(self) -> int:
        text = _text(self.request("totalcalls")).strip()
        if not text.isdigit():
            raise ManagerReplyError(f"unexpected totalcalls reply: {text[:100]!r}")
        return int(text)

    def listcalls(
        self,
        *,
        limit: int | None = None,
        sort_field: str | None = None,
        sort_dir: str | None = None,
        zip: bool = False,
        **options: Any,
    ) -> CallList:
        """The sensor's active calls. Without options the bare ``listcalls`` is sent (no
        totals); any option sends the JSON argument (values as strings, as the sniffer reads
        them)."""
        if sort_dir is not None and sort_dir not in ("asc", "desc"):
            raise InvalidRequest("sort_dir must be asc or desc")
        if sort_field is not None:
            _check_word(sort_field, "sort_field")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidRequest("limit must be a whole number")
        opts: dict[str, Any] = {
            "limit": limit,
            "sort_field": sort_field,
            "sort_dir": sort_dir,
            "zip": "yes" if zip else None,
            **options,
        }
        opts = {k: v for k, v in opts.items() if v is not None}
        command = "listcalls" if not opts else f"listcalls {_json_arg(opts)}"
        return parse_listcalls(self.raw(command))

    def pausecall(self, ref: str) -> None:
        """Pause the recording of an active call (RTP payload stripped while paused)."""
        ref = check_call_ref(ref)
        parse_pause_reply(self.raw(f"pausecall {ref}"))

    def unpausecall(self, ref: str) -> None:
        ref = check_call_ref(ref)
        parse_pause_reply(self.raw(f"unpausecall {ref}"))

    # Live listening (manager.md §7; needs liveaudio=yes on the sniffer). The GUI's live
    # listening (cdr.sensors.listening) is built on these three.

    def listen(self, ref: str, listen_id: str) -> str:
        ref, listen_id = check_call_ref(ref), _check_word(listen_id, "listen id")
        return _text(self.request(f"listen {ref} {listen_id}")).strip()

    def readaudio(self, ref: str, listen_id: str) -> bytes:
        """Raw 8 kHz mono s16le PCM since the last read, or b"" while there is none yet.

        Read with ``raw``: PCM is never gunzipped (a chunk may begin with the bytes 1f 8b).
        ``error: call not found`` (the call ended) raises CallNotFound.
        """
        ref, listen_id = check_call_ref(ref), _check_word(listen_id, "listen id")
        data = self.raw(f"readaudio {ref} {listen_id}")
        refused = refusal(data)
        if refused is not None:
            raise refused
        if data.startswith(b"information: wait for data"):
            return b""
        if data.startswith(b"error:"):
            text = _text(data[:200]).strip()
            if text == "error: call not found":
                raise CallNotFound("the call is no longer active on the sensor")
            raise ManagerReplyError(f"readaudio: {text}")
        return data

    def listen_stop(self, ref: str, listen_id: str) -> str:
        ref, listen_id = check_call_ref(ref), _check_word(listen_id, "listen id")
        return _text(self.request(f"listen_stop {ref} {listen_id}")).strip()

    # Spool files on the sensor (manager.md §6).

    def file_exists(self, relpath: str, spool_index: int = 0) -> int | None:
        """The size of a spool file on the sensor, or None when it does not exist."""
        relpath = _check_rel_path(relpath)
        text = _text(self.request(f"file_exists {relpath} {int(spool_index)}")).strip()
        if text in ("not_exists", "mirror"):
            return None
        if text == "permission_denied":
            raise ManagerRefused(f"the sensor may not read {relpath}")
        size = text.split(";", 1)[0]
        if not size.isdigit():
            raise ManagerReplyError(f"unexpected file_exists reply: {text[:100]!r}")
        return int(size)

    def file_exists_many(self, relpaths: list[str], spool_index: int = 0) -> dict[str, int]:
        """Which of several spool files exist on the sensor: {relpath: size} (one request)."""
        paths = [_check_rel_path(p) for p in relpaths]
        if not paths:
            return {}
        text = _text(self.request(f"file_exists {'|'.join(paths)} {int(spool_index)}")).strip()
        if text in ("not_exists", "mirror", ""):
            return {}
        if text == "permission_denied":
            raise ManagerRefused("the sensor may not read its spool files")
        if len(paths) == 1 and text.split(";", 1)[0].isdigit():
            return {paths[0]: int(text.split(";", 1)[0])}
        lines = text.splitlines()
        if not lines or lines[0].strip() != "ok":
            raise ManagerReplyError(f"unexpected file_exists reply: {text[:100]!r}")
        found: dict[str, int] = {}
        for line in lines[1:]:
            path, sep, size = line.strip().partition(";")[0].rpartition(":")
            if sep and size.isdigit() and path in paths:
                found[path] = int(size)
        return found

    def getfile(self, relpath: str, spool_index: int = 0, type_code: int | None = None):
        """A spool file's bytes (LZO removed by the sniffer), streamed."""
        relpath = _check_rel_path(relpath)
        command = f"getfile {relpath} {int(spool_index)}"
        if type_code is not None:
            command += f" {int(type_code)}"
        return _checked_file(self.stream(command), relpath)

    def getfile_in_tar(
        self,
        tar_relpath: str,
        member: str,
        *,
        date_time_key: str = "k1",
        record_id: int = 0,
        table_type: str = "cdr",
        tar_positions: tuple[int, ...] = (),
        spool_index: int = 0,
        type_code: int = 1,
        end_marker: str = "##END##",
    ) -> Iterator[bytes]:
        """One member of a spool tar on the sensor (``#n`` parts joined), streamed.

        The sniffer appends ``end_marker`` after a complete read; it is checked and removed,
        so a transfer cut by the sensor raises ManagerReplyError instead of ending short.
        """
        tar_relpath = _check_rel_path(tar_relpath, "tar path")
        member = _check_word(member, "member name")
        pos = ",".join(str(int(p)) for p in tar_positions) or "x"
        command = (
            f"getfile_in_tar {tar_relpath} {member} {_check_word(date_time_key, 'key')} "
            f"{int(record_id)} {_check_word(table_type, 'table type')} {pos} "
            f"{int(spool_index)} {int(type_code)} {_check_word(end_marker, 'end marker')}"
        )
        return _strip_end_marker(
            _checked_file(self.stream(command), tar_relpath), end_marker.encode()
        )


_FILE_ERRORS: Final = (b"error: ", b"access denied")


def _checked_file(chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    """Pass file bytes on; the sniffer's text errors at the start raise instead."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 16:
            break
    if any(head.startswith(e) for e in _FILE_ERRORS) or refusal(head) is not None:
        rest = b"".join(chunks)[:200]
        refused = refusal(head + rest)
        if refused is not None:
            raise refused
        text = _text(head + rest).strip()
        if "missing file" in text or "cannot open" in text:
            raise MediaMissing(f"the sensor does not have {what} ({text[:120]})")
        raise ManagerReplyError(f"the sensor refused the file {what}: {text[:160]}")
    if head:
        yield head
    yield from chunks


def _strip_end_marker(chunks: Iterator[bytes], marker: bytes) -> Iterator[bytes]:
    keep = b""
    for chunk in chunks:
        data = keep + chunk
        if len(data) > len(marker):
            yield data[: -len(marker)]
            keep = data[-len(marker) :]
        else:
            keep = data
    if keep != marker:
        raise ManagerReplyError("the sensor's file transfer ended before it was complete")


# ---------------------------------------------------------------------------
# Spool files that stay on a remote sensor
# ---------------------------------------------------------------------------

# type_spool_file codes of the manager's file commands (manager.md §6).
TYPE_CODES: Final = {KIND_SIP: 1, KIND_RTP: 6, KIND_GRAPH: 7, KIND_AUDIOGRAPH: 9}
_REMOTE_TAR_SUFFIXES: Final = ("", ".zst", ".gz", ".xz")


@dataclass(frozen=True)
class RemoteSpoolFile:
    """One call file read from a sensor's spool through its manager port (streamed).

    Quacks like ``cdr.media.spool.SpoolFile`` (``chunks``, ``open``, ``describe``, ``path``,
    ``filename``, ``positions``), so the media layer reads it like a local file. Manager
    failures while reading surface as ``MediaError`` with the sensor's reason.
    """

    client: ManagerClient
    kind: str
    filename: str
    relpath: str
    in_tar: bool = False
    positions: tuple[int, ...] = ()
    spool_index: int = 0
    record_id: int = 0
    label: str = ""

    @property
    def path(self) -> str:
        return f"{self.client.address}/{self.relpath}"

    def raw_chunks(self) -> Iterator[bytes]:
        """The file's bytes as the sensor sends them (LZO already removed by the sniffer)."""
        code = TYPE_CODES.get(self.kind, 10)
        try:
            if self.in_tar:
                yield from self.client.getfile_in_tar(
                    self.relpath,
                    self.filename,
                    date_time_key=f"k{self.record_id}",
                    record_id=self.record_id,
                    tar_positions=self.positions,
                    spool_index=self.spool_index,
                    type_code=code,
                )
            else:
                yield from self.client.getfile(self.relpath, self.spool_index, code)
        except ManagerError as exc:
            raise MediaError(f"{self.label or self.client.address}: {exc.reason}") from None

    def chunks(self) -> Iterator[bytes]:
        return decompress(self.raw_chunks())

    def open(self) -> ChunkReader:
        return ChunkReader(self.chunks())

    def describe(self) -> str:
        member = f":{self.filename}" if self.in_tar else ""
        return f"{self.client.address}:{self.relpath.rsplit('/', 1)[-1]}{member}"


def remote_candidates(call: CallRef, kind: str, filename: str) -> list[tuple[str, bool]]:
    """(relative path, is a tar) the sensor may hold the file at, most likely first.

    Paths are relative to the sensor's own spool root for the kind, in the sniffer's default
    layout (no per-sensor folder on the sensor itself); every part comes from database
    values (``CallRef``: calldate, sanitised Call-ID).
    """
    times = [call.calldate]
    if call.calldate.second == 0 and call.calldate.microsecond == 0:
        times.append(call.calldate - _dt.timedelta(minutes=1))
    out: list[tuple[str, bool]] = []
    for t in times:
        minute = t.strftime("%Y-%m-%d/%H/%M")
        out.append((f"{minute}/{kind}/{filename}", False))
        out.append((f"{minute}/{kind}/{filename}.gz", False))
        if kind in (KIND_SIP, KIND_RTP):
            out.append((f"{minute}/ALL/{filename}", False))
        stem = f"{kind.lower()}_{t.strftime('%Y-%m-%d-%H-%M')}"
        for suffix in _REMOTE_TAR_SUFFIXES:
            out.append((f"{minute}/{kind}/{stem}.tar{suffix}", True))
    return out


def locate_remote(
    client: ManagerClient,
    call: CallRef,
    kind: str,
    *,
    index: int | None = None,
    label: str = "",
) -> RemoteSpoolFile | None:
    """The call's SIP/RTP pcap, GRAPH or AUDIOGRAPH file on the sensor, or None.

    One ``file_exists`` request finds which candidate exists; nothing is downloaded until the
    returned file is read. An unreachable sensor raises ``MediaMissing`` naming it.
    """
    base = call.base
    filename = spool_file_name(base, kind, index)
    if not base:
        return None
    candidates = remote_candidates(call, kind, filename)
    try:
        found = client.file_exists_many([p for p, _ in candidates], call.spool_index or 0)
    except ManagerError as exc:
        raise MediaMissing(
            f"the {kind} file is not in the local spool, and {label or client.address} "
            f"cannot be asked for it: {exc.reason}"
        ) from None
    for relpath, is_tar in candidates:
        if relpath in found:
            positions = call.positions(kind) if is_tar and relpath.endswith(".tar") else ()
            return RemoteSpoolFile(
                client,
                kind,
                filename,
                relpath,
                in_tar=is_tar,
                positions=positions,
                spool_index=call.spool_index or 0,
                record_id=call.cdr_id,
                label=label,
            )
    return None
