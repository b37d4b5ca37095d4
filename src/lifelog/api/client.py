"""The client side of the owner's socket: the facade's calls as HTTP requests, made from
their declarations (``calls.py``).

Built on the standard library's ``http.client`` (no framing of our own, and nothing heavy to
import: a command that asks the owner starts fast). One connection per timeline, kept alive
across calls. A socket nobody answers is stale (the owner died): the caller works locally. A
call (or a parameter) newer than the owner's version of it is refused here, in one line, before
it is sent (the owner says its calls' versions in ``/health``).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.parse
from pathlib import Path
from typing import Any

from lifelog.api.calls import CALLS, Call
from lifelog.api.jsonl import MEDIA_TYPE
from lifelog.api.protocol import HEADER, OWNER_LOCK, PROTOCOL, socket_path
from lifelog.api.timeline import Timeline, Window
from lifelog.api.timeline_file import Export
from lifelog.errors import OwnerError
from lifelog.models import Picture
from lifelog.paths import Paths

CONNECT_TIMEOUT_S = 5.0  # how long a health check waits before calling the owner hung
CALL_TIMEOUT_S = 600.0  # a month-long context window can take minutes on a slow machine
STREAM_CHUNK = 256 * 1024  # bytes per read of a streamed export, per write of an uploaded file
REUSE_IDLE_S = 2.0  # a kept-alive connection idle longer is replaced (cheap on a Unix socket) rather than trusted


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("lifelog", timeout=timeout, blocksize=STREAM_CHUNK)
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


def find_owner(paths: Paths) -> RemoteTimeline | None:
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
            f"this lifelog speaks {PROTOCOL}. Restart it (`lifelog daemon restart`) so both are the same version."
        )
    return remote


# What an owner from before per-call versions (no "calls" in its health) answers: version 1 of
# each call it has (a call it lacks answers 404).
BEFORE_VERSIONS = dict.fromkeys(CALLS, 1)


class RemoteTimeline(Timeline):
    """The facade's calls answered by the owner over its socket."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.owner: dict | None = None
        self._con = _UnixConnection(path, CONNECT_TIMEOUT_S)
        self._used = time.monotonic()  # when the connection last carried a call

    def health(self) -> dict:
        return self._json(self._call("GET", "/health", timeout=CONNECT_TIMEOUT_S))

    def answer(self, call: Call, args: dict) -> Any:
        self._check_version(call, args)
        query: dict[str, Any] = {}
        body: dict[str, Any] = {}
        raw = None
        for p in call.params:
            value, where = args[p.name], call.where(p)
            if where == "upload":
                raw = value
            elif value is not None and (p.required or value != p.default):  # a default goes unsaid
                (query if where == "query" else body)[p.key] = p.kind.send(value)
        target = call.path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        if raw is not None:
            return self._json(self._upload(target, Path(raw)))
        resp = self._request(call.method, target, body if call.method == "POST" else None)
        return _READERS[call.result.kind](self, resp, call)

    def _check_version(self, call: Call, args: dict) -> None:
        """Refuse a call the owner is too old for (its own health says), rather than have it
        answer 404 or leave a newer parameter out. A timeline made without ``find_owner`` has
        no health to go by: the owner's answers say."""
        if self.owner is None:
            return
        have = (self.owner.get("calls") or BEFORE_VERSIONS).get(call.name)
        need, what = call.needs(args)
        if have is None:
            reason = f"does not know {call.name}: it is an older lifelog."
        elif have < need:
            reason = f"answers {call.name} at version {have}, and {what} needs version {need}: it is an older lifelog."
        else:
            return
        raise OwnerError(self._who(f"{reason} Restart it (`lifelog daemon restart`) so both are the same version."))

    def _upload(self, target: str, path: Path) -> bytes:
        """Send the file to the owner, which checks and merges it (allowing 1 s per MB on top
        of the usual wait: a month of spans is a few hundred MB)."""
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return self._call("POST", target, raw=(fh, size, MEDIA_TYPE), timeout=CALL_TIMEOUT_S + size / 1e6)

    def _window(self, resp: http.client.HTTPResponse, call: Call) -> Window:
        meta = self._json(resp.getheader(call.result.header) or "", f"its window's {call.result.header} header")
        try:
            return Window(text=resp.read().decode("utf-8"), **meta)
        except (TypeError, UnicodeDecodeError, OSError, http.client.HTTPException) as exc:
            self._con.close()
            raise OwnerError(self._who(f"sent a window that cannot be read ({exc}).")) from None

    def _file(self, resp: http.client.HTTPResponse, call: Call) -> Export:
        header = call.result.header
        rows = self._json(resp.getheader(header) or "{}", f"its {header} header").get("rows", {})
        done = False

        def chunks():
            nonlocal done
            while True:
                try:
                    data = resp.read(STREAM_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    self._con.close()
                    raise OwnerError(self._who(f"stopped answering during the export ({exc!r}).")) from None
                if not data:
                    done = True
                    return
                yield data

        def close() -> None:
            if not done:  # a half-read response cannot be followed by another call on this connection
                self._con.close()

        return Export(rows, chunks(), close)

    def _image(self, resp: http.client.HTTPResponse, call: Call) -> Picture:
        meta = self._json(resp.getheader(call.result.header) or "", f"its picture's {call.result.header} header")
        try:
            return Picture(resp.read(), meta)
        except (OSError, http.client.HTTPException) as exc:
            self._con.close()
            raise OwnerError(self._who(f"sent a picture that cannot be read ({exc}).")) from None

    def close(self) -> None:
        self._con.close()

    # -- transport ----------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        timeout: float = CALL_TIMEOUT_S,
        raw: tuple | None = None,
    ) -> bytes:
        return self._request(method, path, body, timeout, raw).read()

    def _request(
        self, method, path, body=None, timeout: float = CALL_TIMEOUT_S, raw: tuple | None = None
    ) -> http.client.HTTPResponse:
        """``body`` goes as JSON; ``raw`` = (file, size, media type) streams a file instead."""
        data = None if body is None else json.dumps(body).encode()
        headers = {HEADER: str(PROTOCOL), "Content-Type": "application/json"}
        if raw is not None:
            data, size, media = raw
            headers.update({"Content-Type": media, "Content-Length": str(size)})
        self._con.timeout = timeout
        if self._con.sock is not None and time.monotonic() - self._used > REUSE_IDLE_S:
            self._con.close()  # the owner may have closed it meanwhile (idle too long, or to make room)
        if self._con.sock is not None:
            self._con.sock.settimeout(timeout)
        try:
            try:
                self._con.request(method, f"/v{PROTOCOL}{path}", body=data, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                if raw is None or self._con.sock is None:
                    raise
                # the owner refused an upload before reading all of it (over import_max): its answer says why
            resp = self._con.getresponse()
        except TimeoutError:
            self._con.close()
            error = OwnerError(
                self._who(
                    f"did not answer within {timeout:g} s; it may be busy or hung. "
                    "See `lifelog daemon logs`; `lifelog daemon stop` stops it."
                )
            )
            error.hung = True
            raise error from None
        except (OSError, http.client.HTTPException) as exc:
            self._con.close()
            raise OwnerError(self._who(f"stopped answering ({exc}).")) from None
        finally:
            self._used = time.monotonic()
        if resp.status == 404:  # an owner from before this call was added
            resp.read()
            raise OwnerError(
                self._who(
                    f"does not know {path.split('?')[0]}: it is an older lifelog. "
                    "Restart it (`lifelog daemon restart`) so both are the same version."
                )
            )
        if resp.status >= 400:
            raise self._error(resp)
        return resp

    def _error(self, resp: http.client.HTTPResponse) -> OwnerError:
        """The owner's JSON error as one line; anything else it answered is summed up, never a traceback."""
        try:
            detail = json.loads(resp.read())
            message, code = str(detail["error"]), int(detail.get("exit_code", 1))
        except (OSError, http.client.HTTPException, ValueError, TypeError, KeyError):
            self._con.close()
            message, code = self._who(f"answered HTTP {resp.status} {resp.reason} without the usual error."), 1
        error = OwnerError(" ".join(message.split()))
        error.exit_code = code if code in (1, 2) else 1
        return error

    def _json(self, data: bytes | str, what: str = "its answer"):
        try:
            return json.loads(data)
        except ValueError:
            raise OwnerError(self._who(f"sent something that is not JSON as {what}.")) from None

    def _who(self, what: str) -> str:
        pid = (self.owner or {}).get("pid") or _lock_pid(self.path)
        return f"The running lifelog (PID {pid}, socket {self.path}) {what}"


_READERS = {  # an answer, by the kind of the call's result
    "json": lambda remote, resp, call: remote._json(resp.read()),
    "stream": RemoteTimeline._window,
    "file": RemoteTimeline._file,
    "image": RemoteTimeline._image,
}


def _lock_pid(socket_file: str) -> str:
    """The owner's PID from the lock file beside its socket, for messages ("?" if unknown)."""
    try:
        return str(json.loads((Path(socket_file).parent / OWNER_LOCK).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "?"
