"""The client side of the owner's socket: the facade's calls as HTTP requests.

Built on the standard library's ``http.client`` (no framing of our own, and nothing heavy to
import: a command that asks the owner starts fast). One connection per timeline, kept alive
across calls. A socket nobody answers is stale (the owner died): the caller works locally.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from lifelog.api.protocol import HEADER, OWNER_LOCK, PROTOCOL, socket_path
from lifelog.api.timeline import Window
from lifelog.errors import LifelogError
from lifelog.paths import Paths

CONNECT_TIMEOUT_S = 5.0  # how long a health check waits before calling the owner hung
CALL_TIMEOUT_S = 600.0  # a month-long context window can take minutes on a slow machine


class OwnerError(LifelogError):
    """The owner answered with an error, or stopped answering."""

    hung = False  # it accepted the connection but did not answer in time


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("lifelog", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def find_owner(paths: Paths) -> "RemoteTimeline | None":
    """A timeline served by the running owner, or None when there is none (no socket, or a
    stale one nobody answers)."""
    path = socket_path(paths)
    if not path.exists():
        return None
    remote = RemoteTimeline(str(path))
    try:
        remote.owner = remote.health()
    except OwnerError as exc:
        remote.close()
        if exc.hung:  # alive but not answering: say so rather than wait on its file lock
            raise
        return None  # nobody listens: the socket of an owner that died
    if remote.owner.get("protocol") != PROTOCOL:
        remote.close()
        raise OwnerError(
            f"The running lifelog (PID {remote.owner.get('pid')}) speaks protocol {remote.owner.get('protocol')}; "
            f"this lifelog speaks {PROTOCOL}. Restart it (`lifelog daemon restart`) so both are the same version.")
    return remote


class RemoteTimeline:
    """The facade's calls answered by the owner over its socket."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.owner: dict | None = None
        self._con = _UnixConnection(path, CONNECT_TIMEOUT_S)

    def health(self) -> dict:
        return json.loads(self._call("GET", "/health", timeout=CONNECT_TIMEOUT_S))

    def search(self, query, *, since=None, until=None, app=None, limit=20) -> list[dict]:
        params = {"q": query, "since": _iso(since), "until": _iso(until), "app": app, "limit": limit}
        query_string = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return json.loads(self._call("GET", f"/search?{query_string}"))

    def context(self, *, since, until, budget, fmt="markdown", tokenizer="o200k", model=None, images=None) -> Window:
        body = {"since": _iso(since), "until": _iso(until), "budget": budget, "format": fmt, "tokenizer": tokenizer,
                "model": model, "images": images}
        resp = self._request("POST", "/context", body)
        meta = json.loads(resp.getheader("Lifelog-Window"))
        return Window(text=resp.read().decode("utf-8"), **meta)

    def status(self) -> dict:
        return json.loads(self._call("GET", "/status"))

    def import_transcripts(self, rows, chunk, *, file: str) -> int:
        body = {"file": file, "chunk": _plain(asdict(chunk)), "transcripts": [_plain(asdict(r)) for r in rows]}
        return json.loads(self._call("POST", "/import", body))["transcripts"]

    def record_event(self, kind: str, detail: dict, *, at: datetime) -> None:
        self._call("POST", "/event", {"kind": kind, "detail": detail, "at": _iso(at)})

    def pause(self, seconds):
        return json.loads(self._call("POST", "/pause", {"seconds": seconds}))

    def resume(self):
        return json.loads(self._call("POST", "/resume", {}))

    def stop(self):
        return json.loads(self._call("POST", "/stop", {}))

    def close(self) -> None:
        self._con.close()

    # -- transport ----------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict | None = None, timeout: float = CALL_TIMEOUT_S) -> bytes:
        return self._request(method, path, body, timeout).read()

    def _request(self, method, path, body=None, timeout: float = CALL_TIMEOUT_S) -> http.client.HTTPResponse:
        data = None if body is None else json.dumps(body).encode()
        headers = {HEADER: str(PROTOCOL), "Content-Type": "application/json"}
        self._con.timeout = timeout
        if self._con.sock is not None:
            self._con.sock.settimeout(timeout)
        try:
            self._con.request(method, f"/v{PROTOCOL}{path}", body=data, headers=headers)
            resp = self._con.getresponse()
        except TimeoutError:
            self._con.close()
            error = OwnerError(self._who(f"did not answer within {timeout:g} s; it may be busy or hung. "
                                         "See `lifelog daemon logs`; `lifelog daemon stop` stops it."))
            error.hung = True
            raise error from None
        except (OSError, http.client.HTTPException) as exc:
            self._con.close()
            raise OwnerError(self._who(f"stopped answering ({exc}).")) from None
        if resp.status >= 400:
            detail = json.loads(resp.read() or b"{}")
            error = OwnerError(detail.get("error") or self._who(f"answered HTTP {resp.status}."))
            error.exit_code = int(detail.get("exit_code", 1))
            raise error
        return resp

    def _who(self, what: str) -> str:
        pid = (self.owner or {}).get("pid") or _lock_pid(self.path)
        return f"The running lifelog (PID {pid}, socket {self.path}) {what}"


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def _plain(d: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in d.items()}


def _lock_pid(socket_file: str) -> str:
    """The owner's PID from the lock file beside its socket, for messages ("?" if unknown)."""
    try:
        return str(json.loads((Path(socket_file).parent / OWNER_LOCK).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "?"
