"""The capture processes of one recording: started, paused, resumed, restarted after the
screen comes back, and the gaps all that leaves, as rows for the timeline.

A gap is written when it ends, as a ``gap`` event at its start carrying ``until`` and a
``reason`` (``paused``, ``no screen``), so ``context`` shows it where it falls. Requests from
other threads (the owner's API) are queued and applied by the recorder's loop.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from lifelog.capture.audio import AudioSettings
from lifelog.capture.desktop import open_grabber
from lifelog.capture.loop import CaptureSettings
from lifelog.capture.process import CaptureProcess
from lifelog.config import Settings
from lifelog.daemon.disk import LOW_DISK, DiskGuard
from lifelog.errors import LifelogError
from lifelog.paths import Paths
from lifelog.timespec import pause_seconds, utcnow

log = logging.getLogger(__name__)

SCREEN_RETRY_S = 5.0  # how often a daemon looks for the screen again after losing it
TOKENIZE_NICE = 10  # OCR and ASR run this much nicer than capture and the API


class NormalPriority:
    """One thread kept at its creator's priority, to start what must not inherit a lowered
    one: capture processes and the API server (threads and processes inherit the niceness of
    the thread that starts them). Create it before calling :func:`lower_this_thread`."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lifelog-normal")
        self._thread.submit(lambda: None).result()  # the thread exists from now on

    def run(self, fn, *args):
        return self._thread.submit(fn, *args).result()

    def close(self) -> None:
        self._thread.shutdown(wait=False)


def lower_this_thread(increment: int = TOKENIZE_NICE) -> bool:
    """Make the calling thread (and the threads and processes it starts later) nicer. On
    Linux niceness is per thread, so capture processes and the API threads started from other
    threads keep their priority; elsewhere it is the whole process."""
    try:
        tid = threading.get_native_id() if os.uname().sysname == "Linux" else 0
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
        return True
    except (OSError, AttributeError) as exc:  # pragma: no cover - a platform without priorities
        log.debug("cannot lower the tokenising priority: %s", exc)
        return False


@dataclass
class Gap:
    since: datetime
    reason: str
    until: datetime | None = None

    def event(self) -> tuple[datetime, str, dict]:
        return self.since, "gap", {"reason": self.reason, "until": self.until}


