"""Each call of the facade, declared once.

A :class:`Call` names a call (the facade's method: ``timeline.search(...)``), says in one line
what it does, lists its parameters (:class:`Param`: name, kind, default, one line each), and
gives its HTTP method and path on the owner's socket, the kind of its result (:data:`JSON`, a
:data:`STREAM` or a :data:`FILE`) and the protocol version of each part. From this table
``server.py`` builds the owner's routes, ``client.py`` sends the calls, ``timeline.py`` binds a
call's arguments (declared defaults filled in, unknown ones refused, as Python would) before
:class:`~lifelog.api.timeline.LocalTimeline` answers it, and MCP tools will take their names and
descriptions from it. ``protocol.py``'s docstring is the wire specification.

Versions. ``protocol.PROTOCOL`` is the wire's (the ``/v1`` of every path). Each call has a
version of its own besides: the highest ``since`` of the call and of its parameters. The owner
says its calls' versions in ``/health``; a client refuses, in one line, to send a call or a
parameter its owner is too old for, rather than have the owner ignore it. A new call starts at
version 1; a new parameter takes its call's next version; a change an older client could not
follow bumps ``PROTOCOL`` instead.

Adding a call: one entry in :data:`CALLS`, a method ``answer_<name>`` on ``LocalTimeline``
taking the declared parameters (``tests/api/test_calls.py`` checks both agree), a line in
``protocol.py``'s docstring.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from lifelog.api.jsonl import MEDIA_TYPE
from lifelog.errors import UsageError
from lifelog.models import AudioChunkRecord, HeardVoice, Transcript
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER

DEFAULT_FORMAT = "markdown"
BODY_CAP = 1024 * 1024  # bytes of a JSON call's body (an event, a window's request, a forget)
REQUIRED = inspect.Parameter.empty  # a parameter without a default


# -- how values travel ----------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time from a request ("" is none); one the timeline cannot hold (not a
    string, or beyond year 1-9999 in UTC) is a bad request."""
    if not value:
        return None
    if not isinstance(value, str):
        raise UsageError(f"Bad request: a time is an ISO-8601 string, not {value!r}.")
    try:
        at = datetime.fromisoformat(value)
        if at.tzinfo is not None:
            at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(
            f"Bad request: {value[:80]!r} is not a time lifelog can hold (ISO-8601, UTC within years 1-9999)."
        ) from None
    return at


def _same(value: Any) -> Any:
    return value


def _plain(record) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(record).items()}


def _record(cls):
    def take(d: dict):
        return cls(**{k: parse_time(v) if k in ("t_start", "t_end") else v for k, v in d.items()})

    return take


@dataclass(frozen=True)
class Kind:
    """What a parameter's value is: its name in the wire specification (and MCP schemas), the
    JSON types the owner accepts for it, and how it goes from the facade's value to JSON
    (``send``), from JSON back (``take``) and from a query string (``from_query``)."""

    name: str
    json: tuple[type, ...]
    send: Callable[[Any], Any] = _same
    take: Callable[[Any], Any] = _same
    from_query: Callable[[str], Any] = _same


TEXT = Kind("string", (str,))
INT = Kind("integer", (int,), from_query=int)
NUMBER = Kind("number", (int, float), take=float)
BOOL = Kind("boolean", (bool,))
TIME = Kind("time (ISO-8601)", (str,), send=datetime.isoformat, take=parse_time, from_query=parse_time)
OBJECT = Kind("object", (dict,), take=dict)
TRANSCRIPTS = Kind(
    "list of transcripts",
    (list,),
    send=lambda rows: [_plain(r) for r in rows],
    take=lambda rows: [_record(Transcript)(r) for r in rows],
)
CHUNK = Kind("audio chunk", (dict,), send=_plain, take=_record(AudioChunkRecord))


