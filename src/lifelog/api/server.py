"""The owner's side of the socket: uvicorn serving a small Starlette app on a Unix socket.

The app's routes are made from the facade's declarations (``calls.py``), a table of routes as
Starlette's own routing has it: one per call, whose endpoint reads the call's arguments from the
request (the query string, the JSON body checked field by field, or an uploaded file), has the
owner's :class:`LocalTimeline` answer in uvicorn's thread pool (each read on its own cursor, so
reads never wait for capture, for the writer, or for each other), and sends the answer as its
kind says: JSON, a window's text streamed, or a file streamed. Who owns the timeline (the lock
this process holds while it serves) is the daemon's business (``daemon/ownership.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lifelog.api.admission import WindowGate
from lifelog.api.calls import CALLS, Call, versions
from lifelog.api.http_errors import JsonErrors, http_exception, json_object
from lifelog.api.protocol import HEADER, PROTOCOL, bind_private, socket_path
from lifelog.api.timeline import LocalTimeline, Window
from lifelog.api.timeline_file import Export
from lifelog.api.upload import save_upload
from lifelog.errors import LifelogError, UsageError
from lifelog.models import Picture
from lifelog.paths import Paths
from lifelog.replay.context import check_budget

if TYPE_CHECKING:
    from lifelog.api.guard import Limits

log = logging.getLogger(__name__)

NONE = type(None)
STREAM_CHUNK = 64 * 1024


class OwnerServer:
    """Serves ``timeline`` on the socket from a background thread until ``stop()``; ``info``
    (pid, role, started: the owner lock's) is what ``/health`` says of the owner."""

    def __init__(self, paths: Paths, timeline: LocalTimeline, info: dict, limits: Limits | None = None) -> None:
        from lifelog.api.guard import Limits, guarded  # uvicorn: imported by the owner alone

        self.paths = paths
        self.timeline = timeline
        self.info = info
        self.protocol, self.door = guarded(limits or Limits())  # connection limit and timeouts (guard.py)
        self.socket = socket_path(paths)
        self._server: Any = None  # a uvicorn.Server once started
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> OwnerServer:
        import uvicorn

        listener = bind_private(self.socket)  # 0600 from the start; replaces a dead owner's: we hold the lock now
        config = uvicorn.Config(
            build_app(self.timeline, self.info),
            http=self.protocol,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=60,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, args=(listener,), name="lifelog-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                listener.close()
                raise LifelogError(f"Could not serve the lifelog socket {self.socket}; see the log.")
            time.sleep(0.01)
        return self

    def _serve(self, listener) -> None:
        async def serve() -> None:
            asyncio.get_running_loop().set_exception_handler(self.door.loop_errors)  # accept() out of fds: logged once
            await self._server.serve(sockets=[listener])

        asyncio.run(serve())

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self.socket.unlink(missing_ok=True)
            self._server = None


def build_app(timeline: LocalTimeline, info: dict) -> Starlette:
    """The Starlette app: a route per declared call, and ``/health`` (see protocol.py)."""
    gate = WindowGate()
    routes = [
        Route(f"/v{PROTOCOL}{call.path}", endpoint(call, timeline, gate), methods=[call.method])
        for call in CALLS.values()
    ]
    health = health_endpoint(info)
    routes += [
        Route(f"/v{PROTOCOL}/health", health),
        Route("/{version}/health", health),
    ]  # any version may ask who is there
    caps = {call.path: call.body_cap for call in CALLS.values()}
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception},
        middleware=[Middleware(JsonErrors, protocol=PROTOCOL, header=HEADER, caps=caps)],
    )


def health_endpoint(info: dict):
    async def health(request: Request) -> Response:
        return JSONResponse({"protocol": PROTOCOL, "version": _version(), "calls": versions(), **info})

    return health


def endpoint(call: Call, timeline: LocalTimeline, gate: WindowGate):
    """The route's endpoint for ``call``: its arguments read, answered, the answer sent."""

    async def answer(request: Request) -> Response:
        args = await read_args(call, request, timeline.paths)
        try:
            result = await answer_call(call, timeline, gate, args)
        finally:
            for p in call.params:
                if call.where(p) == "upload":
                    args[p.name].unlink(missing_ok=True)
        return RESPONSES[call.result.kind](call, result)

    answer.__name__ = call.name
    return answer


async def read_args(call: Call, request: Request, paths: Paths) -> dict:
    """The call's arguments from ``request``: query parameters (an empty one is not given), the
    JSON body's fields (their names and types checked: ``http_errors.json_object``), an upload
    streamed to a private file (``upload.py``); the declared defaults for the rest."""
    where = f"{request.method} {request.url.path}"
    given: dict[str, Any] = {}
    for p in call.params:
        if call.where(p) == "query" and request.query_params.get(p.key):
            given[p.name] = p.kind.from_query(request.query_params[p.key])
    body_params = [p for p in call.params if call.where(p) == "body"]
    if call.method == "POST" and not any(call.where(p) == "upload" for p in call.params):
        fields = {p.key: p.kind.json + ((NONE,) if p.default is None else ()) for p in body_params}
        body = await json_object(request, fields)
        given.update({p.name: _take(p, body[p.key]) for p in body_params if p.key in body})
    for p in call.params:
        if call.where(p) == "upload":  # the file is named, in messages, by the call's ``name`` parameter
            label = given.get("name") or next(q.default for q in call.params if q.name == "name")
            given[p.name] = await save_upload(request, paths, label)
        elif p.required and p.name not in given:
            raise UsageError(f"Bad request: {where} needs the field {p.key!r}.")
    return call.bind(kwargs=given)


def _take(p, value):
    return None if value is None else p.kind.take(value)


async def answer_call(call: Call, timeline: LocalTimeline, gate: WindowGate, args: dict):
    """The timeline's answer in the thread pool; a window admitted by its budget first, which is
    checked before it waits its turn (``admission.py``: the owner's memory stays bounded
    however many clients ask for however much)."""
    if call.admitted:
        check_budget(args["budget"])
        return await gate.run(args["budget"], lambda: timeline.answer(call, args))  # OwnerBusy: 503
    return await run_in_threadpool(timeline.answer, call, args)


def json_response(call: Call, result: Any) -> Response:
    return JSONResponse(result)


def window_response(call: Call, window: Window) -> Response:
    """The window's text in chunks, its count as JSON in the result's header."""
    data = window.text.encode("utf-8")
    chunks = (data[i : i + STREAM_CHUNK] for i in range(0, len(data), STREAM_CHUNK))
    return StreamingResponse(
        chunks, media_type=call.result.media, headers={call.result.header: json.dumps(window.meta())}
    )


def file_response(call: Call, export: Export) -> Response:
    """The file's chunks as they are read, rows per kind as JSON in the result's header."""

    def chunks() -> Iterator[bytes]:
        try:
            yield from export.chunks
        finally:
            export.close()

    return StreamingResponse(
        chunks(), media_type=call.result.media, headers={call.result.header: json.dumps({"rows": export.rows})}
    )


def image_response(call: Call, picture: Picture) -> Response:
    """The picture's bytes, what it shows as JSON in the result's header."""
    return Response(picture.png, media_type=call.result.media, headers={call.result.header: json.dumps(picture.meta)})


RESPONSES: dict[str, Callable[[Call, Any], Response]] = {
    "json": json_response,
    "stream": window_response,
    "file": file_response,
    "image": image_response,
}


def _version() -> str:
    from lifelog import __version__

    return __version__
