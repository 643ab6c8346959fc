"""A sensor simulator: a real TCP server speaking the sniffer's manager protocol.

Used by the tests (over loopback) and by ``make run``'s demo (``manage.py sensor_simulator``)
so that the active-calls view shows live calls without a sniffer. It behaves like sniffer
2026.04.0 as shared/reference/sniffer-manager.md describes it:

* one command per connection; the request is complete at once when the first chunk holds
  ``\\r\\n\\r\\n`` (or an AES request's ``:sea``), otherwise after a chunk with ``\\r\\n``, a
  half-close, or 500 ms of silence; the reply ends with EOF;
* dispatch on the exact first word, else on the alphabetically first command name that occurs
  anywhere in the line, else ``command not found``;
* ``listcalls`` in the exact format of the real sniffer (header row, totals element with a
  JSON argument, ``{totals}`` alone with ``limit`` 0, value arrays with 5 trailing nulls when
  custom headers exist, floats with 6 decimals, ``\\/`` escapes, gzip with ``"zip":"yes"``) —
  the tests re-encode every captured reply byte for byte;
* ``pausecall``/``unpausecall`` (empty reply, ``Bad/missing Call id``, ``Call id not found``),
  ``getversion``/``getbuild``/``getverbuild``, ``totalcalls``, ``support_aes``,
  ``exists_aes_key``, ``need_aes``, ``file_exists``, ``getfile`` and ``getfile_in_tar`` from a
  spool directory;
* live listening like the sniffer with ``liveaudio=yes`` (``liveaudio=False``: every
  ``listen`` answers ``liveaudio is disabled``): ``listen <ref> <id>`` → ``success``, or
  ``call already listening`` when the call already has a listener (the new id is added all
  the same), or ``call not found``; ``readaudio <ref> <id>`` → the 8 kHz mono s16le PCM the
  call produced since that listener's last read (at most the last 10 s), ``information: wait
  for data`` when there is none yet (not answered, or read again at once), ``error: call not
  found`` / ``error: worker not found`` / ``error: client of worker not found``;
  ``listen_stop <ref> <id>`` → empty reply. Each call "talks" a tone of its own
  (``SimCall.tone_hz``, 350-890 Hz, with a harmonic and a syllable-rate swell) generated
  in real time from the clock; a paused call's audio is silence, as the sniffer's;
* AES mode (``<cipher>:<ciphertext>:sea`` requests, ``aes:`` replies, ``need aes!`` for
  plaintext commands that are not exempt, ``failed aes decrypt!``).

Faults on demand: ``delay`` (seconds before answering), ``hang`` (accept, never answer),
``drop`` (reset the connection instead of answering; a probability from 0 to 1).

The calls come from ``CallPool``: a deterministic (seeded) changing set of realistic calls —
calls ring, get answered, accumulate RTP statistics and end, and new ones start.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import socket
import socketserver
import struct
import threading
import time
import zlib
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from cdr.media.spool import MediaError, SpoolFile, decompress, sanitize_name
from cdr.sensors.manager import BUILTIN_COLUMNS, AesConfig

VERSION: Final = "2026.04.0"
BUILD: Final = "vmgui-simulator"
REQUEST_WAIT: Final = 0.5  # the sniffer's wait for a further request chunk
FIRST_CHUNK: Final = 4096
TRAILING_NULLS: Final = 5  # extra nulls per value array when custom headers are configured
DEFAULT_CUSTOM_HEADERS: Final = ("custom_header__X-Custom-Header", "custom_header_1_1")
# Commands the sniffer answers in plaintext even when it demands AES (manager.md §3).
AES_EXEMPT: Final = frozenset(
    "getversion getbuild getverbuild totalcalls printspool sniffer_stat datadir_stat "
    "disk_io_calibration disk_io_recalibrate sniffer_threads memory_stat jemalloc_stat "
    "tcmalloc_stats thread usleep packetbuffer_log packetbuffer_save need_aes "
    "failed_aes_decrypt support_aes exists_aes_key manager_file sql_errors_skip".split()
)
_AES_REQUEST: Final = re.compile(rb"^(aes[^:\r\n]{0,16}):(.*):sea\s*$", re.S | re.I)
_AES_START: Final = re.compile(rb"^aes[^:\r\n]{0,16}:", re.I)
_HEX_REF: Final = re.compile(r"0x([0-9a-fA-F]+)")
# type_spool_file codes (manager.md §6) → spool kind folder.
TYPE_CODES: Final = {1: "SIP", 6: "RTP", 7: "GRAPH", 8: "AUDIO", 9: "AUDIOGRAPH"}
# Live listening: the sniffer's audio rate, and how much unread audio its spy buffer keeps.
SAMPLE_RATE: Final = 8000
LISTEN_BUFFER_SECONDS: Final = 10
LISTEN_ID_MAX: Final = 19  # the sniffer reads the listen id into char[20]


# ---------------------------------------------------------------------------
# The sniffer's JSON
# ---------------------------------------------------------------------------


def json_value(value: Any) -> str:
    """One value as the sniffer prints it: floats with 6 decimals, ``/`` escaped as ``\\/``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("/", "\\/")
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{json_value(str(k))}:{json_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json_value(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def totals_object(total: int, id_sensor: int = -1, **extra: Any) -> dict[str, Any]:
    return {"total": total, "is_receiver": 0, "is_server": 0, "id_sensor": id_sensor, **extra}


def encode_listcalls(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    totals: dict[str, Any] | None = None,
    trailing: int | None = None,
) -> bytes:
    """The listcalls reply body. ``trailing`` nulls are appended to each value array (default:
    5 when there are custom header columns, as the sniffer does)."""
    if trailing is None:
        trailing = TRAILING_NULLS if any(c.startswith("custom_header") for c in columns) else 0
    parts = [json_value(list(columns))]
    if totals is not None:
        parts.append("[" + json_value(totals) + "]")
    pad = [None] * trailing
    for row in rows:
        parts.append(json_value([*row, *pad]))
    return ("[" + ",".join(parts) + "]").encode("utf-8")


def gzip_body(data: bytes) -> bytes:
    """gzip exactly as the sniffer's zlib does it (default level, mtime 0, OS unix)."""
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


# ---------------------------------------------------------------------------
# A changing set of realistic calls
# ---------------------------------------------------------------------------

_NAMES: Final = [
    "Alice Novak",
    "Bob Svoboda",
    "Carol Dvorak",
    "Dave Cerny",
    "Eva Prochazka",
    "Frank Kucera",
    "Gina Vesela",
    "Hugo Horak",
    "Ivana Nemcova",
    "Jan Marek",
]
_DOMAINS: Final = [
    "pbx.alpha.example.com",
    "sip.beta.example.net",
    "voip.gamma.example.org",
    "carrier.example.com",
]
_AGENTS: Final = [
    "Yealink SIP-T46S 66.86.0.15",
    "Grandstream GXP2170 1.0.11.3",
    "Linphone/5.2.0 (belle-sip/5.2.0)",
    "Zoiper rv2.10.19.5",
    "Asterisk PBX 20.5.0",
    "FixturePhone/1.0",
]
_CODECS: Final = [0, 8, 8, 8, 9, 18]  # PCMU, PCMA (most common), G.722, G.729
_ACCOUNTS: Final = ["ACC-100", "ACC-200", "ACC-300", None]


@dataclass
class SimCall:
    """One simulated call; its listcalls row is computed for a given moment."""

    ref: str
    callid: str
    start: float
    end: float
    answer_at: float | None
    caller: str
    called: str
    callername: str | None
    callerdomain: str
    calleddomain: str
    calleragent: str | None
    calledagent: str | None
    callerip: int | str
    calledip: int | str
    codec: int
    id_sensor: int
    mos: int  # MOS × 10 of the stream
    jitter: float  # ms
    loss: float  # fraction of lost packets
    headers: dict[str, str | None] = field(default_factory=dict)
    vlan: int = 65534
    paused: bool = False

    def answered(self, now: float) -> bool:
        return self.answer_at is not None and self.answer_at <= now

    @property
    def tone_hz(self) -> float:
        """The call's "voice": a fundamental of its own (from the reference, not the seed's
        random stream, so the call set stays what it was)."""
        return 350.0 + 60.0 * ((int(self.ref, 16) >> 6) % 10)

    def audio(self, first: int, count: int) -> bytes:
        """``count`` samples of the call's mixed audio from absolute sample ``first``
        (``first / SAMPLE_RATE`` = Unix time), 8 kHz mono s16le; silence while paused."""
        if count <= 0:
            return b""
        if self.paused:
            return bytes(2 * count)
        # Relative to the call's start: small arguments keep the phase exact across reads.
        n = np.arange(first, first + count, dtype=np.int64) - int(self.start * SAMPLE_RATE)
        t = n / SAMPLE_RATE
        f = self.tone_hz
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * 3.3 * t)  # a syllable rhythm, never silent
        wave = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t)
        return np.round(6000 * swell * wave).astype("<i2").tobytes()

    def row(self, now: float, columns: Sequence[str], zone: dt.tzinfo) -> list[Any]:
        values = self.values(now, zone)
        return [values.get(c) for c in columns]

    def values(self, now: float, zone: dt.tzinfo) -> dict[str, Any]:
        start = dt.datetime.fromtimestamp(self.start, zone)
        answered = self.answered(now)
        v: dict[str, Any] = {
            "callreference": self.ref,
            "callid": self.callid,
            "calldate": start.strftime("%Y-%m-%d %H:%M:%S") + f".{start.microsecond // 1000:03d}",
            "calldate_num": int(self.start),
            "lastpackettime": int(now),
            "duration": max(0, int(now - self.start)),
            "connect_duration": max(0, int(now - self.answer_at)) if answered else 0,
            "caller": self.caller,
            "called": self.called,
            "caller_country": None,
            "called_country": None,
            "caller_international": True,
            "called_international": True,
            "callername": self.callername,
            "callerdomain": self.callerdomain,
            "calleddomain": self.calleddomain,
            "calleragent": self.calleragent,
            "calledagent": self.calledagent if answered else None,
            "callerip": self.callerip,
            "calledip": self.calledip,
            "callerip_country": None,
            "calledip_country": None,
            "callerip_encaps": 0,
            "calledip_encaps": 0,
            "callerip_encaps_prot": 255,
            "calledip_encaps_prot": 255,
            "sipproxies": None,
            "lastSIPresponseNum": 200 if answered else (183 if now - self.start > 2 else 180),
            "rtp_src": self.callerip if answered else None,
            "rtp_dst": self.calledip if answered else None,
            "rtp_src_country": None,
            "rtp_dst_country": None,
            "callercodec": self.codec if answered else -1,
            "calledcodec": self.codec if answered else -1,
            "id_sensor": self.id_sensor,
            "vlan": self.vlan,
        }
        if answered:
            talk = now - (self.answer_at or now)
            # Deterministic wobble from the call's own numbers: stats change between polls.
            wobble = math.sin(now / 7.0 + self.start)
            for side, shift in (("src", 0), ("dst", 1)):
                cur = max(10, min(45, self.mos - shift + round(wobble)))
                first = talk < 10
                for kind in ("f1", "f2", "AD"):
                    v[f"{side}_mos{kind}"] = cur
                    v[f"{side}_mos{kind}_avg"] = 0 if first else self.mos - shift
                    v[f"{side}_mos{kind}_min"] = min(cur, self.mos - shift)
                jit = self.jitter * (1 + 0.3 * wobble) + 0.01 * shift
                v[f"{side}_jitter"] = round(jit, 6)
                v[f"{side}_jitter_avg"] = round(self.jitter, 6)
                v[f"{side}_jitter_max"] = round(self.jitter * 3.5 + 0.02, 6)
                received = int(talk * 50)
                lost = int(received * self.loss)
                v[f"{side}_received"] = received - lost
                v[f"{side}_loss_abs"] = lost
                v[f"{side}_loss"] = round(self.loss * 100, 6)
                v[f"{side}_loss_last10sec"] = round(self.loss * 1000 * max(0.0, wobble), 6)
        v.update(self.headers)
        return v


