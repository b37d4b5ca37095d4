"""Drain the spool: OCR each kept frame, store frames and text spans in batches, and delete
spool files only after their batch is committed.

One process drains at a time (a lock file in the spool folder), so ``lifelog process`` and a
running recorder never OCR the same frame twice. A frame that fails OCR is stored, marked
and counted; a spool file that cannot be decoded is moved aside to ``spool/bad``. Neither stops
the pipeline; a file that meets a passing I/O error (out of file descriptors, EIO) stays in the
spool and is read again a little later.

Exactly once. A batch the store refuses (busy) stays queued in memory and its files stay in
the spool, where later drains skip them until a commit takes them. Every frame carries its
spool file's name as ``source_key``, and a batch skips frames already stored under their
key, so a crash between a commit and the deletion of its files (or any replay of a spool
file) stores nothing twice.

Whole text after a crash. A partial frame is pasted over the screen as it was. After a
restart, the screen before the first partial frame is rebuilt from the stored frame images
(its last keyframe and the changes after it), so text around the changed region is read whole.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lifelog import spool
from lifelog.errors import FilesUnavailable, LifelogError, SpoolBusy, StoreBusy, StoreError, StoreFull
from lifelog.ingest.gaps import store_gaps
from lifelog.models import FrameRecord, OcrLine, SpooledFrame
from lifelog.paths import Paths, make_private_dir
from lifelog.store import Store
from lifelog.store.images import FrameImages
from lifelog.tokenize_media.redact import Redactor, black_out
from lifelog.tokenize_media.redact import default as default_redactor

if TYPE_CHECKING:  # imported when OCR first runs
    from lifelog.tokenize_media.ocr.incremental import ScreenReader
    from lifelog.tokenize_media.ocr.layout import Layout

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
FULL_RETRY_S = 5.0  # after a full disk refused a frame image or a batch, wait this long before trying again
UNAVAILABLE_RETRY_S = 2.0  # after a passing I/O error (out of fds, EIO) on a spool or image file


def _no_space(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is ENOSPC: the disk is full."""
    return spool.caused_by(exc, {errno.ENOSPC})


@dataclass
class DrainStats:
    frames: int = 0
    ocr_failures: int = 0
    bad_files: int = 0
    new_spans: int = 0
    ocr_seconds: float = 0.0


@dataclass
class _Done:
    path: Path
    record: FrameRecord
    lines: list[OcrLine] | None  # None: OCR failed, leave the monitor's spans as they were
    shed: tuple[object, int] | None = None  # (shed_from, frames) when capture shed changes before it


@dataclass
class _MonitorText:
    reader: ScreenReader  # the lines of each frame
    layout: Layout  # their reading order, windows and text as shown
    canvas: np.ndarray | None = None


