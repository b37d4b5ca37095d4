"""The capture loop: grab every monitor on a steady clock, spool what changed.

Ticks are scheduled at ``t0 + n / fps``; a slow grab delays one tick but never shifts the
schedule, and ticks that are already past are skipped and counted rather than bursted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from PIL import Image

from lifelog import spool
from lifelog.capture.change import ChangeDetector
from lifelog.capture.screen import Grabber, Monitor, Shot, open_grabber, select_monitors
from lifelog.capture.window import WindowSource, open_window_source
from lifelog.models import Box, SpooledFrame
from lifelog.timespec import utcnow

log = logging.getLogger(__name__)

COUNTERS = ("ticks", "grabs", "kept", "skipped", "late_ticks", "errors")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class CaptureSettings:
    fps: float = 2.0
    monitor: int | None = None  # None: every monitor
    keyframe_every_s: float = 300.0
    keyframe_fraction: float = 0.5  # a change this large is spooled as a whole frame


@dataclass
class _MonitorState:
    detector: ChangeDetector = field(default_factory=ChangeDetector)
    last_keyframe: float = float("-inf")


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
        self.grabber = grabber or open_grabber()
        self.windows = windows or open_window_source()
        self.monitors: list[Monitor] = select_monitors(self.grabber.monitors(), settings.monitor)
        self._state = {m.index: _MonitorState() for m in self.monitors}
        self._clock = clock
        self._wallclock = wallclock

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
        """Grab every monitor once; spool the ones that changed. Returns frames kept."""
        self._count("ticks")
        ts = self._wallclock()
        changed: list[tuple[Monitor, Shot, Box]] = []
        for mon in self.monitors:
            try:
                shot = self.grabber.grab(mon)
            except Exception as exc:
                self._count("errors")
                log.warning("grab of monitor %d failed: %s", mon.index, exc)
                continue
            self._count("grabs")
            region = self._state[mon.index].detector.changed_region(shot)
            if region is None:
                self._count("skipped")
            else:
                changed.append((mon, shot, region))
        if not changed:
            return 0
        window = self.windows.active()
        for mon, shot, region in changed:
            self._keep(ts, mon, shot, region, window)
        return len(changed)

    def _keep(self, ts, mon: Monitor, shot: Shot, region: Box, window) -> None:
        state = self._state[mon.index]
        now = self._clock()
        area = (region[2] - region[0]) * (region[3] - region[1])
        keyframe = (
            now - state.last_keyframe >= self.settings.keyframe_every_s
            or area >= self.settings.keyframe_fraction * shot.width * shot.height
        )
        if keyframe:
            region = (0, 0, shot.width, shot.height)
            state.last_keyframe = now
        frame = SpooledFrame(
            ts=ts, monitor=mon.index, width=shot.width, height=shot.height, region=region,
            keyframe=keyframe, window=window, image=crop_rgb(shot, region),
        )
        try:
            spool.write_frame(self.spool_dir, frame)
        except OSError as exc:  # disk full, permissions: keep capturing, count it
            self._count("errors")
            log.error("cannot spool frame: %s", exc)
            return
        state.detector.keep(shot)
        self._count("kept")

    def _count(self, name: str, n: int = 1) -> None:
        self.counters[COUNTERS.index(name)] += n

    def close(self) -> None:
        self.grabber.close()


def crop_rgb(shot: Shot, region: Box) -> Image.Image:
    """The region of a BGRA shot as an RGB PIL image; the colour swap happens in C."""
    left, top, right, bottom = region
    bgra = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)
    part = np.ascontiguousarray(bgra[top:bottom, left:right])
    return Image.frombuffer("RGB", (right - left, bottom - top), part.tobytes(), "raw", "BGRX", 0, 1)