class CallPool:
    """A deterministic, changing set of active calls (seeded; the clock is injectable).

    Between ``low`` and ``high`` calls are active at any time; each rings 1-8 s, most are
    answered, and lasts 20 s to a few minutes; a finished call disappears and new ones start.
    """

    def __init__(
        self,
        *,
        seed: int = 2026,
        low: int = 3,
        high: int = 8,
        id_sensors: Sequence[int] = (-1,),
        custom_headers: Sequence[str] = DEFAULT_CUSTOM_HEADERS,
        clock: Callable[[], float] = time.time,
        zone: str = "UTC",
    ) -> None:
        if not 0 <= low <= high:
            raise ValueError("need 0 <= low <= high")
        self.rng = random.Random(seed)
        self.low, self.high = low, high
        self.id_sensors = tuple(id_sensors) or (-1,)
        self.columns = (*BUILTIN_COLUMNS, *custom_headers)
        self.custom_headers = tuple(custom_headers)
        self.clock = clock
        self.zone = zoneinfo.ZoneInfo(zone)
        self.lock = threading.Lock()
        self.calls: list[SimCall] = []
        self._next_ref = 0x7F2BC0001000 + self.rng.randrange(0, 0x100000) * 0x10
        self._serial = 0
        self._updated: float | None = None
        now = self.clock()
        for _ in range(self._target(now)):
            self.calls.append(self._new_call(now, ongoing=True))
        self._updated = now

    def _target(self, now: float) -> int:
        if self.high == 0:
            return 0
        span = self.high - self.low
        return self.low + round(span * (0.5 + 0.5 * math.sin(now / 97.0)))

    def _ip(self, side: int) -> int | str:
        if self.rng.random() < 0.1:
            return f"2001:db8:{side}::{self.rng.randrange(1, 0xFFFF):x}"
        return (
            (10 << 24) | (side << 16) | (self.rng.randrange(0, 4) << 8) | self.rng.randrange(2, 255)
        )

    def _new_call(self, now: float, *, ongoing: bool = False) -> SimCall:
        r = self.rng
        self._serial += 1
        self._next_ref += r.randrange(1, 64) * 0x40
        age = r.uniform(0, 120) if ongoing else r.uniform(0, 1.5)
        start = round(now - age, 3)
        ring = r.uniform(1, 8)
        answered = r.random() < 0.85
        length = max(20.0, r.expovariate(1 / 120))
        end = start + ring + (length if answered else r.uniform(5, 25))
        if ongoing and end <= now:
            end = now + r.uniform(10, 120)
        name = r.choice(_NAMES)
        internal = r.random() < 0.5
        caller = f"{r.randrange(1000, 1100)}" if internal else f"+420602{r.randrange(0, 10**6):06d}"
        called = (
            f"{r.randrange(2000, 2100)}"
            if r.random() < 0.4
            else f"+44207{r.randrange(0, 10**7):07d}"
        )
        headers: dict[str, str | None] = {}
        for n, column in enumerate(self.custom_headers):
            if n == 0:
                headers[column] = f"sim-{self._serial}" if r.random() < 0.3 else None
            else:
                headers[column] = r.choice(_ACCOUNTS)
        domain = r.choice(_DOMAINS)
        return SimCall(
            ref=f"0x{self._next_ref:x}",
            callid=f"{r.getrandbits(64):016x}@{domain}",
            start=start,
            end=end,
            answer_at=start + ring if answered else None,
            caller=caller,
            called=called,
            callername=name,
            callerdomain=domain,
            calleddomain=r.choice(_DOMAINS),
            calleragent=r.choice(_AGENTS),
            calledagent=r.choice(_AGENTS) if r.random() < 0.7 else None,
            callerip=self._ip(1),
            calledip=self._ip(2),
            codec=r.choice(_CODECS),
            id_sensor=r.choice(self.id_sensors),
            mos=r.choice([45, 44, 43, 41, 38, 33]),
            jitter=round(r.uniform(0.005, 4.0), 6),
            loss=r.choice([0.0, 0.0, 0.0, 0.001, 0.01, 0.03]),
            headers=headers,
        )

    def advance(self, now: float | None = None) -> list[SimCall]:
        """End finished calls and start new ones; the calls active at ``now``."""
        now = self.clock() if now is None else now
        with self.lock:
            self.calls = [c for c in self.calls if c.end > now]
            target = self._target(now)
            while len(self.calls) < target:
                self.calls.append(self._new_call(now))
            self._updated = now
            return list(self.calls)

    def find(self, ref_value: int) -> SimCall | None:
        with self.lock:
            for call in self.calls:
                if int(call.ref, 16) == ref_value:
                    return call
        return None

    def rows(self, now: float | None = None) -> list[list[Any]]:
        now = self.clock() if now is None else now
        return [c.row(now, self.columns, self.zone) for c in self.advance(now)]


