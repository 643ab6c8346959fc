"""Shared helpers of the manager / active-calls tests (this module has no tests of its own).

Real TCP peers on loopback:

* ``ReplayPeer``: answers every connection with fixed bytes (a captured sniffer reply,
  verbatim) and records what it received;
* ``SilentPeer``: accepts connections and never answers (a hung sensor);
* ``closed_port()``: a loopback port where nothing listens (a dead sensor).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from tests.conftest import FIXTURE_DIR

MANAGER_FIXTURES = FIXTURE_DIR / "manager"
LISTCALLS_FIXTURES = sorted(
    p.name for p in MANAGER_FIXTURES.glob("listcalls_reply*") if not p.name.endswith(".meta.json")
)


def fixture_bytes(name: str) -> bytes:
    return (MANAGER_FIXTURES / name).read_bytes()


class _Peer:
    """A loopback TCP server run by a thread; ``received`` holds each connection's request."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.host = "127.0.0.1"
        self.received: list[bytes] = []
        self.connections = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._open:
            conn.close()
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket) -> bytes:
        conn.settimeout(0.5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and b":sea" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data

    def _serve(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class ReplayPeer(_Peer):
    """Answers each request with ``reply`` (sent in ``chunk``-byte pieces), then closes."""

    def __init__(self, reply: bytes, chunk: int = 0) -> None:
        super().__init__()
        self.reply = reply
        self.chunk = chunk

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.received.append(self._read_request(conn))
            if not self.chunk:
                conn.sendall(self.reply)
                return
            for i in range(0, len(self.reply), self.chunk):
                conn.sendall(self.reply[i : i + self.chunk])


class SilentPeer(_Peer):
    """Accepts, reads, never answers; connections stay open until the peer is closed."""

    def _serve(self, conn: socket.socket) -> None:
        self._open.append(conn)
        self.received.append(self._read_request(conn))
        self._stop.wait(30)


class DripPeer(_Peer):
    """Sends one byte every ``interval`` seconds, forever (a sensor that never finishes)."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__()
        self.interval = interval

    def _serve(self, conn: socket.socket) -> None:
        self._open.append(conn)
        self.received.append(self._read_request(conn))
        try:
            while not self._stop.wait(self.interval):
                conn.sendall(b"[")
        except OSError:
            pass


def closed_port() -> int:
    """A loopback port with no listener (bound then closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fixture_path(name: str) -> Path:
    return MANAGER_FIXTURES / name
