"""The capture loop: grab every monitor on a steady clock, spool what changed.

Ticks are scheduled at ``t0 + n / fps``; a slow grab delays one tick but never shifts the
schedule, and ticks that are already past are skipped and counted rather than bursted.

A bounded spool. When OCR cannot keep up (a screen full of changing text), frames waiting in
the spool are capped at ``spool_max_frames``: once the spool is that full, and until it has
drained to half of that, changed frames are *shed* (not written, counted), except one
whole-screen keyframe per monitor every ``shed_keyframe_s``; then the next change is spooled
as a whole keyframe again (partial regions are only valid on top of the frame before them). Each keyframe after a
shed stretch carries when the stretch began and how many frames were shed, and the pipeline
records it as a ``gap`` event, so the timeline says what was not read instead of silently
skipping it. Capture itself never waits, and a stop drains at most ``spool_max_frames``.

Exclusions (capture/screen_gate.py). Excluded windows are blanked in each shot before the
change detector sees it; a monitor that is (nearly) all excluded is not kept, and the
stretch becomes a gap.

A lost screen. When every grab has failed for ``lost_after_s`` (the X server died, the session
ended), the loop raises ``CaptureUnavailable``; the recorder records the gap, stores what was
captured and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from lifelog import spool
from lifelog.capture.change import ChangeDetector
from lifelog.capture.desktop import open_grabber, open_window_source
from lifelog.capture.screen import Grabber, Monitor, Shot, select_monitors
from lifelog.capture.screen_gate import ScreenGate
from lifelog.capture.window import WindowSource
from lifelog.errors import CaptureUnavailable
from lifelog.models import Box, SpooledFrame, VisibleWindow, WindowInfo
from lifelog.timespec import utcnow

log = logging.getLogger(__name__)

COUNTERS = ("ticks", "grabs", "kept", "skipped", "late_ticks", "errors", "shed", "excluded")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class CaptureSettings:
    fps: float = 2.0
    monitor: int | None = None  # None: every monitor
    keyframe_every_s: float = 300.0
    keyframe_fraction: float = 0.5  # a change this large is spooled as a whole frame
    spool_max_frames: int = 20  # frames waiting for OCR beyond which changes are shed
    shed_keyframe_s: float = 30.0  # while shedding, one whole keyframe per monitor this often
    lost_after_s: float = 5.0  # every grab failing this long: the screen is gone
    exclude_apps: tuple[str, ...] = ()  # WM_CLASS names never recorded (capture/exclude.py)
    exclude_titles: tuple[str, ...] = ()  # title regexes never recorded


@dataclass
class _MonitorState:
    detector: ChangeDetector = field(default_factory=ChangeDetector)
    last_keyframe: float = float("-inf")
    shed_from: datetime | None = None  # first change not spooled since the last kept frame
    shed_frames: int = 0
    black: bool = False  # the last change showed a screen all black while windows were open


class SpoolBacklog:
    """How many frames wait in the spool: counted from the folder at most once a second
    (about 1 ms for hundreds of files), plus the frames this loop wrote since."""

    def __init__(self, folder: Path, clock: Callable[[], float], every_s: float = 1.0) -> None:
        self.folder = folder
        self._clock = clock
        self._every = every_s
        self._checked = float("-inf")
        self._count = 0

    def count(self) -> int:
        now = self._clock()
        if now - self._checked >= self._every:
            self._count = spool.count_pending(self.folder)
            self._checked = now
        return self._count

    def added(self) -> None:
        self._count += 1


class CaptureLoop:
    """Owns the grabber and per-monitor change state. ``counters`` is any mutable sequence
    indexed like COUNTERS (a multiprocessing Array when run in a child process)."""

    def __init__(
        self,
        spool_dir: Path,
        settings: CaptureSettings,
        counters,
        *,
        grabber: Grabber | None = None,
        windows: WindowSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.spool_dir = spool_dir
        self.settings = settings
        self.counters = counters
        self.grabber = grabber or open_grabber(fps=settings.fps)
        self.windows = windows or open_window_source()
        self.monitors: list[Monitor] = select_monitors(self.grabber.monitors(), settings.monitor)
        self._state = {m.index: _MonitorState() for m in self.monitors}
        self._clock = clock
        self._wallclock = wallclock
        self.backlog = SpoolBacklog(spool_dir, clock)
        self._failing_since: float | None = None
        self._shed = False  # shedding: the spool filled up and has not drained to half yet
        self.gate = ScreenGate(settings.exclude_apps, settings.exclude_titles, self.windows, spool_dir, self._count)

    def run(self, stop: StopFlag, deadline: float | None = None) -> None:
        interval = 1.0 / self.settings.fps
        t0 = self._clock()
        n = 0
        while not stop.is_set() and (deadline is None or self._clock() < deadline):
            self.tick()
            n += 1
            next_at = t0 + n * interval
            now = self._clock()
            if now > next_at:  # running late: skip the ticks already missed, keep the grid
                missed = int((now - next_at) / interval) + 1
                self._count("late_ticks", missed)
                n += missed
                next_at = t0 + n * interval
            stop.wait(max(0.0, next_at - self._clock()))

    def tick(self) -> int:
        """Grab every monitor once, blank excluded windows, spool the ones that changed.
        Returns frames kept."""
        self._count("ticks")
        ts = self._wallclock()
        before = self.gate.before()
        shots, failures = self._grab_all()
        self._check_lost(failures)
        seen = self.gate.after(before) if shots else None
        changed: list[tuple[Monitor, Shot, Box]] = []
        for mon, shot in shots:
            if seen is not None and self.gate.excluded(ts, mon, shot, seen):
                continue
            region = self._state[mon.index].detector.changed_region(shot)
            if region is None:
                self._count("skipped")
            else:
                changed.append((mon, shot, region))
        if not changed:
            return 0
        window = self._active_window()
        visible = self._visible_windows() if seen is None else seen.windows
        if seen is not None:
            window = self.gate.named(window, seen)
        shedding = self._shedding()
        for mon, shot, _ in changed:
            self._notice_black(mon, shot, on_monitor(visible, mon))
        return sum(
            self._keep(ts, mon, shot, region, window, shedding, on_monitor(visible, mon))
            for mon, shot, region in changed
        )

    def _notice_black(self, mon: Monitor, shot: Shot, windows: list[VisibleWindow]) -> None:
        """Say once, when it begins, that a monitor's screen is all black while windows are open
        on it: what a grab through the wrong path gives (XWayland under a Wayland session, a
        compositor that hands out empty buffers), never a silent black recording."""
        state = self._state[mon.index]
        black = bool(windows) and all_black(shot)
        if black and not state.black:
            log.warning(
                "monitor %d: the screen grabbed is all black while %d window(s) are open on it (%s); "
                "check the capture path with `lifelog doctor`",
                mon.index,
                len(windows),
                ", ".join(sorted({w.app or w.title for w in windows}))[:200],
            )
        state.black = black

    def _grab_all(self) -> tuple[list[tuple[Monitor, Shot]], list[Exception]]:
        shots, failures = [], []
        for mon in self.monitors:
            try:
                shots.append((mon, self.grabber.grab(mon)))
            except Exception as exc:
                self._count("errors")
                failures.append(exc)
                continue
            self._count("grabs")
        return shots, failures

    def _shedding(self) -> bool:
        """Whether the spool is full: from ``spool_max_frames`` waiting until half of that is
        left (hysteresis, so a spool at the limit does not alternate one frame in, one out)."""
        backlog = self.backlog.count()
        limit = self.settings.spool_max_frames
        self._shed = backlog > limit // 2 if self._shed else backlog >= limit
        return self._shed

    def _check_lost(self, failures: list[Exception]) -> None:
        """Raise CaptureUnavailable once every grab has failed for ``lost_after_s``."""
        if len(failures) < len(self.monitors):
            self._failing_since = None
            return
        now = self._clock()
        if self._failing_since is None:
            self._failing_since = now
            log.warning("screen grab failed: %s", failures[0])
        elif now - self._failing_since >= self.settings.lost_after_s:
            reason = (
                str(failures[0]).strip().splitlines()[0] if str(failures[0]).strip() else type(failures[0]).__name__
            )
            raise CaptureUnavailable(
                f"the screen could not be captured for {now - self._failing_since:.0f} s ({reason})"
            )

    def _active_window(self) -> WindowInfo:
        try:
            return self.windows.active()
        except Exception as exc:  # the window source lost its display: frames still count
            self._count("errors")
            log.debug("active window unknown: %s", exc)
            return WindowInfo()

    def _visible_windows(self) -> list[VisibleWindow]:
        try:
            return self.windows.visible()
        except Exception as exc:
            log.debug("visible windows unknown: %s", exc)
            return []

    def _keep(
        self, ts, mon: Monitor, shot: Shot, region: Box, window, shedding: bool, visible: list[VisibleWindow]
    ) -> int:
        """Spool one changed monitor, or shed it while the spool is full; returns frames kept."""
        state = self._state[mon.index]
        now = self._clock()
        if shedding and now - state.last_keyframe < self.settings.shed_keyframe_s:
            state.shed_from = state.shed_from or ts
            state.shed_frames += 1
            self._count("shed")
            return 0
        area = (region[2] - region[0]) * (region[3] - region[1])
        keyframe = (
            state.shed_from is not None
            or now - state.last_keyframe >= self.settings.keyframe_every_s
            or area >= self.settings.keyframe_fraction * shot.width * shot.height
        )
        if keyframe:
            region = (0, 0, shot.width, shot.height)
        frame = SpooledFrame(
            ts=ts,
            monitor=mon.index,
            width=shot.width,
            height=shot.height,
            region=region,
            keyframe=keyframe,
            window=window,
            image=crop_rgb(shot, region),
            shed_from=state.shed_from,
            shed_frames=state.shed_frames,
            windows=visible,
        )
        try:
            spool.write_frame(self.spool_dir, frame)
        except OSError as exc:  # disk full, permissions: keep capturing, count it
            self._count("errors")
            log.error("cannot spool frame: %s", exc)
            return 0
        if keyframe:
            state.last_keyframe = now
        state.shed_from, state.shed_frames = None, 0
        state.detector.keep(shot)
        self.backlog.added()
        self._count("kept")
        return 1

    def _count(self, name: str, n: int = 1) -> None:
        self.counters[COUNTERS.index(name)] += n

    def close(self) -> None:
        """Stop: an excluded stretch still open ends now, so its gap is not lost."""
        self.gate.close(self.monitors, self._wallclock())
        self.grabber.close()


def on_monitor(windows: list[VisibleWindow], mon: Monitor) -> list[VisibleWindow]:
    """The windows overlapping ``mon``, with rectangles in its pixel coordinates."""
    out = []
    for w in windows:
        left, top, right, bottom = w.box
        box = (left - mon.left, top - mon.top, right - mon.left, bottom - mon.top)
        if box[0] < mon.width and box[1] < mon.height and box[2] > 0 and box[3] > 0:
            out.append(VisibleWindow(w.app, w.title, box))
    return out


def all_black(shot: Shot) -> bool:
    """Whether every pixel of a BGRA shot is black: a sparse sample first (a screen with anything
    on it answers in microseconds), then every pixel."""
    bgr = np.frombuffer(shot.raw, np.uint8).reshape(-1, 4)[:, :3]
    return not bgr[::997].any() and not bgr.any()


def crop_rgb(shot: Shot, region: Box) -> Image.Image:
    """The region of a BGRA shot as an RGB PIL image; the colour swap happens in C."""
    left, top, right, bottom = region
    bgra = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)
    part = np.ascontiguousarray(bgra[top:bottom, left:right])
    return Image.frombuffer("RGB", (right - left, bottom - top), part.tobytes(), "raw", "BGRX", 0, 1)