# ---------------------------------------------------------------------------
# The TCP server
# ---------------------------------------------------------------------------


def _cut_line(text: str) -> str:
    for sep in ("\r", "\n"):
        text = text.split(sep, 1)[0]
    return text


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: ManagerSimulator


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.sim._serve(self.request)


class ManagerSimulator:
    """A manager-protocol server on ``host:port`` (port 0 = any free port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        pool: CallPool | None = None,
        aes: AesConfig | None = None,
        enable_unencrypted: bool = False,
        delay: float = 0.0,
        hang: bool = False,
        drop: float = 0.0,
        spool_dir: Path | str | None = None,
        liveaudio: bool = True,
        id_sensor: int = -1,
        request_wait: float = REQUEST_WAIT,
        version: str = VERSION,
        seed: int = 2026,
    ) -> None:
        self.pool = pool if pool is not None else CallPool(seed=seed)
        self.aes = aes
        self.enable_unencrypted = enable_unencrypted
        self.delay = delay
        self.hang = hang
        self.drop = drop
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self.liveaudio = liveaudio
        # Live listeners: (call reference value, listen id) → next absolute sample to send.
        self.listeners: dict[tuple[int, str], int] = {}
        self.listen_log: list[tuple[str, str, str]] = []  # (command, ref, listen id) accepted
        self._listen_lock = threading.Lock()
        self.id_sensor = id_sensor
        self.request_wait = request_wait
        self.version = version
        self.rng = random.Random(seed)
        self.requests: list[bytes] = []  # every raw request received (tests inspect it)
        self.commands: list[str] = []  # every command line understood
        self.connections = 0
        self._stop = threading.Event()
        self._server = _Server((host, port), _Handler, bind_and_activate=True)
        self._server.sim = self
        self._thread: threading.Thread | None = None
        self.handlers: dict[str, Callable[[str, bool], bytes]] = {
            "getversion": lambda a, e: self.version.encode(),
            "getbuild": lambda a, e: BUILD.encode(),
            "getverbuild": lambda a, e: f"{self.version} ({BUILD})".encode(),
            "totalcalls": lambda a, e: str(len(self.pool.advance())).encode(),
            "support_aes": lambda a, e: b"yes",
            "exists_aes_key": lambda a, e: b"yes" if self.aes else b"no",
            "need_aes": lambda a, e: b"yes" if self._requires_aes() else b"no",
            "listcalls": self._listcalls,
            "pausecall": lambda a, e: self._pause(a, True),
            "unpausecall": lambda a, e: self._pause(a, False),
            "listen": self._listen,
            "readaudio": self._readaudio,
            "listen_stop": self._listen_stop,
            "file_exists": self._file_exists,
            "getfile": lambda a, e: self._getfile(a, zip_=False),
            "getfile_zip": lambda a, e: self._getfile(a, zip_=True),
            "getfile_in_tar": lambda a, e: self._getfile_in_tar(a, zip_=False),
            "getfile_in_tar_zip": lambda a, e: self._getfile_in_tar(a, zip_=True),
            "help": lambda a, e: ("commands: " + " ".join(sorted(self.handlers))).encode(),
        }

    # --- life cycle ----------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> ManagerSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ManagerSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- one connection ------------------------------------------------------------------

    def _read_request(self, sock: socket.socket) -> bytes:
        sock.settimeout(30)
        try:
            data = sock.recv(FIRST_CHUNK)
        except OSError:
            return b""
        aes_like = bool(_AES_START.match(data))

        def complete(buf: bytes, chunk: bytes) -> bool:
            if aes_like:
                return buf.rstrip().endswith(b":sea")
            return b"\r\n" in chunk or b":sea" in chunk

        if not data or (
            (b"\r\n\r\n" in data and not aes_like) or (aes_like and complete(data, data))
        ):
            return data
        while True:
            sock.settimeout(self.request_wait)
            try:
                chunk = sock.recv(FIRST_CHUNK)
            except TimeoutError:
                return data
            except OSError:
                return data
            if not chunk:
                return data
            data += chunk
            if complete(data, chunk):
                return data

    def _requires_aes(self) -> bool:
        return self.aes is not None and not self.enable_unencrypted

    def _serve(self, sock: socket.socket) -> None:
        self.connections += 1
        try:
            data = self._read_request(sock)
            self.requests.append(data)
            if self.hang:
                self._stop.wait(60)
                return
            if self.drop and self.rng.random() < self.drop:
                # Reset instead of a clean close: an empty reply would read as "done".
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            reply = self._answer(data)
            if self.delay:
                if self._stop.wait(self.delay):
                    return
            sock.settimeout(30)
            sock.sendall(reply)
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def _answer(self, data: bytes) -> bytes:
        encrypted = False
        m = _AES_REQUEST.match(data)
        if m is not None:
            if self.aes is None:
                return b"failed aes decrypt!\n"
            try:
                text = self._aes_for(m.group(1)).decrypt(m.group(2)).decode("latin-1")
            except Exception:
                return b"failed aes decrypt!\n"
            encrypted = True
        else:
            text = data.decode("latin-1")
        line = _cut_line(text)
        words = line.split(None, 1)
        name = words[0] if words else ""
        args = words[1].strip() if len(words) > 1 else ""
        if not encrypted and self._requires_aes() and name not in AES_EXEMPT:
            self.commands.append(line)
            return b"need aes!\n"
        handler = self.handlers.get(name)
        if handler is None:
            for candidate in sorted(self.handlers):
                if candidate in line:
                    handler = self.handlers[candidate]
                    args = line.split(candidate, 1)[1].strip()
                    break
        self.commands.append(line)
        reply = b"command not found\n" if handler is None else handler(args, encrypted)
        if encrypted:
            reply = b"aes:" + self._aes_for(m.group(1)).encrypt(reply)  # type: ignore[union-attr]
        return reply

    def _aes_for(self, name: bytes) -> AesConfig:
        """The cipher named in the request; unknown names fall back to AES-128-CBC."""
        assert self.aes is not None
        bits = {b"aes-128-cbc": 16, b"aes-192-cbc": 24, b"aes-256-cbc": 32}.get(name.lower(), 16)
        if bits == len(self.aes.key):
            return self.aes
        return AesConfig(self.aes.key[:bits].ljust(bits, b"\0"), self.aes.iv)

    # --- commands ------------------------------------------------------------------------

    def _listcalls(self, args: str, encrypted: bool) -> bytes:
        options: dict[str, Any] | None = None
        if args:
            try:
                parsed = json.loads(args)
                options = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                options = {}
        now = self.pool.clock()
        columns = self.pool.columns
        rows = self.pool.rows(now)
        opts = options or {}
        sort_field = str(opts.get("sort_field") or "calldate_num")
        if sort_field == "calldate":
            sort_field = "calldate_num"  # same order; the sniffer sorts the time value
        desc = str(opts.get("sort_dir") or "desc").lower() != "asc"
        if sort_field in columns:
            i = columns.index(sort_field)
            rows.sort(key=lambda r: (r[i] is not None, _sort_key(r[i])), reverse=desc)
        try:
            limit = int(opts.get("limit", -1))
        except (TypeError, ValueError):
            limit = -1
        totals = None
        if options is not None:
            totals = totals_object(len(rows), self.id_sensor)
            if opts.get("sensor_map") == "yes":
                counts: dict[str, int] = {}
                for call in self.pool.advance(now):
                    counts[str(call.id_sensor)] = counts.get(str(call.id_sensor), 0) + 1
                totals["sensors"] = counts
        if limit == 0 and totals is not None:
            body = json_value(totals).encode()
        else:
            if limit > 0:
                rows = rows[:limit]
            body = encode_listcalls(columns, rows, totals=totals)
        if opts.get("zip") == "yes":
            return gzip_body(body)
        return body

    def _pause(self, args: str, paused: bool) -> bytes:
        m = _HEX_REF.match(args)
        if m is None:
            return b"Bad/missing Call id\n"
        call = self.pool.find(int(m.group(1), 16))
        if call is None:
            return b"Call id not found\n"
        call.paused = paused
        return b""

    # --- live listening (manager.md §7) ---------------------------------------------------

    @staticmethod
    def _listen_args(args: str) -> tuple[int, str]:
        """``<ref> <id>`` as the sniffer reads it: ``%llu`` first, else ``%llx`` (``0x`` or
        bare hex); 0 = unreadable. The id is cut to what the sniffer's buffer holds."""
        words = args.split()
        if not words:
            return 0, ""
        token = words[0]
        listen_id = words[1][:LISTEN_ID_MAX] if len(words) > 1 else ""
        digits = re.match(r"\d+", token)
        value = int(digits.group()) if digits else 0
        if not value:
            hexa = re.match(r"(?:0[xX])?([0-9a-fA-F]+)", token)
            value = int(hexa.group(1), 16) if hexa else 0
        return value, listen_id

    def listening(self, ref: str) -> list[str]:
        """The listen ids of a call (``0x…``) that have not been stopped."""
        value = int(ref, 16)
        with self._listen_lock:
            return sorted(i for v, i in self.listeners if v == value)

    def _drop_ended(self) -> None:
        with self._listen_lock:
            live = {int(c.ref, 16) for c in self.pool.calls}
            for key in [k for k in self.listeners if k[0] not in live]:
                del self.listeners[key]

    def _listen(self, args: str, encrypted: bool) -> bytes:
        if not self.liveaudio:
            return b"liveaudio is disabled"
        value, listen_id = self._listen_args(args)
        self.pool.advance()
        call = self.pool.find(value) if value else None
        if call is None:
            return b"call not found"
        self._drop_ended()
        start = int(self.pool.clock() * SAMPLE_RATE)
        with self._listen_lock:
            already = any(v == value for v, _ in self.listeners)
            self.listeners[(value, listen_id)] = start
            self.listen_log.append(("listen", call.ref, listen_id))
        return b"call already listening" if already else b"success"

    def _readaudio(self, args: str, encrypted: bool) -> bytes:
        value, listen_id = self._listen_args(args)
        self.pool.advance()
        call = self.pool.find(value) if value else None
        if call is None:
            self._drop_ended()
            return b"error: call not found"
        now = int(self.pool.clock() * SAMPLE_RATE)
        with self._listen_lock:
            if not any(v == value for v, _ in self.listeners):
                return b"error: worker not found"
            if (value, listen_id) not in self.listeners:
                return b"error: client of worker not found"
            first = max(
                self.listeners[(value, listen_id)], now - LISTEN_BUFFER_SECONDS * SAMPLE_RATE
            )
            if call.answer_at is not None:
                # No RTP before the answer: nothing to hear.
                first = max(first, int(call.answer_at * SAMPLE_RATE))
            if call.answer_at is None or now <= first:
                return b"information: wait for data"
            self.listeners[(value, listen_id)] = now
        return call.audio(first, now - first)

    def _listen_stop(self, args: str, encrypted: bool) -> bytes:
        value, listen_id = self._listen_args(args)
        with self._listen_lock:
            if self.listeners.pop((value, listen_id), None) is not None:
                self.listen_log.append(("listen_stop", f"0x{value:x}", listen_id))
        return b""  # the sniffer answers listen_stop with an empty reply

    # --- spool files ---------------------------------------------------------------------

    def _spool_path(self, rel: str) -> Path | None:
        if self.spool_dir is None or "../" in rel or rel.startswith("/") or rel in ("", ".."):
            return None
        root = self.spool_dir.resolve()
        path = (root / rel).resolve()
        return path if path.is_relative_to(root) else None

    def _file_exists(self, args: str, encrypted: bool) -> bytes:
        """One path: its size or ``not_exists``; ``a|b|c``: ``ok`` + ``path:size`` lines."""
        words = args.split()
        rels = words[0].split("|") if words else []
        found = []
        for rel in rels:
            path = self._spool_path(rel)
            if path is not None and path.is_file():
                found.append((rel, path.stat().st_size))
        if not found:
            return b"not_exists"
        if len(rels) == 1:
            return str(found[0][1]).encode()
        return ("ok\n" + "".join(f"{rel}:{size}\n" for rel, size in found)).encode()

    def _getfile(self, args: str, *, zip_: bool) -> bytes:
        words = args.split()
        if not words or "../" in words[0]:
            return b"access denied"
        path = self._spool_path(words[0])
        if path is None or not path.is_file():
            return f"error: cannot open file {path or words[0]}".encode()
        data = b"".join(_unlzo(_read(path)))
        return gzip_body(data) if zip_ and not data.startswith(b"\x1f\x8b") else data

    def _getfile_in_tar(self, args: str, *, zip_: bool) -> bytes:
        words = args.split()
        if len(words) < 2 or "../" in words[0]:
            return b"access denied"
        tar = self._spool_path(words[0])
        if tar is None or not tar.is_file():
            return f"error: missing file [{words[0]}]".encode()
        member = sanitize_name(words[1])
        end = words[8].encode() if len(words) > 8 else b""
        kind = TYPE_CODES.get(int(words[7]) if len(words) > 7 and words[7].isdigit() else 1, "SIP")
        try:
            data = b"".join(_unlzo(SpoolFile(kind, member, tar, tars=(tar,)).raw_chunks()))
        except MediaError:
            return b""  # not in the tar: nothing, and no end marker (the transfer is incomplete)
        if zip_ and not data.startswith(b"\x1f\x8b"):
            data = gzip_body(data)
        return data + end


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _unlzo(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The sniffer removes its own LZO/LZ4 chunk framing from files it sends; nothing else."""
    chunks = iter(chunks)
    first = next(chunks, b"")
    rest = (c for part in ([first], chunks) for c in part)
    if first[:3] in (b"LZO", b"LZ4"):
        return decompress(rest)
    return rest