def _voices(values: list) -> list[HeardVoice]:
    try:
        voices = [HeardVoice([float(x) for x in v["centroid"]], float(v["seconds"])) for v in values]
    except (TypeError, KeyError, ValueError):
        raise UsageError("Bad request: a voice is {centroid: [192 numbers], seconds: number}.") from None
    if any(len(v.centroid) != 192 or not all(math.isfinite(x) for x in v.centroid) for v in voices):
        raise UsageError("Bad request: a voice's centroid is 192 finite numbers.")
    return voices


VOICES = Kind("list of voices", (list,), send=lambda voices: [asdict(v) for v in voices], take=_voices)
UPLOAD = Kind("file", ())  # a path here; on the wire, the request's body


@dataclass(frozen=True)
class Result:
    """What a call answers: ``json`` (a JSON value), ``stream`` (a context window: its text
    streamed, its count as JSON in ``header``), ``file`` (a lifelog JSONL file streamed, rows
    per kind as JSON in ``header``) or ``image`` (a picture's bytes, what it shows as JSON in
    ``header``)."""

    kind: str
    media: str = "application/json"
    header: str = ""


JSON = Result("json")
STREAM = Result("stream", "text/plain; charset=utf-8", "Lifelog-Window")
FILE = Result("file", MEDIA_TYPE, "Lifelog-Export")
IMAGE = Result("image", "image/png", "Lifelog-Frame")  # a screen: PNG bytes, what it shows as JSON in the header
# a file too: a replay page, its counts in the header
PAGE = Result("file", "text/html; charset=utf-8", "Lifelog-Replay")


@dataclass(frozen=True)
class Param:
    """One parameter of a call. ``wire``: its name on the wire where that differs; ``since``:
    the call's version that added it; ``where``: ``query``, ``body`` or ``upload`` (the request's
    body is the file), by default the call's (query for GET, the JSON body for POST)."""

    name: str
    kind: Kind
    doc: str
    default: Any = REQUIRED
    wire: str = ""
    since: int = 1
    where: str = ""

    @property
    def key(self) -> str:
        return self.wire or self.name

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Call:
    """One call of the facade. ``positional``: how many of the first parameters may be given
    by position; ``body_cap``: the most bytes of its request's body (None: the call bounds its
    upload itself); ``admitted``: a window built in the owner's memory, admitted by its budget
    (``admission.py``)."""

    name: str
    method: str
    path: str
    doc: str
    params: tuple[Param, ...] = ()
    result: Result = JSON
    positional: int = 0
    since: int = 1
    body_cap: int | None = BODY_CAP
    admitted: bool = False

    @property
    def version(self) -> int:
        return max([self.since, *(p.since for p in self.params)])

    def where(self, param: Param) -> str:
        return param.where or ("query" if self.method == "GET" else "body")

    @property
    def signature(self) -> inspect.Signature:
        """The facade method's signature, as ``help()`` and ``inspect`` show it."""
        by_position, by_name = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [
                inspect.Parameter(p.name, by_position if i < self.positional else by_name, default=p.default)
                for i, p in enumerate(self.params)
            ]
        )

    def bind(self, args: tuple = (), kwargs: dict | None = None) -> dict:
        """Every parameter's value, as Python binds a call (TypeError for an unknown or missing
        one), the declared defaults filled in."""
        bound = self.signature.bind(*args, **(kwargs or {}))
        bound.apply_defaults()
        return dict(bound.arguments)

    def needs(self, args: dict) -> tuple[int, str]:
        """The version of this call that ``args`` need, and what needs it (for messages): a
        parameter newer than the call counts only when it is given."""
        version, what = self.since, self.name
        for p in self.params:
            if p.since > version and args.get(p.name, p.default) != p.default:
                version, what = p.since, f"{self.name} with {p.key}"
        return version, what


_SINCE = Param("since", TIME, "From this time (UTC); none: from the start.", None)
_UNTIL = Param("until", TIME, "Until this time, not included (UTC); none: up to now.", None)

