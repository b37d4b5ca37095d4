"""Raw HTTP/1.1 over the owner's Unix socket, for requests no well-behaved client would send:
an owner started for a test, bytes in, the parsed answer out."""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import dataclass

from lifelog.api.guard import Limits
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.paths import Paths
from lifelog.store import Store


@contextlib.contextmanager
def serving(paths: Paths, limits: Limits | None = None):
    """A real owner of ``paths`` (its own DuckDB file, its socket) while the block runs."""
    lock = OwnerLock(paths, "test")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info, limits).start()
    try:
        yield server
    finally:
        server.stop()
        store.close()
        lock.release()


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def error(self) -> dict:
        """The protocol's error this answer carries (fails the test when it is not one)."""
        assert self.headers.get("content-type", "").startswith("application/json"), self
        detail = json.loads(self.body)
        assert isinstance(detail["error"], str) and "\n" not in detail["error"] and detail["error"], detail
        assert detail["exit_code"] in (1, 2), detail
        return detail


def connect(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


def exchange(path, data: bytes, timeout: float = 30.0) -> Answer | None:
    """Send ``data`` on a new connection and read until the owner closes it: the answer, or
    None when it closed without one."""
    with connect(path) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):  # refused before the body was read: the answer waits
            pass
        return parse(read_all(sock))


def read_all(sock: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def parse(raw: bytes) -> Answer | None:
    if not raw:
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return Answer(int(status_line.split()[1]), headers, body)


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            return out
        out, body = out + rest[:n], rest[n + 2 :]
    return out


def request(method: str, target: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    """A whole request that asks the owner to close the connection after answering."""
    lines = [f"{method} {target} HTTP/1.1", "Host: lifelog", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
