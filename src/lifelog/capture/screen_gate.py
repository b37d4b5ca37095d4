"""Exclusions applied to each grab of the capture loop (the rules are in capture/exclude.py).

The window stack is read before and after the grab; every excluded window is blanked in the
shot before the change detector sees it, so an excluded window's changes are not even
counted. A monitor at least ``FULL_SCREEN`` blanked is not kept, nor is any grab whose windows
could not be listed: the stretch becomes a gap marker (``excluded``) in the spool, written
when it ends or when capture stops. Excluded windows are left out of the frame's window list,
and an excluded focused window leaves the frame's app and title empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from lifelog.capture.exclude import FULL_SCREEN, Matcher, View, blank, on_screen, view
from lifelog.capture.screen import Monitor, Shot
from lifelog.capture.window import NoWindowSource, TopWindow, WindowSource
from lifelog.models import WindowInfo
from lifelog.spool.gaps import SpooledGap, write_gap

log = logging.getLogger(__name__)


class ScreenGate:
    """``count(name)`` counts ``excluded`` grabs and ``errors`` in the loop's counters."""

    def __init__(
        self,
        apps: tuple[str, ...],
        titles: tuple[str, ...],
        windows: WindowSource,
        spool_dir: Path,
        count: Callable[[str], None],
    ) -> None:
        self.matcher = Matcher(apps, titles)
        self.windows = windows
        self.spool_dir = spool_dir
        self._count = count
        self._since: dict[int, datetime] = {}  # monitor -> first grab not kept, while excluded
        self._grabs: dict[int, int] = {}
        self._blind = False
        if self.matcher and isinstance(windows, NoWindowSource):
            log.warning("exclusions cannot be applied: this platform gives no list of windows")

    def before(self) -> list[TopWindow] | None:
        """The stack just before a grab (None without exclusions, or when it cannot be read)."""
        return self._stack() if self.matcher else None

    def after(self, before: list[TopWindow] | None) -> View | None:
        """What the grab may keep, from the stacks before and after it; None without exclusions."""
        if not self.matcher:
            return None
        after = self._stack()
        if before is None or after is None:
            return View(known=False)
        self._blind = False
        return view([before, after], self.matcher)

    def excluded(self, ts: datetime, mon: Monitor, shot: Shot, seen: View) -> bool:
        """Blank the excluded windows in ``shot``; True when the monitor is (nearly) all
        excluded and the grab is not to be kept."""
        share = 1.0
        if seen.known:
            boxes = on_screen(seen.blank, mon.left, mon.top, shot.width, shot.height)
            if boxes and not isinstance(shot.raw, bytearray):
                shot.raw = bytearray(shot.raw)
            share = blank(shot.raw, shot.width, shot.height, boxes)
        if share < FULL_SCREEN:
            self._end(mon.index, ts)
            return False
        self._since.setdefault(mon.index, ts)
        self._grabs[mon.index] = self._grabs.get(mon.index, 0) + 1
        self._count("excluded")
        return True

    def named(self, window: WindowInfo, seen: View) -> WindowInfo:
        """The focused window as a frame may name it: nothing when it is excluded."""
        return WindowInfo() if seen.focus_excluded or self.matcher.info(window) else window

    def close(self, monitors: list[Monitor], now: datetime) -> None:
        for mon in monitors:
            self._end(mon.index, now)

    def _stack(self) -> list[TopWindow] | None:
        try:
            return self.windows.stack()
        except Exception as exc:  # a lost display, or a source without a stack
            self._count("errors")
            if not self._blind:
                self._blind = True
                log.warning("cannot list windows, so frames are not kept until it works again: %s", exc)
            return None

    def _end(self, monitor: int, until: datetime) -> None:
        """An excluded stretch ended: leave its gap marker in the spool."""
        if monitor not in self._since:
            return
        gap = SpooledGap(self._since[monitor], until, "excluded", {"monitor": monitor, "frames": self._grabs[monitor]})
        try:
            write_gap(self.spool_dir, gap, f"m{monitor:02d}")
        except OSError as exc:  # disk full: tried again when the next grab ends it
            self._count("errors")
            log.error("cannot spool a gap: %s", exc)
            return
        del self._since[monitor], self._grabs[monitor]
