"""The foreground recorder behind ``lifelog record``: capture + tokenize until told to stop.

Capture runs in its own process and only writes the spool; this process drains the spool
through OCR into the store. On stop (duration reached, Ctrl-C, SIGTERM) capture stops first,
then everything captured is processed, open text spans are closed, the search index is
refreshed and a ``record_stop`` event is written, so the database is consistent and every
kept frame is searchable when ``run`` returns. A second interrupt during that final drain
leaves the rest in the spool for ``lifelog process``; nothing is lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from lifelog.capture.loop import CaptureSettings
from lifelog.capture.process import CaptureProcess
from lifelog.capture.screen import open_grabber, select_monitors
from lifelog.config import Settings
from lifelog.errors import CaptureUnavailable
from lifelog.paths import Paths
from lifelog.spool import pending
from lifelog.store import Store
from lifelog.timespec import utcnow
from lifelog.tokenize_media.pipeline import Pipeline

log = logging.getLogger(__name__)

INDEX_REFRESH_S = 30.0


@dataclass
class StopSignals:
    """Set by signal handlers: ``stop`` once to finish cleanly, ``abort`` to skip the final drain."""

    stop: bool = False
    abort: bool = False


@dataclass
class RecordSummary:
    recording_id: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    frames_processed: int = 0
    ocr_failures: int = 0
    new_spans: int = 0
    left_in_spool: int = 0


class Recorder:
    def __init__(self, paths: Paths, store: Store, settings: Settings, *, engine=None) -> None:
        self.paths = paths
        self.store = store
        self.settings = settings
        self.pipeline = Pipeline(store, paths, ocr_engine=settings.ocr_engine, engine=engine)
        self.id = uuid.uuid4().hex
        self._started = utcnow()
        self._capture: CaptureProcess | None = None
        self._last_index = 0.0

    def preflight(self) -> None:
        """Fail fast, in this process, when the screen cannot be captured."""
        grabber = open_grabber()
        try:
            select_monitors(grabber.monitors(), self.settings.monitor or None)
        finally:
            grabber.close()

    def run(self, duration_s: float | None, signals: StopSignals,
            progress: Callable[[int, int], None] | None = None) -> RecordSummary:
        """Record until ``duration_s`` passes or ``signals.stop``; call ``preflight`` first."""
        self.pipeline.acquire()
        try:
            self._begin()
            t0 = time.monotonic()
            deadline = t0 + duration_s if duration_s else None
            self._record_until(lambda: signals.stop or (deadline is not None and time.monotonic() >= deadline))
            self._capture.stop()
            self.pipeline.drain(should_stop=lambda: signals.abort, progress=progress, on_commit=self._update_row)
            self._finish()
            return self._summary(time.monotonic() - t0)
        finally:
            if self._capture is not None and self._capture.alive():
                self._capture.stop()
            self.pipeline.release()

    def _begin(self) -> None:
        self.store.migrate()
        with self.store.write() as w:
            w.close_spans(datetime.min)  # spans a crashed recorder left open end where last seen
            w.add_event(self._started, "record_start", {"recording": self.id, "fps": self.settings.fps})
            self._update_row(w)
        cap = CaptureSettings(fps=self.settings.fps, monitor=self.settings.monitor or None,
                              keyframe_every_s=self.settings.keyframe_every_s)
        self._capture = CaptureProcess.start(self.paths.spool, cap)

    def _record_until(self, done: Callable[[], bool]) -> None:
        while not done():
            failure = self._capture.failed()
            if failure:
                raise CaptureUnavailable(f"Screen capture stopped: {failure}")
            stats = self.pipeline.drain(should_stop=done, on_commit=self._update_row)
            self._maybe_refresh_index()
            if stats.frames == 0:
                time.sleep(0.2)

    def _finish(self) -> None:
        ended = utcnow()
        with self.store.write() as w:
            w.close_spans(ended)
            w.add_event(ended, "record_stop", {"recording": self.id})
            self._update_row(w, ended)
        self._maybe_refresh_index(force=True)

    def _maybe_refresh_index(self, force: bool = False) -> None:
        """Rebuild the BM25 index at the end, and while recording only after ~5% growth: a
        rebuild holds the write lock (12 s at 1M spans). Newer spans are searchable anyway."""
        if not force and time.monotonic() - self._last_index < INDEX_REFRESH_S:
            return
        with self.store.write() as w:
            min_new = 1 if force else max(1000, w.stats().text_spans // 20)
            w.refresh_search_index(min_new_spans=min_new)
        self._last_index = time.monotonic()

    def _update_row(self, w, ended=None) -> None:
        counts = self._capture.counts() if self._capture else {}
        w.upsert_recording({
            "id": self.id, "started": self._started, "ended": ended, "fps": self.settings.fps,
            "frames_seen": counts.get("grabs", 0), "frames_kept": counts.get("kept", 0),
            "frames_skipped": counts.get("skipped", 0), "ocr_failures": self.pipeline.totals.ocr_failures,
        })

    def _summary(self, seconds: float) -> RecordSummary:
        totals = self.pipeline.totals
        return RecordSummary(
            recording_id=self.id, seconds=seconds,
            counts=self._capture.counts() if self._capture else {},
            frames_processed=totals.frames, ocr_failures=totals.ocr_failures,
            new_spans=totals.new_spans, left_in_spool=len(pending(self.paths.spool)),
        )