CALLS: dict[str, Call] = {
    c.name: c
    for c in (
        Call("status", "GET", "/status", "The timeline's counts, the spool, the owner's recorder and background work."),
        Call(
            "search",
            "GET",
            "/search",
            "Text seen or heard that matches, best first.",
            (
                Param("query", TEXT, "The words to find (any case; a phrase in quotes).", "", wire="q"),
                _SINCE,
                _UNTIL,
                Param("app", TEXT, "Only what this app showed (any case).", None),
                Param("limit", INT, "At most this many hits, 1 to 1000.", 20),
                Param("speaker", TEXT, "Only what this voice said (its name, or Speaker N).", None, since=2),
            ),
            positional=1,
        ),
        Call(
            "activity",
            "GET",
            "/activity",
            "Where the time went: active minutes per app and hour (or day), text coverage, frames, tokens, gaps.",
            (
                _SINCE,
                _UNTIL,
                Param("utc_offset", INT, "Minutes east of UTC at which hours and days are cut (the reader's zone).", 0),
            ),
        ),
        Call(
            "context",
            "POST",
            "/context",
            "A context window of the range that fits the budget, counted exactly.",
            (
                _SINCE,
                _UNTIL,
                Param("budget", INT, "The most tokens the window may take, 1 to 10,000,000."),
                Param(
                    "fmt",
                    TEXT,
                    "markdown, json, xml, or messages (a chat request with keyframes).",
                    DEFAULT_FORMAT,
                    wire="format",
                ),
                Param("tokenizer", TEXT, "The tokenizer that counts the budget.", DEFAULT_TOKENIZER),
                Param("model", TEXT, "The model the window is for (its tokenizer, images and limits).", None),
                Param("images", INT, "At most this many keyframes (format messages only).", None),
                Param("query", TEXT, "A question: full detail where it is answered, the rest outlined.", None, since=2),
                Param("lessons", BOOL, "The lessons kept, first (markdown windows).", False, since=3),
            ),
            result=STREAM,
            admitted=True,
        ),
        Call(
            "import_transcripts",
            "POST",
            "/import",
            "Store one imported recording's transcripts in one transaction.",
            (
                Param("rows", TRANSCRIPTS, "The transcripts, with absolute times.", wire="transcripts"),
                Param("chunk", CHUNK, "The recording as an audio chunk (its times and voiced seconds)."),
                Param("file", TEXT, "The recording's file name, for the import event.", ""),
                Param("voices", VOICES, "The voices told apart in it (transcripts' heard_as index them).", [], since=2),
            ),
            positional=2,
            body_cap=64 * 1024 * 1024,
        ),  # a long recording's transcripts
        Call("speakers", "GET", "/speakers", "The voices heard: label, name, seconds of speech, first and last heard."),
        Call(
            "name_speaker",
            "POST",
            "/speakers/name",
            "Name a voice: what it said, and will say, is shown under the name.",
            (
                Param("speaker", TEXT, "The voice: its number, Speaker N, or its name."),
                Param("name", TEXT, "The name to give it."),
            ),
            positional=2,
            since=2,
        ),
        Call(
            "digest",
            "POST",
            "/digest",
            "Make the digests that are due (hours, then their days and weeks), newest first; the report.",
            (
                _SINCE,
                Param("seconds", NUMBER, "Stop after about this many seconds (the rest stays due); none: all.", None),
            ),
        ),
        Call(
            "digests",
            "GET",
            "/digests",
            "What happened, in short: the digests of hours, days and weeks that start in the range, by start.",
            (_SINCE, _UNTIL, Param("level", TEXT, "hour, day or week; none: every level.", None)),
        ),
        Call("lessons", "GET", "/lessons", "The lessons kept, in order: id, text, the moments they came from."),
        Call(
            "add_lesson",
            "POST",
            "/lessons/add",
            "Keep a lesson; the lesson.",
            (
                Param("text", TEXT, "What to do (or not) next time, a sentence or two."),
                Param("sources", OBJECT, "The moments it came from, as {'moments': [...]}.", None),
                Param("model", TEXT, "The model that wrote it ('' by hand).", ""),
            ),
            positional=1,
        ),
        Call(
            "edit_lesson",
            "POST",
            "/lessons/edit",
            "Change a lesson's text; the lesson.",
            (Param("lesson", INT, "Its id."), Param("text", TEXT, "The new text.")),
            positional=2,
        ),
        Call(
            "remove_lesson",
            "POST",
            "/lessons/remove",
            "Remove a lesson; the lesson removed.",
            (Param("lesson", INT, "Its id."),),
            positional=1,
        ),
        Call(
            "record_event",
            "POST",
            "/event",
            "Add a client's event to the timeline (kind ask: a question and answer).",
            (
                Param("kind", TEXT, "The event's kind; clients may record: ask."),
                Param("detail", OBJECT, "What happened, as a JSON object (finite numbers only).", None),
                Param("at", TIME, "When it happened (UTC)."),
            ),
            positional=2,
        ),
        Call(
            "export_jsonl",
            "GET",
            "/export",
            "The range as a lifelog JSONL file, streamed as it is read.",
            (_SINCE, _UNTIL),
            result=FILE,
        ),
        Call(
            "import_jsonl",
            "POST",
            "/import-jsonl",
            "Merge a lifelog JSONL file in, all or nothing; the report.",
            (
                Param(
                    "path",
                    UPLOAD,
                    "The file to import (on the wire: the request's body, application/x-ndjson).",
                    where="upload",
                ),
                Param("name", TEXT, "The file's name, for messages.", "the uploaded file", where="query"),
            ),
            positional=1,
            body_cap=None,
        ),  # the upload is streamed to disk, bounded by import_max (upload.py)
        Call(
            "forget",
            "POST",
            "/forget",
            "Forget what is selected everywhere in the data folder (criteria combine); the report.",
            (
                _SINCE,
                _UNTIL,
                Param("app", TEXT, "What this app showed (any case).", None),
                Param("title", TEXT, "What windows whose title matches this regular expression showed.", None),
                Param("matching", TEXT, "Every line, transcript and frame that held this text (any case).", None),
                Param("dry_run", BOOL, "Say what would go; change nothing.", False),
            ),
        ),
        Call(
            "pause",
            "POST",
            "/pause",
            "Pause recording; the recorder's state.",
            (Param("seconds", NUMBER, "For this many seconds; none: until resumed.", None),),
            positional=1,
        ),
        Call(
            "now",
            "GET",
            "/now",
            "What is on screen now (the lines of the last screen stored, by window) and a small window of the last minutes.",
            (
                Param("minutes", INT, "How many minutes back the recent window reaches, 1 to 1440.", 5),
                Param("budget", INT, "The most tokens of the recent window, 1 to 100,000.", 2000),
            ),
        ),
        Call(
            "frame",
            "GET",
            "/frame",
            "The screen as it looked at a moment (the last one stored at or before it), as a PNG.",
            (
                Param("at", TIME, "The moment (UTC)."),
                Param("monitor", INT, "This monitor only (0 is the first); none: whichever changed last.", None),
                Param("width", INT, "Scaled down to at most this many pixels wide, 64 to 4096.", 1280),
            ),
            result=IMAGE,
            positional=1,
        ),
        Call(
            "replay",
            "GET",
            "/replay",
            "The range as one self-contained HTML page: its frames on a time scrubber, the text on screen "
            "at each, what was heard, the gaps.",
            (
                _SINCE,
                _UNTIL,
                Param(
                    "every",
                    INT,
                    "At most one frame per this many seconds per monitor; none: every change (one per 10 s "
                    "past 600 frames).",
                    None,
                ),
            ),
            result=PAGE,
        ),
        Call("resume", "POST", "/resume", "Resume recording; the recorder's state."),
        Call("stop", "POST", "/stop", "Stop the owner; the recorder's last state."),
    )
}


def versions() -> dict[str, int]:
    """Each call's version, as the owner says in ``/health``."""
    return {c.name: c.version for c in CALLS.values()}
