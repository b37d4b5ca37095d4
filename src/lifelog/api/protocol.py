"""The owner's local API: HTTP/1.1 over a Unix domain socket, JSON in and out.

The calls are declared once, in ``calls.py`` (name, parameters with their kinds, defaults and
descriptions, result, version); the owner's routes (``server.py``) and the client
(``client.py``) are made from that table. This docstring is the wire specification.

Versioned: every path starts with ``/v{PROTOCOL}``, and every request carries the header
``Lifelog-Protocol``. An owner answers a request of another version with 409 and a message
naming both versions; ``GET /v1/health`` answers any version, so a client can say which side
to upgrade. Errors are ``{"error": message, "exit_code": n}`` with a 4xx/5xx status, always
(``http_errors.py``): 400 bad input (not JSON, not an object, an unknown field, a wrong type, a
missing field), 404/405 no such call, 408 a request not sent in time, 409 another protocol or
no recorder, 413 a body over its cap (1 MiB; 64 MiB for /import; /import-jsonl: ``import_max``),
503 busy (64 connections, or windows waiting), 500 only for the owner's own failure. The owner
holds at most 64 connections and closes one whose request head is not in 10 s or whose body
stops for 10 s (``guard.py``).

    GET  /v1/health                 {"protocol", "version", "calls": {call: version}, "pid", "role", "started"}
    GET  /v1/status                 the status dict (timeline counts, spool, the owner's recorder)
    GET  /v1/search?q=&since=&until=&app=&limit=   [hit, ...] best first (limit 1 to 1000, default 20)
    GET  /v1/activity?since=&until=&utc_offset=   where the time went: active minutes per app and
                                    hour (day, week or month for longer ranges; cut utc_offset minutes
                                    east of UTC, default 0), text coverage, frames, tokens, gaps by
                                    reason, as one JSON object (shape: ``replay/activity.py``)
    POST /v1/context {since, until, budget, format, tokenizer, model, images, query, lessons}
                                    the window's bytes, streamed; its count in the Lifelog-Window header
                                    (format "markdown" by default, tokenizer "o200k"; "messages": a chat
                                    request for model, up to images keyframes; query (version 2): full
                                    detail where it is answered, the rest outlined); budget 1 to
                                    10,000,000 (400 beyond); 503 when the owner is building as many
                                    windows as its memory allows (``admission.py``)
    POST /v1/import {transcripts: [...], chunk: {...}, file}   one transaction; {"transcripts": n}
    POST /v1/event {kind, detail, at}   a client's event (kind "ask": question and answer); {"recorded": true}
    GET  /v1/export?since=&until=   the range as lifelog JSONL (``jsonl.py``), streamed as it is
                                    read; rows per type in the Lifelog-Export header {"rows": {...}}
    POST /v1/import-jsonl?name=     body: a lifelog JSONL file (application/x-ndjson), streamed to
                                    disk (over import_max: 413); checked whole, merged in short
                                    slices, all taken back if one fails; the import report
    POST /v1/forget {since, until, app, title, matching, dry_run}   forget it everywhere (or say
                                    what would go): the report, with the data folder's bytes before/after
    GET  /v1/now?minutes=&budget=   {"at", "last_screen_at", "recorder", "screens": [{monitor, app, window,
                                    seen_at, lines, more_lines}], "recent": {minutes, tokens, budget, text}}:
                                    the last screens' lines and a window of the last minutes (5, 2,000 tokens)
    GET  /v1/frame?at=&monitor=&width=   the screen at or before ``at`` as image/png, at most width
                                    pixels wide (1280); what it shows in the Lifelog-Frame header
                                    {ts, monitor, app, window, width, height, screen_width, screen_height};
                                    404 when no screen is stored by then
    GET  /v1/replay?since=&until=&every=   the range as one self-contained HTML page (text/html),
                                    streamed as it is built; its counts in the Lifelog-Replay header
                                    {frames, frames_in_range, every_s, seen, heard, gaps}
    GET  /v1/speakers               [{id, speaker, name, seconds, transcripts, first, last, sources}, ...]
                                    the voices heard, most heard first
    POST /v1/speakers/name {speaker, name}   name a voice (its number, Speaker N or name); the voice
    POST /v1/digest {since, seconds}   make the digests that are due (hours, then their days and
                                    weeks, newest first), stopping after about ``seconds`` (none: all);
                                    {"hours", "days", "weeks", "left", "seconds", "stopped"}
    GET  /v1/digests?since=&until=&level=   [{level, start, end, text, sources, model, tokens,
                                    made_at}, ...] the digests starting in the range, by start
    GET  /v1/lessons                [{id, text, sources, model, created, updated}, ...] in id order
    POST /v1/lessons/add {text, sources: {moments: [...]}, model}   keep one; the lesson
    POST /v1/lessons/edit {lesson, text}   POST /v1/lessons/remove {lesson}   the lesson
    POST /v1/pause {seconds|null}   POST /v1/resume {}   POST /v1/stop {}   the recorder's state

Times are ISO-8601 UTC. A field left out takes its default (``calls.py``); a client
sends a field only when it differs from its default, so an owner that predates a field never
sees it unless it is used.

Versions per call. Within protocol 1 each call has a version of its own, which ``/health`` lists
under ``calls``: the call's first version, raised by each parameter added to it. All calls are at
version 1 except ``context`` (3: ``query`` 2, ``lessons`` 3), ``search`` (2: ``speaker``), ``import`` (2: ``voices``)
and ``speakers/name`` (2). A client refuses, in one line and before sending, a
call its owner does not list or a parameter newer than the owner's version of the call, and asks
for a restart of the owner (``lifelog daemon restart``). An owner from before per-call versions
(no ``calls`` in its health) is taken to answer version 1 of every call; one from before a call
answers 404, and the client says the same. (History: ``/export`` and ``/import-jsonl`` came
within version 1, ``query`` on 2026-11-29, ``/forget`` on 2026-12-02, ``/now``, ``/frame`` and
``/activity`` on 2026-12-03, ``/speakers``, ``/digest(s)`` and ``/lessons`` on 2026-12-04.)

The socket lives in the data folder, which is 0700, and is itself 0600: only the user can
connect. There is no TCP port.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import tempfile
from pathlib import Path

from lifelog.errors import DataFolderError
from lifelog.paths import Paths, make_shared_private_dir

PROTOCOL = 1
HEADER = "Lifelog-Protocol"
SOCKET_NAME = "lifelog.sock"
OWNER_LOCK = "owner.lock"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux, 103 on macOS


def socket_path(paths: Paths) -> Path:
    """``<data>/lifelog.sock``, or a private folder under the temp dir when that path is too
    long for a Unix socket (a deep LIFELOG_HOME). Owner and clients must find the same folder,
    so its name is known in advance: it is used only if it is ours, 0700 and not a link
    (anyone may create a name in /tmp first), else one clear line."""
    path = paths.data / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(paths.data)).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"lifelog-{os.getuid()}-{digest}"
    make_shared_private_dir(
        folder,
        f"use a shorter LIFELOG_HOME (at most {MAX_SOCKET_PATH - len(SOCKET_NAME) - 1} "
        "bytes), whose folder then holds the socket.",
    )
    return folder / SOCKET_NAME


def bind_private(path: Path) -> socket.socket:
    """A listening Unix socket at ``path`` that only this user may connect to from the moment it
    exists: bound under a 0177 umask (process-wide for that instant; it only takes bits away),
    its mode checked after. Whatever stood at ``path`` (a dead owner's socket) is replaced."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old)
    if stat.S_IMODE(os.lstat(path).st_mode) != 0o600:
        sock.close()
        raise DataFolderError(f"The lifelog socket {path} did not come out private (0600); not serving on it.")
    return sock


def lock_path(paths: Paths) -> Path:
    return paths.data / OWNER_LOCK
