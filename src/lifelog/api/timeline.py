"""The facade: the calls every client makes, answered locally or by the owner.

Each call is declared once, in ``calls.py``; :class:`Timeline` has a method per call that binds
its arguments by the declaration (defaults filled in, unknown ones refused) and hands them to
``answer``. :class:`LocalTimeline` answers from a :class:`~lifelog.store.Store`: the owner's own
(inside ``lifelog daemon run`` / ``lifelog record``, where the server calls it) or a
short-lived one (a command run while no owner runs), one ``answer_<call>`` method per call.
:class:`~lifelog.api.client.RemoteTimeline` sends the same calls over the owner's socket.
Results are plain JSON-able data (a window, an export stream), so both give the same.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifelog.api.calls import CALLS, Call
from lifelog.api.jsonl import BadLine, check_detail
from lifelog.errors import NotRunning, UsageError
from lifelog.models import AudioChunkRecord, HeardVoice, Picture, Transcript
from lifelog.paths import Paths

if TYPE_CHECKING:  # DuckDB is a 50 ms import: a client of the owner never needs it
    from lifelog.api.timeline_file import Export
    from lifelog.store import Store

log = logging.getLogger(__name__)


# Events a client may add to the timeline (recording events are the recorder's alone).
CLIENT_EVENTS = ("ask",)


@dataclass
class Window:
    """A context window and its exact count."""

    text: str
    tokens: int
    budget: int
    tokenizer: str
    fmt: str
    lines: int
    omitted_lines: int = 0
    images: int = 0  # keyframes in a messages window
    notice: str = ""  # something the user should know about the window (a query matched nothing)

    def note(self) -> str:
        note = f"{self.tokens:,} tokens ({self.tokenizer}) of {self.budget:,}; {self.lines:,} lines"
        if self.images:
            note += f"; {self.images} image{'s' if self.images > 1 else ''}"
        if self.omitted_lines:
            note += f"; left out {self.omitted_lines:,} older lines to fit"
        return note

    def meta(self) -> dict:
        """The window without its text (``images`` only where there are some)."""
        return {k: v for k, v in asdict(self).items() if k != "text" and (k not in ("images", "notice") or v)}


@dataclass
class Controls:
    """What the owner's recorder lets clients do; absent (None) where no recorder runs."""

    pause: Callable[[float | None], dict]
    resume: Callable[[], dict]
    stop: Callable[[], dict]
    info: Callable[[], dict]


