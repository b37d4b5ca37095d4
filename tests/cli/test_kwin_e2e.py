"""`lifelog record` on a real KDE Plasma compositor (KWin 5.27, virtual output): the pixels through
the desktop portal (the real frontend, PipeWire and GStreamer; the stand-in backend streams KWin's
screen), the windows through KWin's scripting: each line comes back with its window, and an excluded
app's window never reaches disk, as on X11 and sway."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lifelog.capture.kwin import KWinWindowSource
from lifelog.paths import Paths
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.kwin import HeadlessKWin
from tests.support.portal import PortalDesktop
from tests.support.recording import assert_black, wait_for_frames

NOTES = "Quarterly planning with Orinoco team\nBudget review moves to Thursday\n"
SECRET = "Vault code walrus pineapple quarry\n"


@pytest.fixture
def kwin():
    desktop = HeadlessKWin(1280, 720)
    yield desktop
    desktop.stop()


def test_a_kde_desktop_is_recorded_with_its_windows(kwin, home):
    portal = PortalDesktop(kwin, backend="test")
    env = {**portal.env, "LIFELOG_HOME": str(home)}
    lifelog("config", "set", "exclude_apps", '["vaultapp"]', env=env)
    kwin.show_text(SECRET, title="vault", app="vaultapp")
    kwin.place("vault", 0, 0, 640, 720)
    kwin.show_text(NOTES, title="planning notes", app="notesterm")  # opened last: focused
    kwin.place("planning notes", 640, 0, 640, 720)

    source = KWinWindowSource(env)
    excluded = [w.box for w in source.stack() if w.app == "vaultapp"]
    source.close()
    assert excluded and excluded[0][0] == 0

    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_frames(env, rec, 1)
    finally:
        rec.terminate()
        out, err = rec.communicate(timeout=300)
    assert rec.returncode == 0, err

    hits = lifelog_json("search", "Orinoco", env=env)
    assert hits and hits[0]["app"] == "notesterm" and hits[0]["window"] == "planning notes", hits
    assert "Budget review moves to Thursday" in lifelog("context", "--since", "10m", env=env).stdout
    assert lifelog_json("search", "walrus", env=env) == []
    files = [p for p in home.rglob("*") if p.is_file()]
    assert not [p for p in files if b"walrus" in p.read_bytes().lower()]
    assert_black(Paths(home), excluded)
