"""Every answer of the owner's API is JSON, errors included, and every request body is bounded.

:class:`JsonErrors` wraps the Starlette app as plain ASGI (``BaseHTTPMiddleware`` buffers and
lets an unexpected exception reach uvicorn, which answered a plain-text 500 and logged a
traceback). It checks the protocol version, refuses a body over its call's cap (413) before
reading it when its length is declared and as soon as it passes the cap when it is not, gives a
JSON body ``BODY_TIMEOUT_S`` to arrive whole (408), and turns any exception into the protocol's
``{"error": one line, "exit_code": n}``: bad input 4xx, a busy owner 503, and anything
unexpected a 500 logged once with its traceback. :func:`json_object` reads a call's body and
checks its fields' names and types, so a body of ``[]``, an unknown field or a string where a
number goes is a 400 naming it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time

from lifelog.api.calls import BODY_CAP
from lifelog.errors import BodyTooLarge, BodyTooSlow, LifelogError, ProtocolMismatch, StoreBusy, UsageError

log = logging.getLogger(__name__)

BODY_TIMEOUT_S = 30.0  # a JSON body arrives whole within this, however it trickles
NUMBER = (int, float)


class JsonErrors:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(
        self,
        app,
        *,
        protocol: int,
        header: str,
        caps: dict | None = None,
        cap: int = BODY_CAP,
        body_timeout_s: float | None = None,
    ) -> None:
        self.app, self.protocol, self.header = app, protocol, header.lower().encode()
        self.caps = caps or {}  # call path -> its cap (None: the route bounds its body itself); else ``cap``
        self.cap = cap
        self.body_timeout_s = BODY_TIMEOUT_S if body_timeout_s is None else body_timeout_s  # read now: tests lower it

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = f"{scope['method']} {scope['path']}"
        started = False

        async def tracked(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            self._check(scope, where)
            await self.app(scope, self._bounded(scope, receive, where), tracked)
        except Exception as exc:
            if _client_gone(exc):
                log.info("%s: the client went away (%s)", where, type(exc).__name__)
                return
            status, message, exit_code = answer(exc, where)
            if started:  # a streamed answer broke off: the client sees the connection close
                log.error("%s failed while answering: %s", where, message, exc_info=status >= 500)
            else:
                await send_error(send, status, message, exit_code)

    def _cap(self, scope) -> int | None:
        call = scope["path"].removeprefix(f"/v{self.protocol}")
        return self.caps.get(call, self.cap)

    def _check(self, scope, where: str) -> None:
        """Refuse before reading: another protocol version, a declared body over the cap."""
        headers = dict(scope["headers"])
        asked = headers.get(self.header)
        if asked is not None and asked != str(self.protocol).encode() and not scope["path"].endswith("/health"):
            raise ProtocolMismatch(
                f"This lifelog owner speaks protocol {self.protocol}; the client asked for "
                f"{asked.decode(errors='replace')}. Use the same lifelog version on both sides."
            )
        cap, length = self._cap(scope), headers.get(b"content-length")
        if cap is not None and length is not None and length.isdigit() and int(length) > cap:
            raise _too_large(where, cap)

    def _bounded(self, scope, receive, where: str):
        """``receive`` counting the body against its cap and its time, until it is whole."""
        cap = self._cap(scope)
        if cap is None:
            return receive
        seen, whole = 0, False
        deadline = time.monotonic() + self.body_timeout_s

        async def bounded():
            nonlocal seen, whole
            if whole:  # the body is in: a later receive() waits for a disconnect, however long
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise BodyTooSlow(
                    f"Bad request: the body of {where} did not arrive within {self.body_timeout_s:g} s."
                ) from None
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _too_large(where, cap)
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return bounded


def _too_large(where: str, cap: int) -> BodyTooLarge:
    return BodyTooLarge(f"Bad request: the body of {where} is over its limit of {cap:,} bytes.")


def _client_gone(exc: Exception) -> bool:
    from starlette.requests import ClientDisconnect

    return isinstance(exc, (ClientDisconnect, ConnectionError))


def answer(exc: Exception, where: str) -> tuple[int, str, int]:
    """(HTTP status, one-line message, exit code) for an exception raised answering ``where``;
    an unexpected one is logged here, once, with its traceback."""
    status = getattr(exc, "http_status", None)
    if isinstance(exc, LifelogError):
        code = exc.exit_code
        status = status or (400 if code == 2 else 503 if isinstance(exc, StoreBusy) else 500)
        if status >= 500:
            log.warning("%s: %s", where, exc)
        return status, _line(str(exc)), code
    if isinstance(exc, json.JSONDecodeError):
        return 400, f"Bad request: the body of {where} is not JSON ({exc}).", 2
    if isinstance(exc, RecursionError):  # json.loads of [[[[...: bad input, though not a ValueError
        log.warning("%s: %s", where, exc)
        return 400, f"Bad request: the body of {where} is nested too deeply.", 2
    if isinstance(exc, KeyError):
        return 400, f"Bad request: {where} needs the field {exc}.", 2
    if isinstance(exc, (TypeError, ValueError, OverflowError)):
        return 400, _line(f"Bad request: {exc}"), 2
    log.error("%s failed", where, exc_info=exc)
    return (
        500,
        _line(f"The lifelog owner failed on {where} ({type(exc).__name__}: {exc}); see `lifelog daemon logs`."),
        1,
    )


def _line(message: str, limit: int = 500) -> str:
    one = " ".join(message.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


async def send_error(send, status: int, message: str, exit_code: int) -> None:
    """The protocol's error as a whole response; a body refused unread closes the connection."""
    body = json.dumps({"error": message, "exit_code": exit_code}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def http_exception(request, exc):
    """Starlette's 404 and 405 in the protocol's shape."""
    from starlette.responses import JSONResponse

    where = f"{request.method} {request.url.path}"
    message = {
        404: f"The lifelog owner has no call {where}.",
        405: f"The lifelog owner does not answer {where} (wrong method).",
    }.get(exc.status_code, exc.detail)
    return JSONResponse({"error": message, "exit_code": 2}, status_code=exc.status_code, headers=exc.headers)


async def json_object(request, fields: dict[str, tuple]) -> dict:
    """The body of ``request``: a JSON object whose fields are among ``fields`` (name → the
    types it may have; ``float`` must be finite, ``bool`` is not an ``int``)."""
    where = f"{request.method} {request.url.path}"
    body = await request.json()
    if not isinstance(body, dict):
        raise UsageError(f"Bad request: the body of {where} must be a JSON object, not {_kind(body)}.")
    for name, value in body.items():
        if name not in fields:
            raise UsageError(
                f"Bad request: {where} has no field {name!r} (it takes {', '.join(fields) or 'none'}). "
                "If the owner is an older lifelog, restart it (`lifelog daemon restart`)."
            )
        if not _fits(value, fields[name]):
            raise UsageError(
                f"Bad request: {name} in {where} must be {' or '.join(_kind(t) for t in fields[name])}, "
                f"not {_kind(value)}."
            )
    return body


def _fits(value, types: tuple) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, float):
        return float in types and math.isfinite(value)
    return isinstance(value, types)


def _kind(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "an infinite number"
    kind = value if isinstance(value, type) else type(value)
    return {
        type(None): "null",
        bool: "true/false",
        int: "a whole number",
        float: "a finite number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(kind, kind.__name__)