class Pipeline:
    def __init__(
        self,
        store: Store,
        paths: Paths,
        *,
        ocr_engine: str = "ppocr-v4",
        engine=None,
        ocr_options: dict | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.store = store
        self.paths = paths
        self.images = FrameImages(paths.frames)
        self._engine_id = ocr_engine
        self._engine_options = ocr_options or {}
        self._engine = engine
        self.redactor = redactor or default_redactor()  # secrets out of text and stored pixels
        self._monitors: dict[int, _MonitorText] = {}
        self._uncommitted: list[_Done] = []
        self._lock_fd: int | None = None
        self._wait_until = 0.0  # monotonic: the disk was full, or files could not be opened; drains wait until then
        self._unavailable = False  # a passing I/O error was logged and has not yet cleared
        self.totals = DrainStats()

    # -- locking ---------------------------------------------------------------------------
    def acquire(self) -> Pipeline:
        make_private_dir(self.paths.spool)
        fd = os.open(self.paths.spool / ".drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SpoolBusy(
                "Another lifelog process (the recorder?) is processing the spool; it will drain it."
            ) from None
        self._lock_fd = fd
        self._clean_partial()
        return self

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _clean_partial(self) -> None:
        """Temporary files a crash left mid-write: in the spools, and in the newest day folders
        of frame images and audio (older days were finished before any crash now pending)."""
        folders = [self.paths.spool, self.paths.audio_spool]
        for root in (self.paths.frames, self.paths.audio):
            if root.is_dir():
                folders += sorted((d for d in root.iterdir() if d.is_dir()), reverse=True)[:2]
        removed = sum(spool.clean_partial(f) for f in folders if f.is_dir())
        if removed:
            log.info("removed %d partial files left by an interrupted write", removed)

    # -- draining --------------------------------------------------------------------------
    def drain(
        self,
        *,
        batch_seconds: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Progress | None = None,
        on_commit: Callable[[object], None] | None = None,
    ) -> DrainStats:
        """Process every frame pending now, committing about every ``batch_seconds``."""
        stats = DrainStats()
        try:
            store_gaps(self.store, self.paths.spool)  # what capture chose not to keep (excluded windows)
            waiting = {done.path for done in self._uncommitted}  # processed, kept for the next commit
            files = [p for p in spool.pending(self.paths.spool) if p not in waiting]
        except OSError as exc:  # out of file descriptors: the spool cannot even be listed now
            if not spool.transient(exc):
                raise
            self._files_unavailable(FilesUnavailable(f"cannot read the spool now ({exc})"))
            return stats
        started = time.monotonic()
        for i, path in enumerate(files):
            if should_stop() or time.monotonic() < self._wait_until:
                break
            try:
                self._process(path, stats)
            except StoreFull as exc:  # the frame's image could not be written: its spool file stays
                log.warning("%s; frames wait in the spool, tried again in %g s", exc, FULL_RETRY_S)
                self._wait_until = time.monotonic() + FULL_RETRY_S
            except FilesUnavailable as exc:
                self._files_unavailable(exc)
            if progress:
                progress(i + 1, len(files))
            if time.monotonic() - started >= batch_seconds:
                self.commit(stats, on_commit)
                started = time.monotonic()
        self.commit(stats, on_commit)
        return stats

    @property
    def waiting(self) -> int:
        """Frames processed but not yet committed (the store was busy)."""
        return len(self._uncommitted)

    def commit(self, stats: DrainStats | None = None, on_commit=None) -> bool:
        """Write the processed frames in one transaction, then delete their spool files.
        If the store stays busy the batch is kept and retried on the next call."""
        if not self._uncommitted:  # nothing to write: never open the database for nothing
            return True
        batch = self._uncommitted
        try:
            with self.store.write() as w:
                new = self._write_batch(w, batch)
                if on_commit:
                    on_commit(w)
        except StoreBusy as exc:
            log.warning("store busy, keeping %d frames for the next commit: %s", len(batch), exc)
            if isinstance(exc, StoreFull):  # a full disk answers at once: do not retry in a tight loop
                time.sleep(FULL_RETRY_S)
            return False
        for done in batch:
            done.path.unlink(missing_ok=True)
        self._uncommitted = []
        if stats is not None:
            stats.new_spans += new
        self.totals.new_spans += new
        return True

    def _write_batch(self, w, batch: list[_Done]) -> int:
        stored = w.stored_keys(
            "frames",
            [d.record.source_key for d in batch],
            min(d.record.ts for d in batch),
            max(d.record.ts for d in batch),
        )
        if stored:
            log.info("%d frames were stored before (a replayed spool file); not storing them again", len(stored))
        new = 0
        for done in batch:
            rec = done.record
            if rec.source_key in stored:
                continue
            if done.shed:
                since, count = done.shed
                w.add_event(
                    since,
                    "gap",
                    {"monitor": rec.monitor, "until": rec.ts, "reason": "ocr_behind", "frames_shed": count},
                )
            frame_id = w.add_frame(rec)
            if done.lines is None:
                w.add_event(rec.ts, "ocr_failure", {"monitor": rec.monitor, "frame_id": frame_id})
                continue
            created, _ = w.observe_lines(frame_id, rec.ts, rec.monitor, rec.app, rec.window, done.lines)
            new += created
        return new

    def _files_unavailable(self, exc: FilesUnavailable) -> None:
        """Wait a little before the next try; logged once until a frame is read again."""
        if not self._unavailable:
            log.warning("%s; frames wait in the spool, tried again every %g s", exc, UNAVAILABLE_RETRY_S)
            self._unavailable = True
        self._wait_until = time.monotonic() + UNAVAILABLE_RETRY_S

    # -- one frame -------------------------------------------------------------------------
    def _process(self, path: Path, stats: DrainStats) -> None:
        try:
            frame = spool.read_frame(path)
        except FileNotFoundError:
            log.warning("spool file %s vanished before it was read", path.name)
            return
        except Exception as exc:
            if spool.transient(exc):  # not the file's fault: it stays and is read again later
                raise FilesUnavailable(f"cannot read spool file {path.name} now ({exc})") from exc
            self._quarantine(path, exc)
            stats.bad_files += 1
            self.totals.bad_files += 1
            return
        if self._unavailable:
            log.warning("spool files can be read again")
            self._unavailable = False
        full = self._composite(frame)
        t = time.perf_counter()
        lines, ok = self._ocr(frame, full)
        ocr_s = time.perf_counter() - t
        lines, secret_boxes = self.redactor.redact_ocr(lines)
        stats.frames += 1
        stats.ocr_seconds += ocr_s
        self.totals.frames += 1
        self.totals.ocr_seconds += ocr_s
        if not ok:
            stats.ocr_failures += 1
            self.totals.ocr_failures += 1
        record = FrameRecord(
            ts=frame.ts,
            monitor=frame.monitor,
            width=frame.width,
            height=frame.height,
            app=frame.window.app,
            window=self.redactor.redact(frame.window.title)[0],
            image_ref=self._save_image(frame, secret_boxes),
            region=frame.region,
            keyframe=frame.keyframe,
            ocr_ms=ocr_s * 1000,
            ocr_failed=not ok,
            source_key=path.name,
        )
        shed = (frame.shed_from, frame.shed_frames) if frame.shed_from is not None else None
        self._uncommitted.append(_Done(path, record, lines if ok else None, shed))

    def _composite(self, frame: SpooledFrame) -> np.ndarray:
        """The whole monitor as it looked at this frame: a keyframe replaces the canvas, a
        partial frame is pasted over it. A partial frame with no canvas (its keyframe was
        processed by an earlier process) is pasted over the screen rebuilt from the store."""
        state = self._monitor(frame.monitor)
        size = (frame.height, frame.width, 3)
        if frame.keyframe:
            state.canvas = np.zeros(size, np.uint8)
        elif state.canvas is None or state.canvas.shape != size:
            state.canvas = self._stored_screen(frame)
        left, top, right, bottom = frame.region
        state.canvas[top:bottom, left:right] = frame.image
        return state.canvas.copy()

    def _stored_screen(self, frame: SpooledFrame) -> np.ndarray:
        """What the monitor showed before ``frame``, from stored frame images; black when the
        store has no keyframe for it (then only the changed region can be read)."""
        try:
            with self.store.read() as r:
                frames = r.screen_before(frame.monitor, frame.ts, frame.width, frame.height)
            if frames:
                return self.images.reconstruct(frames)
        except (StoreError, OSError, ValueError) as exc:
            log.warning("cannot rebuild monitor %d before %s from stored frames: %s", frame.monitor, frame.ts, exc)
        return np.zeros((frame.height, frame.width, 3), np.uint8)

    def _ocr(self, frame: SpooledFrame, full: np.ndarray) -> tuple[list[OcrLine], bool]:
        """The frame's lines in reading order, each in the window it was read from."""
        state = self._monitor(frame.monitor)
        try:
            lines = state.reader.read(full, frame.region).lines
            return state.layout.arrange(full, lines, frame.windows), True
        except Exception as exc:
            log.error("OCR failed on %s: %s", frame.path.name if frame.path else frame.ts, exc)
            state.reader.reset()
            state.layout.reset()
            return [], False

    def _save_image(self, frame: SpooledFrame, secret_boxes: list | None = None) -> str:
        """The frame's pixels as stored, with the boxes of redacted lines black."""
        pixels = np.asarray(frame.image)
        image = black_out(pixels, frame.region, secret_boxes) if secret_boxes else pixels
        name = frame.path.name if frame.path else spool.frame_name(frame.ts, frame.monitor)
        try:
            return self.images.save(
                name,
                frame.ts.strftime("%Y-%m-%d"),
                image,
                monitor=frame.monitor,
                region=frame.region,
                size=(frame.width, frame.height),
            )
        except (OSError, LifelogError) as exc:
            if _no_space(exc):  # kept in the spool and stored whole later, not stored without its image
                raise StoreFull(f"No space left to store a frame image under {self.paths.frames}") from exc
            if spool.transient(exc):
                raise FilesUnavailable(f"cannot write a frame image under {self.paths.frames} now ({exc})") from exc
            log.error("cannot store frame image: %s", exc)
            return ""

    def _monitor(self, monitor: int) -> _MonitorText:
        if monitor not in self._monitors:
            from lifelog.tokenize_media.ocr import get_engine
            from lifelog.tokenize_media.ocr.incremental import ScreenReader
            from lifelog.tokenize_media.ocr.layout import Layout

            engine = self._engine or get_engine(self._engine_id, **self._engine_options)
            self._monitors[monitor] = _MonitorText(ScreenReader(engine), Layout())
        return self._monitors[monitor]

    def _quarantine(self, path: Path, exc: Exception) -> None:
        bad = self.paths.spool / "bad"
        make_private_dir(bad)
        log.error("unreadable spool file %s moved to %s: %s", path.name, bad, exc)
        try:
            os.replace(path, bad / path.name)
        except FileNotFoundError:
            pass
