"""The socket's doorkeeper: how many connections the owner holds, and how long it waits for a request.

uvicorn's HTTP/1.1 protocol (h11) accepts every connection and waits for ever for its first
request, so idle or half-sent connections once took every file descriptor the owner had: every
request after that timed out, asyncio's accept loop logged a traceback a second, and the OCR
pipeline, unable to open spooled frames, took them for damaged. :class:`GuardedProtocol` adds:

- at most ``max_connections``: a connection over the limit closes the one that has waited
  longest for a request (idle or half-sent); when every connection is being answered, the
  newcomer is answered 503 with the protocol's JSON error, and past twice the limit it is
  closed at once (file descriptors come first);
- a request's head must arrive within ``header_timeout_s`` of its first byte (of the
  connection's start for its first request): a half-sent head gets 408 and is closed;
- a body that stops arriving for ``body_idle_s`` gets 408 and is closed;
- malformed HTTP is answered 400 with the JSON error shape, not uvicorn's plain text, and
  logged as one line a minute at most with a count (uvicorn logs a line per bad request, so a
  careless client could fill the log).

:class:`Door` is shared by the connections of one server; its :meth:`Door.loop_errors` is the
event loop's exception handler: when ``accept()`` runs out of file descriptors it closes idle
connections and logs one line a minute at most (asyncio retries the accept a second later).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

ACCEPT_EXHAUSTED = "socket.accept() out of system resource"  # asyncio's message when accept() fails for want of fds
ACCEPT_LOG_EVERY_S = 60.0
INVALID_REQUEST = "Invalid HTTP request received."  # what uvicorn's h11 protocol logs for each malformed request


@dataclass(frozen=True)
class Limits:
    """How much the owner's socket lets clients hold (tests lower the timeouts)."""

    max_connections: int = 64
    header_timeout_s: float = 10.0
    body_idle_s: float = 10.0


def error_bytes(status: int, message: str, exit_code: int = 2) -> bytes:
    """A whole HTTP/1.1 response carrying the protocol's JSON error, closing the connection."""
    body = json.dumps({"error": message, "exit_code": exit_code}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class Door:
    """What the connections of one server share: their limits and the accept-failure episode."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.connections: set = set()  # uvicorn's set of live protocols, known from the first one
        self.log = SparseLog(logging.getLogger("uvicorn.error"))  # uvicorn's logger, bad requests folded
        self.refused_accepts = 0  # accept() failures since the last line about them
        self._logged_at: float | None = None  # loop time of that line

    def idle(self, but=None) -> list[GuardedProtocol]:
        """Connections waiting for a request, the longest-waiting first."""
        waiting = [c for c in self.connections if isinstance(c, GuardedProtocol) and c is not but and c.waiting]
        return sorted(waiting, key=lambda c: c.waiting_since)

    def close_idle(self, count: int) -> int:
        closed = self.idle()[:count]
        for c in closed:
            c.close_waiting()
        return len(closed)

    def loop_errors(self, loop, context: dict) -> None:
        """The event loop's exception handler: accept() out of file descriptors frees half the
        idle connections and is logged at most once a minute; anything else goes to asyncio's."""
        if context.get("message") != ACCEPT_EXHAUSTED:
            loop.default_exception_handler(context)
            return
        freed = self.close_idle(max(1, len(self.idle()) // 2))
        self.refused_accepts += 1
        if self._logged_at is None or loop.time() - self._logged_at >= ACCEPT_LOG_EVERY_S:
            log.warning(
                "cannot accept connections (%s): closed %d idle connections; asyncio retries every second "
                "(%d refused since the last such line, which comes at most once a minute)",
                context.get("exception"),
                freed,
                self.refused_accepts,
            )
            self._logged_at, self.refused_accepts = loop.time(), 0


class SparseLog:
    """uvicorn's error logger for one server, with its line per malformed request folded into
    one line a minute at most that counts them; every other line passes as it is."""

    def __init__(self, logger: logging.Logger, every_s: float = ACCEPT_LOG_EVERY_S) -> None:
        self._log, self.every_s = logger, every_s
        self.unlogged = 0  # malformed requests since the last line about them
        self._logged_at: float | None = None

    def warning(self, msg, *args, **kwargs) -> None:
        if msg != INVALID_REQUEST:
            self._log.warning(msg, *args, **kwargs)
            return
        self.unlogged += 1
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at >= self.every_s:
            self._log.warning(
                "malformed HTTP request answered 400 (%d since the last such line, which comes at most once a minute)",
                self.unlogged,
            )
            self._logged_at, self.unlogged = now, 0

    def __getattr__(self, name: str):
        return getattr(self._log, name)


def guarded(limits: Limits) -> tuple[type, Door]:
    """A protocol class for ``uvicorn.Config(http=...)`` and the door its connections share."""
    door = Door(limits)
    return type("GuardedProtocol", (GuardedProtocol,), {"door": door}), door


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with the limits above; ``guarded()`` gives each server its own door."""

    door: Door = Door(Limits())

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.logger = self.door.log  # type: ignore[assignment]  # a Logger in uvicorn's types; SparseLog acts as one
        self.door.connections = self.connections
        self.waiting_since = self.loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._got_bytes = False
        self._arm(self.door.limits.header_timeout_s, self._head_late)
        if len(self.connections) > self.door.limits.max_connections:
            self._make_room()

    @property
    def waiting(self) -> bool:
        """Waiting for a request (none is being answered) and still open."""
        return (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing()

    def _make_room(self) -> None:
        limit = self.door.limits.max_connections
        idle = self.door.idle(but=self)
        if idle:
            idle[0].close_waiting()
        elif len(self.connections) > 2 * limit:
            log.warning("%d connections, all being answered: closing a new one", len(self.connections) - 1)
            self.transport.close()
        else:
            self.app = _busy(limit)

    def close_waiting(self) -> None:
        """Close a connection with no request in progress (a half-sent one is told why)."""
        self._disarm()
        if self._got_bytes:
            self.transport.write(error_bytes(408, "The request was not sent in time; the owner closed the connection."))
        self.transport.close()

    # -- timers ---------------------------------------------------------------------------
    def _arm(self, seconds: float, then) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_late(self) -> None:
        self._timer = None
        if self.waiting:
            self.close_waiting()

    def _body_late(self) -> None:
        """No byte of the body for ``body_idle_s``: the route waiting for it hears a disconnect."""
        self._timer = None
        if self.transport.is_closing() or self.cycle is None:
            return
        if self.flow.read_paused:  # the route is not reading: not the client's delay
            self._arm(self.door.limits.body_idle_s, self._body_late)
            return
        if not self.cycle.response_started:
            self.transport.write(
                error_bytes(408, "The request's body stopped arriving; the owner closed the connection.")
            )
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        self.transport.close()

    # -- uvicorn's hooks ------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._timer is None and self.conn.their_state is h11.IDLE:  # a new request on a kept-alive connection
            self._arm(self.door.limits.header_timeout_s, self._head_late)
        self._got_bytes = True
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm(self.door.limits.body_idle_s, self._body_late)
        elif state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()
        self.waiting_since = self.loop.time()
        self._got_bytes = False
        super().on_response_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        self.transport.write(error_bytes(400, f"Bad request: {msg}"))
        self.transport.close()


def _busy(limit: int):
    async def busy(scope, receive, send) -> None:
        body = json.dumps(
            {
                "error": f"The lifelog owner is answering {limit} connections at once; try again in a moment.",
                "exit_code": 1,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close"), (b"retry-after", b"1")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return busy