class Timeline:
    """The facade: one method per call in ``calls.CALLS`` (``search``, ``context``, ...), each
    answered by ``answer``."""

    owner: dict | None = None  # the owner's health when calls go to one, else None

    def answer(self, call: Call, args: dict) -> Any:
        """Answer ``call`` with ``args``: every declared parameter's value."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    if TYPE_CHECKING:  # the calls' methods are made from the declarations, below the class

        def __getattr__(self, name: str) -> Callable[..., Any]: ...


def _method(call: Call) -> Callable[..., Any]:
    def method(self: Timeline, *args: Any, **kwargs: Any) -> Any:
        return self.answer(call, call.bind(args, kwargs))

    method.__name__ = method.__qualname__ = call.name
    method.__doc__ = call.doc
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = call.signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *call.signature.parameters.values()]
    )
    return method


for _call in CALLS.values():
    setattr(Timeline, _call.name, _method(_call))


class LocalTimeline(Timeline):
    """The calls answered from a store in this process."""

    def __init__(self, paths: Paths, store: Store, controls: Controls | None = None) -> None:
        self.paths = paths
        self.store = store
        self.controls = controls

    def answer(self, call: Call, args: dict) -> Any:
        return getattr(self, f"answer_{call.name}")(**args)

    def answer_search(self, *, query, since, until, app, limit, speaker) -> list[dict]:
        from lifelog.replay.search import find, hit_json

        hits = find(self.store, query, since=since, until=until, app=app, limit=limit, speaker=speaker)
        return [hit_json(h) for h in hits]

    def answer_speakers(self) -> list[dict]:
        with self.store.read() as reader:
            return reader.speakers()

    def answer_name_speaker(self, *, speaker: str, name: str) -> dict:
        with self.store.write() as w:
            return w.name_voice(speaker, name)

    def answer_digest(self, *, since, seconds: float | None) -> dict:
        """Catch up on digests (``replay/digest.py``), stopping after about ``seconds``."""
        from lifelog.config import load_settings
        from lifelog.replay.digest import catch_up
        from lifelog.replay.digest_model import from_settings
        from lifelog.store.sql import utc_naive

        if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
            raise UsageError(f"Bad seconds {seconds!r}: give a positive number, or none to make every digest due.")
        with self.store.write() as w:  # the hours that ended, summarised first (no owner may have)
            w.summarise_hours()
        deadline = None if seconds is None else time.monotonic() + seconds
        stop = None if deadline is None else (lambda: time.monotonic() > deadline)
        model = from_settings(load_settings(self.paths.config_file))  # None: extractive
        try:
            return catch_up(self.store, since=utc_naive(since), stop=stop, model=model).json()
        finally:
            if model is not None:
                model.close()  # a local model's server: stopped

    def answer_digests(self, *, since, until, level: str | None) -> list[dict]:
        from lifelog.store.digests import LEVELS
        from lifelog.store.sql import utc_naive

        if level is not None and level not in LEVELS:
            raise UsageError(f"Unknown digest level {level!r}. Valid: {', '.join(LEVELS)}.")
        with self.store.read() as reader:
            return [d.json() for d in reader.digests(utc_naive(since), utc_naive(until), level)]

    def answer_activity(self, *, since, until, utc_offset: int) -> dict:
        """Active minutes per app and bucket, text coverage, frames, tokens and gaps of [since,
        until), as JSON (``replay/activity.py`` documents its shape)."""
        from lifelog.replay.activity import activity_json, check_range
        from lifelog.store.activity import read
        from lifelog.store.sql import utc_naive
        from lifelog.timespec import utcnow

        since, until = utc_naive(since), utc_naive(until)
        now = utcnow()
        check_range(since, until, utc_offset, now)
        with self.store.read() as reader:
            rows = read(reader, since, until, offset=utc_offset, now=now)
        ongoing = self.controls.info().get("gap") if self.controls else None  # a pause is stored when it ends
        return activity_json(rows, since, until, utc_offset, now, ongoing)

    def answer_lessons(self) -> list[dict]:
        with self.store.read() as reader:
            return reader.lessons()

    def answer_add_lesson(self, *, text: str, sources: dict | None, model: str) -> dict:
        moments = (sources or {}).get("moments", [])
        if not isinstance(moments, list):
            raise UsageError("Bad request: a lesson's sources are {'moments': [...]}.")
        with self.store.write() as w:
            return w.add_lesson(text, moments, model)

    def answer_edit_lesson(self, *, lesson: int, text: str) -> dict:
        with self.store.write() as w:
            return w.edit_lesson(lesson, text)

    def answer_remove_lesson(self, *, lesson: int) -> dict:
        with self.store.write() as w:
            return w.remove_lesson(lesson)

    def answer_context(self, *, since, until, budget, fmt, tokenizer, model, images, query, lessons) -> Window:
        """A window in ``fmt``; ``messages`` is a chat request for ``model`` with up to ``images``
        keyframes (UsageError for images in another format or for a model without an image rate);
        ``query`` puts full detail where it is answered (``replay/focus.py``); ``lessons`` puts the
        lessons kept first (markdown), inside the budget."""
        if lessons:
            return self._with_lessons(since, until, budget, fmt, tokenizer, query)
        return self._context(since, until, budget, fmt, tokenizer, model, images, query)

    def _with_lessons(self, since, until, budget, fmt, tokenizer, query) -> Window:
        """The lessons' block, then a markdown window in what the budget leaves (made smaller
        again in the rare case the joined text counts more than its parts)."""
        from lifelog.store.lessons import block
        from lifelog.tokenize_media.tokenizers import get_tokenizer

        if fmt != "markdown":
            raise UsageError(f"--lessons goes with markdown windows, not {fmt}.")
        with self.store.read() as reader:
            prefix = block(reader.lessons())
        tok = get_tokenizer(tokenizer)
        left = budget - tok.count(prefix)
        for _ in range(3):
            if left < 1:
                raise UsageError(f"--budget {budget:,} leaves no room for a window after the lessons. Raise --budget.")
            w = self._context(since, until, left, fmt, tokenizer, None, None, query)
            text = prefix + w.text
            tokens = tok.count(text)
            if tokens <= budget:
                return replace(w, text=text, tokens=tokens, budget=budget)
            left -= tokens - budget
        raise UsageError(f"--budget {budget:,} is too small for the lessons and a window. Raise --budget.")

    def _context(self, since, until, budget, fmt, tokenizer, model, images, query) -> Window:
        from lifelog.replay.context import build_context, check_budget
        from lifelog.replay.messages import FORMAT, build_messages, check_request

        check_budget(budget)  # before anything is read: the memory a window takes follows its budget
        check_request(fmt, images)
        query = query or None
        with self.store.read() as reader:
            if fmt != FORMAT:
                w = build_context(
                    reader, since=since, until=until, budget=budget, fmt=fmt, tokenizer=tokenizer, query=query
                )
                return Window(
                    w.text,
                    w.tokens,
                    w.budget,
                    w.tokenizer,
                    w.fmt,
                    w.lines,
                    w.omitted.lines if w.omitted else 0,
                    notice=w.note,
                )
            from lifelog.store.images import FrameImages

            m = build_messages(
                reader,
                FrameImages(self.paths.frames),
                since=since,
                until=until,
                budget=budget,
                tokenizer=tokenizer,
                model=model,
                n_images=images or 0,
                query=query,
            )
        w = m.window
        return Window(
            m.text,
            m.tokens,
            m.budget,
            w.tokenizer,
            FORMAT,
            w.lines,
            w.omitted.lines if w.omitted else 0,
            m.images,
            notice=w.note,
        )

    def answer_now(self, *, minutes: int, budget: int) -> dict:
        """The screens last stored with their lines, and a small window of the last minutes."""
        from lifelog.replay.glance import now
        from lifelog.timespec import utcnow

        with self.store.read() as reader:
            recorder = self.controls.info() if self.controls else None
            return now(reader, at=utcnow(), minutes=minutes, budget=budget, recorder=recorder)

    def answer_frame(self, *, at: datetime, monitor: int | None, width: int) -> Picture:
        """The screen at ``at`` (the last stored at or before it), rebuilt, scaled, as PNG."""
        from lifelog.replay.glance import screen_at
        from lifelog.store.images import FrameImages

        with self.store.read() as reader:
            return screen_at(reader, FrameImages(self.paths.frames), at=at, monitor=monitor, width=width)

    def answer_status(self) -> dict:
        from lifelog.api.status import gather

        data = gather(self.paths, self.store)
        data["owner"] = self.controls.info() if self.controls else None
        return data

    def answer_import_transcripts(
        self, *, rows: list[Transcript], chunk: AudioChunkRecord, file: str, voices: list[HeardVoice]
    ) -> dict:
        """Store one imported recording in ONE transaction: all of it or nothing."""
        if any(r.heard_as is not None and not 0 <= r.heard_as < len(voices) for r in rows):
            raise UsageError(f"Bad request: a transcript's heard_as is not one of the {len(voices)} voices given.")
        with self.store.write() as w:
            chunk_id = w.add_audio_chunk(chunk)
            for r in rows:
                r.chunk_id = chunk_id
            w.add_transcripts(rows, w.add_voices(voices, "file", chunk.t_start) if voices else None)
            if voices:
                w.mark_calls("file", chunk.t_start)
            w.add_event(
                chunk.t_start, "import", {"file": file, "seconds": round(chunk.voiced_s, 1), "transcripts": len(rows)}
            )
        return {"transcripts": len(rows)}

    def answer_record_event(self, *, kind: str, detail: dict | None, at: datetime) -> dict:
        """Add one event a client made (``ask``: a question and its answer) to the timeline."""
        if kind not in CLIENT_EVENTS:
            raise UsageError(f"Unknown event kind {kind!r}. Clients may record: {', '.join(CLIENT_EVENTS)}.")
        detail = detail or {}
        try:  # NaN or Infinity stored would make every later export invalid JSON
            check_detail(detail, "Bad event detail")
        except BadLine as exc:
            raise UsageError(f"{exc}.") from None
        with self.store.write() as w:
            w.add_event(at, kind, detail)
        return {"recorded": True}

    def answer_export_jsonl(self, *, since, until) -> Export:
        """The timeline of [since, until) as lifelog JSONL, streamed (``jsonl.py``)."""
        from lifelog.api.timeline_file import export_jsonl

        return export_jsonl(self.store, since, until)

    def answer_replay(self, *, since, until, every) -> Export:
        """The range as a self-contained HTML page, streamed as it is built (``replay/html.py``)."""
        from lifelog.api.timeline_file import Export
        from lifelog.replay.html import open_page
        from lifelog.store.images import FrameImages

        page = open_page(self.store, FrameImages(self.paths.frames), since, until, every)
        return Export(page.counts, page.chunks, page.close)

    def answer_import_jsonl(self, *, path: Path, name: str) -> dict:
        """Merge a lifelog JSONL file in, all or nothing, skipping rows already stored."""
        from lifelog.api.timeline_file import import_jsonl
        from lifelog.config import load_settings
        from lifelog.tokenize_media.redact import Redactor

        return import_jsonl(self.store, path, name, Redactor.from_settings(load_settings(self.paths.config_file)))

    def answer_forget(self, *, since, until, app, title, matching, dry_run: bool) -> dict:
        """Forget what the criteria select, everywhere in the data folder, or with ``dry_run``
        say what would go (``api/forget.py``); the report."""
        from lifelog.api.forget import forget
        from lifelog.store.forget import Selection

        return forget(self.paths, self.store, Selection(since, until, app, title, matching), dry_run=dry_run)

    def answer_pause(self, *, seconds: float | None) -> dict:
        return self._control().pause(seconds)

    def answer_resume(self) -> dict:
        return self._control().resume()

    def answer_stop(self) -> dict:
        return self._control().stop()

    def _control(self) -> Controls:
        if self.controls is None:
            raise NotRunning(
                "No lifelog recorder is running (start one with `lifelog daemon start` or `lifelog record`)."
            )
        return self.controls


def chunk_for_import(at: datetime, seconds: float) -> AudioChunkRecord:
    return AudioChunkRecord(at, at + timedelta(seconds=seconds), "file", "", seconds)
