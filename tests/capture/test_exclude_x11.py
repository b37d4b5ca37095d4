"""Exclusions on a real X screen under a window manager (openbox): the stack gives each
window's frame with its title bar, override-redirect popups and the focus; a real grab is
spooled with the excluded frame (title bar included) and its popup black; the audio gate sees
an excluded window take the focus."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifelog import spool
from lifelog.capture.audio import AudioSettings
from lifelog.capture.audio_gate import FocusGate
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings
from lifelog.capture.window import X11WindowSource
from tests.support.xscreen import XScreen

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(not (shutil.which("xdotool") and shutil.which("openbox")), reason="needs xdotool and openbox"),
]

POPUP = Path(__file__).resolve().parent / "xpopup.py"


@pytest.fixture
def managed(tmp_path):
    own = XScreen(1280, 720)
    wm = subprocess.Popen(
        ["openbox", "--sm-disable"], env=own.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    source = X11WindowSource(own.display)
    try:
        for _ in range(100):  # until openbox has taken over the screen
            if source._root.get_full_property(source._atoms["_NET_CLIENT_LIST_STACKING"], 0) is not None:
                break
            time.sleep(0.1)
        yield own, source
    finally:
        source.close()
        own.close_windows()
        wm.terminate()
        wm.wait(10)
        own.stop()


def show(own: XScreen, tmp_path: Path, title: str, geometry: str, *extra: str) -> None:
    page = tmp_path / f"{title}.txt"
    page.write_text(f"this is {title}\n")
    proc = subprocess.Popen(
        ["xterm", *extra, "-geometry", geometry, "-T", title, "-e", "sh", "-c", f"cat '{page}'; exec sleep 100000"],
        env=own.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    own._windows.append(proc)
    own._focus(title, proc)


def popup(own: XScreen, geometry: str, *extra: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(POPUP), "--text", "menu", "--geometry", geometry, *extra],
        env=own.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    own._windows.append(proc)
    assert proc.stdout.readline().startswith("0x")
    time.sleep(0.3)


def test_the_stack_has_frames_popups_and_focus(managed, tmp_path):
    own, source = managed
    show(own, tmp_path, "notes", "40x10+700+300")
    show(own, tmp_path, "vault", "40x10+50+50", "-class", "SecretApp")
    popup(own, "300x50+100+400", "--wm-class", "SecretApp", "--override-redirect")
    stack = source.stack()
    by_title = {w.title: w for w in stack}
    vault = by_title["vault"]
    assert vault.app == "SecretApp" and vault.instance == "xterm" and vault.pid > 0 and vault.focused
    assert vault.box[1] < vault.client_box[1], "the frame's title bar lies above the client area"
    assert not by_title["notes"].focused
    (menu,) = [w for w in stack if w.override_redirect]
    assert stack[0] == menu and menu.app == "SecretApp", "a popup is on top, and named by its class"
    assert [v.title for v in source.visible() if v.title] == ["vault", "notes"]


def test_a_grab_is_spooled_with_the_excluded_frame_and_popup_black(managed, tmp_path, monkeypatch):
    own, source = managed
    monkeypatch.setenv("DISPLAY", own.display)
    show(own, tmp_path, "notes", "40x10+700+300")
    show(own, tmp_path, "vault", "40x10+50+50", "-class", "SecretApp")
    popup(own, "300x50+100+400", "--wm-class", "SecretApp", "--override-redirect")
    boxes = [w.box for w in source.stack() if w.app == "SecretApp"]
    notes = next(w.box for w in source.stack() if w.title == "notes")
    counters = [0] * len(COUNTERS)
    (tmp_path / "spool").mkdir()
    loop = CaptureLoop(tmp_path / "spool", CaptureSettings(exclude_apps=("secretapp",)), counters, windows=source)
    try:
        assert loop.tick() == 1
    finally:
        loop.grabber.close()
    frame = spool.read_frame(spool.pending(tmp_path / "spool")[0])
    for left, top, right, bottom in boxes:
        assert not frame.image[top:bottom, left:right].any()
    assert frame.image[notes[1] : notes[3], notes[0] : notes[2]].any(), "the ordinary window is kept"
    assert frame.window.app == "" and [w.title for w in frame.windows] == ["notes"]


def test_the_audio_gate_sees_an_excluded_window_take_the_focus(managed, tmp_path):
    own, source = managed
    gate = FocusGate(AudioSettings(exclude_apps=("SECRETAPP",)), tmp_path, source)
    show(own, tmp_path, "notes", "40x10+700+300")
    assert not gate.check(force=True)
    show(own, tmp_path, "vault", "40x10+50+50", "-class", "SecretApp")
    assert gate.check(force=True)
    own._focus("notes", own._windows[0])
    assert not gate.check(force=True)
