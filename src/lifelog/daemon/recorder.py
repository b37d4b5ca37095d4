"""The foreground recorder behind ``lifelog record``: capture + tokenize until told to stop.

Capture runs in its own process and only writes the spool; this process drains the spool
through OCR into the store. On stop (duration reached, Ctrl-C, SIGTERM) capture stops first,
then everything captured is processed (searchable as each batch commits), open text spans
are closed and a ``record_stop`` event is written, so the database is consistent and every
kept frame is searchable when ``run`` returns. A second interrupt raises :class:`StopNow`
wherever the work is (mid-OCR, mid-wait): the recorder stops at once and leaves the rest in
the spool for ``lifelog process``; nothing is lost.

A busy store never ends a recording: capture keeps spooling while another process holds the
database, and every write of the recorder's own (its start, its counters, its
stop) is retried later. When the screen is lost (the X server died), the stretch is recorded
as a gap, what was captured is stored, and ``RecordSummary.capture_error`` says why it ended.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from lifelog.api.timeline import Controls
from lifelog.capture.desktop import open_grabber
from lifelog.capture.screen import select_monitors
from lifelog.config import Settings
from lifelog.daemon.supervisor import Gap, NormalPriority, Supervisor
from lifelog.errors import StoreBusy, StoreFull
from lifelog.ingest.audio import AudioPipeline
from lifelog.ingest.frames import Pipeline
from lifelog.paths import Paths
from lifelog.spool import pending
from lifelog.store import Store, Writer
from lifelog.timespec import utcnow
from lifelog.tokenize_media.redact import Redactor

log = logging.getLogger(__name__)

FRAME_SLICE_S = 5.0  # OCR at most this long before giving transcription a turn
ROW_REFRESH_S = 10.0  # the recording row's counters, when no batch has refreshed them
AUDIO_CHECK_AFTER_S = 4.0  # give sound devices this long to open before warning


FULL_RETRY_S = 2.0  # after a full disk refused one of the recording's own rows, wait this long to retry
ABORT_BUSY_TIMEOUT_S = 2.0  # after a second interrupt, wait this long at most for the database


class StopNow(KeyboardInterrupt):
    """Raised by the second interrupt's signal handler: stop at once, keep the spool. A
    KeyboardInterrupt, so no ``except Exception`` on the way mistakes it for a failure."""


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
    audio: dict[str, int] = field(default_factory=dict)
    transcripts: int = 0
    audio_problems: dict[str, str] = field(default_factory=dict)
    aborted: bool = False  # stopped at once by a second interrupt: the spool holds the rest
    capture_error: str = ""  # why screen capture ended by itself, if it did


class Recorder:
    def __init__(
        self,
        paths: Paths,
        store: Store,
        settings: Settings,
        *,
        engine=None,
        warn: Callable[[str], None] = log.warning,
        daemon: bool = False,
        signals: StopSignals | None = None,
        normal: NormalPriority | None = None,
    ) -> None:
        self.paths = paths
        self.store = store
        self.settings = settings
        self.pipeline = Pipeline(
            store,
            paths,
            ocr_engine=settings.ocr_engine,
            engine=engine,
            ocr_options=settings.ocr_options(),
            redactor=Redactor.from_settings(settings),
        )
        self.audio = AudioPipeline.from_settings(store, paths, settings)
        self.id = uuid.uuid4().hex
        self._started = utcnow()
        self.capture = Supervisor(paths, settings, retry=daemon, normal=normal)
        self.signals = signals or StopSignals()  # also set by the owner's API (stop)
        self._audio_checked = False
        self._audio_started = 0.0
        self._warn = warn
        self._last_row = 0.0
        self._begun = False  # the record_start bookkeeping is committed
        self._busy_warned = False
        self.aborted = False

    @property
    def capture_error(self) -> str:
        return self.capture.error

    def controls(self) -> Controls:
        """What the owner's API lets other processes do to this recording."""

        def stop() -> dict:
            self.signals.stop = True
            return {"stopping": True}

        def info() -> dict:
            return {
                "recording": self.id,
                "started": self._started.isoformat() + "Z",
                **self.capture.info(),
                "backlog_frames": len(pending(self.paths.spool)),
                "backlog_audio": len(self.audio.pending()),
            }

        return Controls(pause=self.capture.request_pause, resume=self.capture.request_resume, stop=stop, info=info)

    def preflight(self, *, screen: bool = True) -> None:
        """Fail fast, in this process, when the screen cannot be captured or the ASR engine
        cannot load (a missing extra names its install command)."""
        if screen:
            grabber = open_grabber(should_stop=lambda: self.signals.stop)
            try:
                select_monitors(grabber.monitors(), self.settings.monitor or None)
            finally:
                grabber.close()
        if self.settings.audio_sources:
            self.audio.engine  # noqa: B018 - load now: errors surface before recording starts

    def run(self, duration_s: float | None, progress: Callable[[int, int], None] | None = None) -> RecordSummary:
        """Record until ``duration_s`` passes or ``self.signals.stop``; call ``preflight`` first."""
        signals = self.signals
        self.pipeline.acquire()
        t0 = time.monotonic()
        try:
            self.capture.start()
            self._audio_started = time.monotonic()
            deadline = t0 + duration_s if duration_s else None
            try:
                self._record_until(lambda: signals.stop or (deadline is not None and time.monotonic() >= deadline))
                self.capture.stop()
                self._drain_all(progress)
            except StopNow:
                self.aborted = True
                self.store.busy_timeout = min(self.store.busy_timeout, ABORT_BUSY_TIMEOUT_S)
            self.capture.stop()
            self._finish()
            return self._summary(time.monotonic() - t0)
        finally:
            self.capture.stop()
            self.pipeline.release()

    # -- the recording's own rows ----------------------------------------------------------
    def _try_write(self, fn: Callable[[Writer], None]) -> bool:
        """Run ``fn(writer)`` in one transaction; False (and one warning per busy stretch) when
        another process holds the database past the busy timeout."""
        try:
            with self.store.write() as w:
                fn(w)
        except StoreBusy as exc:
            if not self._busy_warned:
                self._busy_warned = True
                self._warn(f"{exc} Recording continues; captured frames wait in the spool.")
            if isinstance(exc, StoreFull):  # a full disk refuses at once: wait, as a busy store makes one wait
                time.sleep(FULL_RETRY_S)
            return False
        self._busy_warned = False
        return True

    def _open_timeline(self, w: Writer) -> None:
        down = w.close_crashed_recordings()  # spans a crashed recorder left open end where last seen
        if down is not None:
            w.add_event(down, "gap", {"reason": "recorder down", "until": self._started})
        w.add_event(self._started, "record_start", {"recording": self.id, "fps": self.settings.fps})
        self._update_row(w)

    def _record_until(self, done: Callable[[], bool]) -> None:
        while not done():
            for gap in self.capture.tick():
                self._write_gap(gap)
            if self.capture.error:
                self._capture_lost()
                return
            if not self._begun:  # the store was busy at the start: capture spools meanwhile
                self._begun = self._try_write(self._open_timeline)
                continue
            stats = self.pipeline.drain(should_stop=_within(FRAME_SLICE_S, done), on_commit=self._update_row)
            heard = self.audio.drain(should_stop=done)
            self._check_audio()
            if time.monotonic() - self._last_row >= ROW_REFRESH_S:
                self._try_write(self._update_row)
            if stats.frames == 0 and heard.chunks == 0:
                time.sleep(0.2)

    def _write_gap(self, gap: Gap) -> None:
        event = gap.event()
        self._write_until_done(lambda w: w.add_event(*event))

    def _capture_lost(self) -> None:
        """Screen capture ended by itself (and this recorder does not wait for the screen to
        come back): the stretch after it is recorded as a gap."""
        failure = self.capture.error
        self._warn(f"screen capture stopped: {failure}. Storing what was captured.")
        now = utcnow()
        self._write_until_done(lambda w: w.add_event(now, "gap", {"reason": "capture_failed", "error": failure}))

    def _drain_all(self, progress) -> None:
        """Everything captured into the store, waiting out a busy store (a second interrupt
        raises StopNow and leaves the rest in the spool)."""
        if not self._begun:
            self._write_until_done(self._open_timeline)
            self._begun = True
        self.pipeline.drain(progress=progress, on_commit=self._update_row)
        while not self.pipeline.commit(on_commit=self._update_row):
            pass  # each try waited the busy timeout
        while self.audio.pending():  # each pass stores or sets aside chunks, or waited out a busy store
            self.audio.drain(progress=progress)

    def _write_until_done(self, fn: Callable[[Writer], None]) -> None:
        while not self._try_write(fn):
            pass  # each try waited the busy timeout; a second interrupt raises StopNow

    def _check_audio(self) -> None:
        """One warning, once, for sources that could not be opened; screen capture goes on."""
        audio = self.capture.audio
        if audio is None or self._audio_checked or time.monotonic() - self._audio_started < AUDIO_CHECK_AFTER_S:
            return
        self._audio_checked = True
        problems = audio.source_problems()
        if problems:
            detail = "; ".join(f"{src}: {msg}" for src, msg in sorted(problems.items()))
            self._warn(f"audio not recorded ({detail}). Screen recording continues; see `lifelog doctor`.")

    def _finish(self) -> None:
        """Close the recording's spans and write ``record_stop``. After a second interrupt this
        is one quick try (the uncommitted batch too); otherwise it waits out a busy store."""
        ended = utcnow()

        gaps = self.capture.finish()

        def close(w) -> None:
            if not self._begun:
                self._open_timeline(w)
            for gap in gaps:
                w.add_event(*gap.event())
            w.close_spans(ended)
            w.add_event(ended, "record_stop", {"recording": self.id, "aborted": self.aborted})
            self._update_row(w, ended)

        if self.aborted:
            if self.pipeline.commit(on_commit=self._update_row):
                self._try_write(close)
            return
        self._write_until_done(close)

    def _update_row(self, w, ended=None) -> None:
        self._last_row = time.monotonic()
        counts = self.capture.screen.counts() if self.capture.screen else {}
        audio = self.capture.audio.counts() if self.capture.audio else {}
        w.upsert_recording(
            {
                "id": self.id,
                "started": self._started,
                "ended": ended,
                "fps": self.settings.fps,
                "frames_seen": counts.get("grabs", 0),
                "frames_kept": counts.get("kept", 0),
                "frames_skipped": counts.get("skipped", 0),
                "ocr_failures": self.pipeline.totals.ocr_failures,
                "audio_chunks": audio.get("chunks", 0),
                "audio_voiced_ms": audio.get("voiced_ms", 0),
                "audio_silent_ms": audio.get("silent_ms", 0),
            }
        )

    def _summary(self, seconds: float) -> RecordSummary:
        totals = self.pipeline.totals
        return RecordSummary(
            recording_id=self.id,
            seconds=seconds,
            counts=self.capture.screen.counts() if self.capture.screen else {},
            frames_processed=totals.frames,
            ocr_failures=totals.ocr_failures,
            new_spans=totals.new_spans,
            left_in_spool=len(pending(self.paths.spool)) + len(self.audio.pending()),
            audio=self.capture.audio.counts() if self.capture.audio else {},
            transcripts=self.audio.totals.transcripts,
            audio_problems=self.capture.audio.source_problems() if self.capture.audio else {},
            aborted=self.aborted,
            capture_error=self.capture_error,
        )


def _within(seconds: float, done: Callable[[], bool]) -> Callable[[], bool]:
    """A stop test that is true once ``done()`` is, or ``seconds`` from now have passed."""
    deadline = time.monotonic() + seconds
    return lambda: done() or time.monotonic() > deadline
