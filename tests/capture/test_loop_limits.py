"""The capture loop at its limits, writing real spool files: a spool OCR cannot keep up with
stays bounded and says what it shed; a screen that goes away ends capture with a reason.
The grabber and the clock are injected so each tick is exact."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from lifelog import spool
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings
from lifelog.capture.screen import Monitor, Shot
from lifelog.errors import CaptureUnavailable
from lifelog.models import WindowInfo

W, H = 320, 200


class Screen:
    """A grabber whose screen changes a small band every grab (a ticker), or fails."""

    def __init__(self) -> None:
        self.n = 0
        self.fail = False

    def monitors(self):
        return [Monitor(1, 0, 0, W, H)]

    def grab(self, monitor):
        if self.fail:
            raise RuntimeError("XGetImage() failed")
        self.n += 1
        px = np.full((H, W, 4), 255, np.uint8)
        px[100:120, 10 : 30 + 8 * (self.n % 35)] = 0  # a line that grows: a small change each tick
        return Shot(bytearray(px.tobytes()), W, H)

    def close(self):
        pass


class Windows:
    def __init__(self) -> None:
        self.broken = False

    def active(self):
        if self.broken:
            raise ConnectionError("display connection lost")
        return WindowInfo("XTerm", "ticker")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.wall = datetime(2026, 11, 24, 10, 0, 0)

    def mono(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.wall

    def advance(self, s: float) -> None:
        self.t += s
        self.wall += timedelta(seconds=s)


def _loop(tmp_path, screen, clock, windows=None, **settings):
    counters = [0] * len(COUNTERS)
    loop = CaptureLoop(
        tmp_path,
        CaptureSettings(**settings),
        counters,
        grabber=screen,
        windows=windows or Windows(),
        clock=clock.mono,
        wallclock=clock.now,
    )
    return loop, counters


def test_a_full_spool_sheds_changes_and_says_so(tmp_path):
    screen, clock = Screen(), Clock()
    loop, counters = _loop(tmp_path, screen, clock, spool_max_frames=5, shed_keyframe_s=10, keyframe_every_s=300)
    for _ in range(6):  # the spool fills up; the sixth change is shed
        loop.tick()
        clock.advance(0.5)
    assert counters[COUNTERS.index("shed")] == 1 and spool.count_pending(tmp_path) == 5
    spool.pending(tmp_path)[1].unlink()  # OCR reads one frame: not room enough yet (hysteresis)
    clock.advance(1.0)
    loop.tick()
    assert counters[COUNTERS.index("shed")] == 2 and spool.count_pending(tmp_path) == 4
    most = 0
    for _ in range(53):  # 26.5 s more at 2 fps, nothing drains the spool
        loop.tick()
        most = max(most, spool.count_pending(tmp_path))
        clock.advance(0.5)
    kept = counters[COUNTERS.index("kept")]
    shed = counters[COUNTERS.index("shed")]
    assert kept + shed == 60
    # five frames, then one whole keyframe per shed_keyframe_s (10 s) while the spool stays full
    assert most <= 5 + 3 and kept == most + 1  # one was read above
    frames = [spool.read_frame(p) for p in spool.pending(tmp_path)]
    during = [f for f in frames if f.shed_from is not None]
    assert during and all(f.keyframe and f.region == (0, 0, W, H) for f in during)
    assert sum(f.shed_frames for f in during) <= shed

    clock.advance(0.5)
    loop.tick()  # still full, and a periodic keyframe was just kept or is not due: shed
    assert counters[COUNTERS.index("shed")] == shed + 1
    shed += 1
    for p in spool.pending(tmp_path):  # OCR catches up
        p.unlink()
    clock.advance(1.0)  # the backlog is recounted once a second
    loop.tick()
    (resumed,) = [spool.read_frame(p) for p in spool.pending(tmp_path)]
    assert resumed.keyframe, "after shedding, the next frame must be whole (partials need their predecessor)"
    assert resumed.shed_from is not None and resumed.shed_frames >= 1
    assert sum(f.shed_frames for f in during) + resumed.shed_frames == shed
    clock.advance(0.5)
    loop.tick()
    latest = spool.read_frame(spool.pending(tmp_path)[-1])
    assert not latest.keyframe and latest.shed_from is None  # back to small changed regions


def test_a_lost_screen_ends_capture_with_the_reason(tmp_path):
    screen, clock = Screen(), Clock()
    windows = Windows()
    loop, counters = _loop(tmp_path, screen, clock, windows, lost_after_s=5)
    loop.tick()
    windows.broken = True  # the window source fails first: frames are still kept
    clock.advance(0.5)
    assert loop.tick() == 1
    screen.fail = True
    for _ in range(10):  # 4.5 s of failing grabs: still hoping
        clock.advance(0.5)
        loop.tick()
    clock.advance(0.5)
    with pytest.raises(CaptureUnavailable, match=r"could not be captured for 5 s \(XGetImage\(\) failed\)"):
        loop.tick()
    assert counters[COUNTERS.index("kept")] == 2


class BlackScreen(Screen):
    """A screen that goes all black from the 3rd grab to the 5th, and again from the 8th."""

    def grab(self, monitor):
        shot = super().grab(monitor)
        if 3 <= self.n <= 5 or self.n >= 8:
            return Shot(bytearray(np.full((H, W, 4), [0, 0, 0, 255], np.uint8).tobytes()), W, H)
        return shot


class ShownWindows(Windows):
    def visible(self):
        from lifelog.models import VisibleWindow

        return [VisibleWindow("foot", "notes", (0, 0, W, H))]


def test_a_black_screen_with_windows_open_is_said_once_each_time(tmp_path, caplog):
    clock = Clock()
    loop, _ = _loop(tmp_path, BlackScreen(), clock, windows=ShownWindows())
    with caplog.at_level("WARNING", logger="lifelog.capture.loop"):
        for _ in range(9):
            loop.tick()
            clock.advance(0.5)
    said = [r.getMessage() for r in caplog.records if "all black" in r.getMessage()]
    assert len(said) == 2 and "1 window(s) are open on it (foot)" in said[0], said
