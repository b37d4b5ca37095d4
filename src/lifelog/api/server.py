"""The owner's side of the socket: uvicorn serving a small Starlette app on a Unix socket.

Every call is answered by the owner's :class:`LocalTimeline` in uvicorn's thread pool, each
read on its own cursor, so reads never wait for capture, for the writer, or for each other.
:func:`claim` makes this process the one owner (an ``flock`` on ``owner.lock``, which the
kernel drops when the process dies): a second owner is refused with a message naming the
first; a socket left by a dead owner is taken over.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from lifelog.api.admission import WindowGate
from lifelog.api.http_errors import NUMBER, JsonErrors, http_exception, json_object
from lifelog.api.jsonl import MEDIA_TYPE
from lifelog.api.protocol import HEADER, PROTOCOL, bind_private, lock_path, socket_path
from lifelog.api.timeline import LocalTimeline, Window
from lifelog.api.upload import save_upload
from lifelog.errors import LifelogError, UsageError
from lifelog.models import AudioChunkRecord, Transcript
from lifelog.paths import Paths
from lifelog.replay.context import check_budget

if TYPE_CHECKING:
    from lifelog.api.guard import Limits

log = logging.getLogger(__name__)

NONE = type(None)
CONTEXT_FIELDS = {**dict.fromkeys(("since", "until", "model", "query"), (str, NONE)), "budget": (int,),
                  "format": (str,), "tokenizer": (str,), "images": (int, NONE)}

STREAM_CHUNK = 64 * 1024


class OwnerRunning(LifelogError):
    """Another process already owns this timeline."""


class OwnerLock:
    """This process owns the timeline while it holds the lock (the kernel drops it on death)."""

    def __init__(self, paths: Paths, role: str) -> None:
        self.path = lock_path(paths)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_owner(paths) or {}
            os.close(self.fd)
            raise OwnerRunning(
                f"lifelog is already running here ({holder.get('role', 'owner')}, PID {holder.get('pid', '?')}, "
                f"since {holder.get('started', '?')}). Stop it first (`lifelog daemon stop`, or Ctrl-C where "
                "`lifelog record` runs).") from None
        self.info = {"pid": os.getpid(), "role": role, "started": datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(self.info).encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.close(self.fd)  # drops the flock
            self.fd = None


def read_owner(paths: Paths) -> dict | None:
    """What the owner lock file says about the owner (pid, role, started), if anything."""
    try:
        return json.loads(lock_path(paths).read_text() or "null")
    except (OSError, ValueError):
        return None


class OwnerServer:
    """Serves ``timeline`` on the socket from a background thread until ``stop()``."""

    def __init__(self, paths: Paths, timeline: LocalTimeline, lock: OwnerLock, limits: Limits | None = None) -> None:
        from lifelog.api.guard import Limits, guarded  # uvicorn: imported by the owner alone

        self.paths = paths
        self.timeline = timeline
        self.lock = lock
        self.protocol, self.door = guarded(limits or Limits())  # connection limit and timeouts (guard.py)
        self.socket = socket_path(paths)
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> "OwnerServer":
        import uvicorn

        listener = bind_private(self.socket)  # 0600 from the start; replaces a dead owner's: we hold the lock now
        config = uvicorn.Config(build_app(self.timeline, self.lock.info), http=self.protocol,
                                log_config=None, log_level="warning", access_log=False,
                                lifespan="off", timeout_keep_alive=60)
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
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self.socket.unlink(missing_ok=True)
            self._server = None


def build_app(timeline: LocalTimeline, info: dict):
    """The Starlette app: one route per facade call (see protocol.py)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    gate = WindowGate()

    async def health(request):
        return JSONResponse({"protocol": PROTOCOL, "version": _version(), **info})

    async def status(request):
        return JSONResponse(await run_in_threadpool(timeline.status))

    async def search(request):
        q = request.query_params
        hits = await run_in_threadpool(
            timeline.search, q.get("q", ""), since=_time(q.get("since")), until=_time(q.get("until")),
            app=q.get("app"), limit=int(q.get("limit", 20)))
        return JSONResponse(hits)

    async def context(request):
        """Windows are admitted by budget (``admission.py``): the owner's memory stays bounded
        however many clients ask for however much."""
        args = _context_args(await json_object(request, CONTEXT_FIELDS))
        window: Window = await gate.run(args["budget"], lambda: timeline.context(**args))  # OwnerBusy: 503
        data = window.text.encode("utf-8")
        chunks = (data[i:i + STREAM_CHUNK] for i in range(0, len(data), STREAM_CHUNK))
        return StreamingResponse(chunks, media_type="text/plain; charset=utf-8",
                                 headers={"Lifelog-Window": json.dumps(window.meta())})

    async def import_(request):
        body = await json_object(request, {"file": (str,), "chunk": (dict,), "transcripts": (list,)})
        chunk = AudioChunkRecord(**_times(body["chunk"], "t_start", "t_end"))
        rows = [Transcript(**_times(r, "t_start", "t_end")) for r in body["transcripts"]]
        n = await run_in_threadpool(timeline.import_transcripts, rows, chunk, file=body.get("file", ""))
        return JSONResponse({"transcripts": n})

    async def export(request):
        q = request.query_params
        stream = await run_in_threadpool(timeline.export_jsonl, since=_time(q.get("since")), until=_time(q.get("until")))

        def chunks():
            try:
                yield from stream.chunks
            finally:
                stream.close()

        return StreamingResponse(chunks(), media_type=MEDIA_TYPE, headers={"Lifelog-Export": json.dumps({"rows": stream.rows})})

    async def import_jsonl(request):
        """The upload streams to a private file in the data folder, within import_max (upload.py), then is imported."""
        name = request.query_params.get("name") or "the uploaded file"
        tmp = await save_upload(request, timeline.paths, name)
        try:
            report = await run_in_threadpool(timeline.import_jsonl, tmp, name=name)
        finally:
            tmp.unlink(missing_ok=True)
        return JSONResponse(report)

    async def event(request):
        body = await json_object(request, {"kind": (str,), "detail": (dict, NONE), "at": (str,)})
        await run_in_threadpool(timeline.record_event, str(body["kind"]), dict(body.get("detail") or {}),
                                at=_time(body["at"]))
        return JSONResponse({"recorded": True})

    async def forget(request):
        body = await json_object(request, {**dict.fromkeys(("since", "until", "app", "title", "matching"), (str, NONE)),
                                           "dry_run": (bool,)})
        return JSONResponse(await run_in_threadpool(timeline.forget, body, dry_run=bool(body.get("dry_run"))))

    async def pause(request):
        seconds = (await json_object(request, {"seconds": (*NUMBER, NONE)})).get("seconds")
        return JSONResponse(await run_in_threadpool(timeline.pause, None if seconds is None else float(seconds)))

    async def resume(request):
        await json_object(request, {})
        return JSONResponse(await run_in_threadpool(timeline.resume))

    async def stop(request):
        await json_object(request, {})
        return JSONResponse(await run_in_threadpool(timeline.stop))

    v = f"/v{PROTOCOL}"
    routes = [
        Route(f"{v}/health", health), Route(f"{v}/status", status), Route(f"{v}/search", search),
        Route(f"{v}/context", context, methods=["POST"]), Route(f"{v}/import", import_, methods=["POST"]),
        Route(f"{v}/event", event, methods=["POST"]), Route(f"{v}/export", export),
        Route(f"{v}/import-jsonl", import_jsonl, methods=["POST"]),
        Route(f"{v}/forget", forget, methods=["POST"]),
        Route(f"{v}/pause", pause, methods=["POST"]), Route(f"{v}/resume", resume, methods=["POST"]),
        Route(f"{v}/stop", stop, methods=["POST"]),
        Route("/{version}/health", health),  # any version may ask who is there
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_exception},
                     middleware=[Middleware(JsonErrors, protocol=PROTOCOL, header=HEADER)])


def _context_args(body: dict) -> dict:
    """The facade's arguments from a context request, its budget checked before it waits its turn."""
    check_budget(body.get("budget"))
    return {"since": _time(body.get("since")), "until": _time(body.get("until")), "budget": body["budget"],
            "fmt": body.get("format", "markdown"), "tokenizer": body.get("tokenizer", "o200k"),
            "model": body.get("model"), "images": body.get("images"), "query": body.get("query") or None}


def _time(value: str | None) -> datetime | None:
    """An ISO-8601 time from a request; one the timeline cannot hold (not a string, or beyond
    year 1-9999 in UTC) is a bad request."""
    if not value:
        return None
    if not isinstance(value, str):
        raise UsageError(f"Bad request: a time is an ISO-8601 string, not {value!r}.")
    try:
        at = datetime.fromisoformat(value)
        if at.tzinfo is not None:
            at.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise UsageError(f"Bad request: {value[:80]!r} is not a time lifelog can hold (ISO-8601, UTC within "
                         "years 1-9999).") from None
    return at


def _times(d: dict, *keys: str) -> dict:
    return {k: _time(v) if k in keys else v for k, v in d.items()}


def _version() -> str:
    from lifelog import __version__

    return __version__