class Supervisor:
    """Owns the screen and audio capture processes. ``retry``: a lost screen is waited for
    (the daemon) instead of ending the recording (``lifelog record``)."""

    def __init__(self, paths: Paths, settings: Settings, *, retry: bool, normal: NormalPriority | None = None) -> None:
        self.paths = paths
        self.settings = settings
        self.retry = retry
        self.screen: CaptureProcess | None = None
        self.audio: CaptureProcess | None = None
        self.gap: Gap | None = None  # capture is down: paused, or no screen
        self.paused_until: float | None = None  # monotonic; None: until resumed
        self.error = ""  # why capture ended for good (not retrying)
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._next_try = 0.0
        self._normal = normal  # capture processes start there: they keep capture's priority
        self.disk = DiskGuard(paths.data, settings.disk_min_free_bytes)

    # -- requests from other threads ---------------------------------------------------------
    def request_pause(self, seconds: float | None) -> dict:
        seconds = pause_seconds(seconds)  # checked first: a refused pause does not pause
        self._requests.put(("pause", seconds))
        until = None if seconds is None else (datetime.now().astimezone() + timedelta(seconds=seconds))
        return {"paused": True, "until": until.isoformat(timespec="seconds") if until else None}

    def request_resume(self) -> dict:
        self._requests.put(("resume", None))
        return {"paused": False}

    # -- the recorder's loop -----------------------------------------------------------------
    def start(self) -> None:
        self._start_screen()
        if self.settings.audio_sources:
            muted = self.settings.exclude_audio  # while an excluded window has focus, no sound is kept
            self.audio = self._spawn(
                self.paths.audio_spool,
                AudioSettings(
                    sources=self.settings.audio_sources,
                    gap_dir=str(self.paths.spool),
                    exclude_apps=self.settings.exclude_apps if muted else (),
                    exclude_titles=self.settings.exclude_titles if muted else (),
                ),
            )

    def _spawn(self, folder, settings) -> CaptureProcess:
        if self._normal is None:
            return CaptureProcess.start(folder, settings)
        return self._normal.run(CaptureProcess.start, folder, settings)

    def stop(self) -> None:
        for proc in (self.screen, self.audio):
            if proc is not None and proc.alive():
                proc.stop()

    def tick(self) -> list[Gap]:
        """Apply requests, end a pause that ran out, notice a lost screen, try to get it back.
        Returns the gaps that ended (to be written). Sets ``error`` when capture ended for good."""
        ended: list[Gap] = []
        while not self._requests.empty():
            kind, seconds = self._requests.get()
            if kind == "pause":
                self._pause(seconds)
            elif self.gap is not None and self.gap.reason == "paused":
                ended += self._resume()
        if self.paused_until is not None and time.monotonic() >= self.paused_until:
            ended += self._resume()
        ended += self._guard_disk()
        if self.gap is None:
            self._check_screen()
        elif self.gap.reason not in ("paused", LOW_DISK) and time.monotonic() >= self._next_try:
            ended += self._retry_screen(self.gap)
        return ended

    def finish(self) -> list[Gap]:
        """The gap still open when the recording stops, closed now."""
        if self.gap is None:
            return []
        gap, self.gap = self.gap, None
        gap.until = utcnow()
        return [gap]

    def info(self) -> dict:
        counts = self.screen.counts() if self.screen and self.gap is None else {}
        scheduled = counts.get("ticks", 0) + counts.get("late_ticks", 0)
        return {
            "capturing": self.gap is None,
            "gap": None if self.gap is None else {"since": self.gap.since.isoformat() + "Z", "reason": self.gap.reason},
            "paused_until_s": None if self.paused_until is None else round(self.paused_until - time.monotonic(), 1),
            "fps_target": self.settings.fps,
            # ticks that ran out of those the schedule asked for since the capture child began,
            # so a slow start of the child (imports under load) is not counted as missed frames
            "fps_achieved": round(self.settings.fps * counts["ticks"] / scheduled, 2) if scheduled else None,
            "frames_kept": counts.get("kept", 0),
            "frames_shed": counts.get("shed", 0),
            "late_ticks": counts.get("late_ticks", 0),
            "processes": processes(os.getpid()),
        }

    # -- internals ----------------------------------------------------------------------------
    def _start_screen(self) -> None:
        cap = CaptureSettings(
            fps=self.settings.fps,
            monitor=self.settings.monitor or None,
            keyframe_every_s=self.settings.keyframe_every_s,
            spool_max_frames=self.settings.spool_max_frames,
            exclude_apps=self.settings.exclude_apps,
            exclude_titles=self.settings.exclude_titles,
        )
        self.screen = self._spawn(self.paths.spool, cap)

    def _pause(self, seconds: float | None) -> None:
        self.paused_until = None if seconds is None else time.monotonic() + seconds
        if self.gap is not None:  # already down (no screen): the pause starts when that gap ends
            return
        self.stop()
        self.gap = Gap(utcnow(), "paused")
        log.info("capture paused%s", "" if seconds is None else f" for {seconds:g} s")

    def _resume(self) -> list[Gap]:
        self.paused_until = None
        if self.gap is None or self.gap.reason != "paused":
            return []
        gap, self.gap = self.gap, None
        gap.until = utcnow()
        self.start()
        log.info("capture resumed")
        return [gap]

    def _guard_disk(self) -> list[Gap]:
        """Pause capture (a ``low_disk`` gap) while the data folder's disk is nearly full, and
        resume when space is back (``daemon/disk.py``); returns the gap that ended."""
        low = self.disk.low()
        if low and self.gap is None:
            self.stop()
            self.gap = Gap(utcnow(), LOW_DISK)
            log.warning(
                "capture paused: %s has %s bytes free, under disk_min_free (%s)",
                self.paths.data,
                self.disk.last_free,
                self.disk.min_free,
            )
        elif not low and self.gap is not None and self.gap.reason == LOW_DISK:
            gap, self.gap = self.gap, None
            gap.until = utcnow()
            self.start()
            log.info("disk space is back (%s bytes free); capture resumes", self.disk.last_free)
            return [gap]
        return []

    def _check_screen(self) -> None:
        failure = self.screen.failed() if self.screen else None
        if not failure:
            return
        if not self.retry:
            self.error = failure
            return
        log.warning("screen capture stopped: %s; trying again every %g s", failure, SCREEN_RETRY_S)
        self.gap = Gap(utcnow(), f"no screen ({failure})")
        self._next_try = time.monotonic() + SCREEN_RETRY_S

    def _retry_screen(self, gap: Gap) -> list[Gap]:
        """``gap`` (the screen's) ended if the screen opens again."""
        self._next_try = time.monotonic() + SCREEN_RETRY_S
        try:
            open_grabber().close()
        except LifelogError:
            return []
        self.gap = None
        gap.until = utcnow()
        log.info("the screen is back; capture restarts")
        self._start_screen()
        return [gap]


def processes(pid: int) -> list[dict]:
    """CPU (average since start, % of one core) and memory of the owner and its children."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency; stay useful without it
        return []
    out = []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    for p in procs:
        try:
            with p.oneshot():
                times = p.cpu_times()
                age = max(time.time() - p.create_time(), 1e-9)
                out.append(
                    {
                        "pid": p.pid,
                        "name": p.name(),
                        "cpu_percent": round(100 * (times.user + times.system) / age, 1),
                        "rss_mb": round(p.memory_info().rss / 1e6, 1),
                    }
                )
        except psutil.Error:
            continue
    return out
