"""Visible windows on a real X screen: stacking and client rectangles, without a window manager
(the root's children) and under one (EWMH ``_NET_CLIENT_LIST_STACKING``); carried with each
spooled frame in the monitor's coordinates."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from lifelog import spool
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings, on_monitor
from lifelog.capture.screen import Monitor
from lifelog.capture.window import X11WindowSource
from lifelog.models import VisibleWindow
from tests.support.xscreen import XScreen

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")


def xterm(screen: XScreen, tmp_path, title: str, geometry: str) -> None:
    note = tmp_path / f"{title}.txt"
    note.write_text(f"this is {title}\n")
    screen.show_text(note, geometry=geometry, title=title)


def raise_window(screen: XScreen, title: str) -> None:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title], env=screen.env, capture_output=True, text=True
    ).stdout.split()
    subprocess.run(["xdotool", "windowraise", found[0]], env=screen.env, check=True, timeout=10)
    time.sleep(0.3)


def shown(source: X11WindowSource) -> list[tuple[str, str]]:
    return [(w.app, w.title) for w in source.visible() if w.title in ("left pane", "right pane")]


def test_without_a_window_manager_windows_come_topmost_first_with_their_rectangles(screen, tmp_path):
    xterm(screen, tmp_path, "left pane", "60x20+10+20")
    xterm(screen, tmp_path, "right pane", "60x20+300+60")  # overlaps the left one, in front
    source = X11WindowSource(screen.display)
    try:
        assert shown(source) == [("XTerm", "right pane"), ("XTerm", "left pane")]
        boxes = {w.title: w.box for w in source.visible()}
        assert abs(boxes["left pane"][0] - 10) <= 2 and abs(boxes["left pane"][1] - 20) <= 2
        assert boxes["right pane"][0] < boxes["left pane"][2], "they overlap"
        raise_window(screen, "left pane")
        assert shown(source) == [("XTerm", "left pane"), ("XTerm", "right pane")]
    finally:
        source.close()


@pytest.mark.skipif(shutil.which("openbox") is None, reason="openbox is not installed")
def test_under_a_window_manager_the_stacking_comes_from_ewmh(tmp_path):
    own = XScreen(1280, 720)
    wm = subprocess.Popen(
        ["openbox", "--sm-disable"], env=own.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        source = X11WindowSource(own.display)
        for _ in range(100):  # until openbox has taken over the screen
            if source._root.get_full_property(source._atoms["_NET_CLIENT_LIST_STACKING"], 0) is not None:
                break
            time.sleep(0.1)
        xterm(own, tmp_path, "left pane", "60x20+10+20")
        xterm(own, tmp_path, "right pane", "60x20+300+60")
        raise_window(own, "right pane")
        assert shown(source) == [("XTerm", "right pane"), ("XTerm", "left pane")]
        framed = {w.title: w.box for w in source.visible()}
        assert framed["left pane"][1] > 20, "the client area, below the frame's title bar"
        raise_window(own, "left pane")
        assert shown(source) == [("XTerm", "left pane"), ("XTerm", "right pane")]
        source.close()
    finally:
        own.close_windows()
        wm.terminate()
        wm.wait(10)
        own.stop()


def test_spooled_frames_carry_the_windows_on_their_monitor(screen, tmp_path):
    xterm(screen, tmp_path, "left pane", "60x20+10+20")
    counters = [0] * len(COUNTERS)
    loop = CaptureLoop(tmp_path / "spool", CaptureSettings(), counters)
    (tmp_path / "spool").mkdir()
    try:
        assert loop.tick() == 1
    finally:
        loop.close()
    frame = spool.read_frame(spool.pending(tmp_path / "spool")[0])
    assert ("XTerm", "left pane") in [(w.app, w.title) for w in frame.windows]


def test_windows_are_moved_into_monitor_coordinates_and_others_left_out():
    second = Monitor(2, 1920, 0, 1280, 1024)
    windows = [
        VisibleWindow("XTerm", "a", (2000, 100, 2600, 500)),
        VisibleWindow("Chromium", "b", (0, 0, 1920, 1080)),
        VisibleWindow("Gimp", "c", (1800, 50, 2100, 300)),
    ]
    assert on_monitor(windows, second) == [
        VisibleWindow("XTerm", "a", (80, 100, 680, 500)),
        VisibleWindow("Gimp", "c", (-120, 50, 180, 300)),
    ]
