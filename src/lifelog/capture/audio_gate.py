"""Sound kept out while an excluded window has focus (``exclude_audio``): the audio loop asks
this gate about every block. Focus is looked up at most every ``focus_every_s``; while it is
excluded nothing is kept, and a finished chunk waits until a check made after its last sample
finds the focus not excluded, so sound from just before a switch the last check had not seen
is dropped too; and after an excluded stretch only blocks that began after the check that
found it over are kept. The excluded stretch is spooled as a gap marker when it ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from lifelog.capture.desktop import open_window_source
from lifelog.capture.exclude import Matcher, excluded_ids
from lifelog.capture.window import WindowSource
from lifelog.spool.audio import RATE, Chunk
from lifelog.spool.gaps import SpooledGap, write_gap
from lifelog.timespec import utcnow

log = logging.getLogger(__name__)


class GateSettings(Protocol):
    """What the gate reads of the audio settings (``audio.AudioSettings``)."""

    exclude_apps: tuple[str, ...]
    exclude_titles: tuple[str, ...]
    focus_every_s: float


class FocusGate:
    """Keeps sound out while the focused window is excluded (see the module docstring). The
    window source is opened on first use, in the process that runs the loop."""

    def __init__(
        self,
        settings: GateSettings,
        gap_dir: Path,
        windows: WindowSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.matcher = Matcher(settings.exclude_apps, settings.exclude_titles)
        self.every = settings.focus_every_s
        self.gap_dir = gap_dir
        self._windows = windows
        self._clock, self._wallclock = clock, wallclock
        self._checked = float("-inf")
        self._cleared: datetime | None = None  # when a check last found the focus not excluded
        self._excluded = False
        self._since: datetime | None = None  # the excluded stretch began after this
        self._resumed: datetime | None = None  # the last excluded stretch was over by this
        self._held: list[Chunk] = []
        self._warned = False

    def check(self, force: bool = False) -> bool:
        """Whether the focus is excluded now (looked up at most every ``focus_every_s``)."""
        if not self.matcher:
            return False
        if force or self._clock() - self._checked >= self.every:
            self._checked = self._clock()
            at = self._wallclock()
            excluded = self._focus_excluded()
            if excluded and not self._excluded:
                self._since = self._cleared or at
                self._held.clear()
            elif not excluded and self._excluded:
                self._end(at)
                self._resumed = at
            self._excluded = excluded
            if not excluded:
                self._cleared = at
        return self._excluded

    def keeps(self, ts: datetime) -> bool:
        """Whether a block that began at ``ts`` may be kept: not while the focus is excluded,
        nor one that began before a check found an excluded stretch over."""
        return not self.check() and (self._resumed is None or ts >= self._resumed)

    def hold(self, chunk: Chunk | None) -> None:
        if chunk is not None:
            self._held.append(chunk)

    def release(self, excluded: bool) -> list[Chunk]:
        """The held chunks a check after their last sample cleared; none while excluded."""
        if excluded:
            self._held.clear()
            return []
        if not self.matcher:
            out, self._held = self._held, []
            return out
        cleared = self._cleared
        out = [c for c in self._held if cleared is not None and _end(c) <= cleared]
        self._held = [c for c in self._held if c not in out]
        return out

    def close(self) -> None:
        if self._excluded:
            self._end(self._wallclock())
        if self._windows is not None and hasattr(self._windows, "close"):
            self._windows.close()

    def _focus_excluded(self) -> bool:
        if self._windows is None:
            self._windows = open_window_source()
        try:
            stack = self._windows.stack()
        except Exception as exc:  # the window list is unknown: keep nothing until it is back
            if not self._warned:
                self._warned = True
                log.warning("cannot list windows, so no sound is kept until it works again: %s", exc)
            return True
        self._warned = False
        excluded = excluded_ids(stack, self.matcher)
        return any(w.focused and w.id in excluded for w in stack)

    def _end(self, until: datetime) -> None:
        since = self._since or until
        try:
            write_gap(self.gap_dir, SpooledGap(since, until, "excluded", {"sound": True}), "sound")
        except OSError as exc:
            log.error("cannot spool a gap: %s", exc)
        self._since = None


def _end(chunk: Chunk) -> datetime:
    return chunk.start + timedelta(seconds=len(chunk.samples) / RATE)
