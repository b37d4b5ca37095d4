"""`lifelog record` on a real Wayland desktop (headless sway): the terminals' text comes back
with each window's app and title, and an excluded app's window never reaches disk, as on X11."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lifelog.capture.wayland import SwayWindowSource
from lifelog.paths import Paths
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.recording import assert_black, wait_for_frames
from tests.support.wayland import HeadlessSway

NOTES = "Quarterly planning with Orinoco team\nBudget review moves to Thursday\n"
SECRET = "Vault code walrus pineapple quarry\n"


@pytest.fixture
def sway():
    desktop = HeadlessSway(1280, 720)
    yield desktop
    desktop.stop()


def test_a_wayland_desktop_is_recorded_with_its_windows(sway, home):
    env = {**sway.env, "LIFELOG_HOME": str(home), "DISPLAY": ":99"}  # an XWayland DISPLAY is never used
    lifelog("config", "set", "exclude_apps", '["vaultapp"]', env=env)
    sway.show_text(SECRET, title="vault", app_id="vaultapp")
    sway.show_text(NOTES, title="planning notes", app_id="notesterm")  # opened last: focused

    source = SwayWindowSource(sway.swaysock)
    excluded = [w.box for w in source.stack() if w.app == "vaultapp"]
    source.close()
    assert len(excluded) == 1

    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_frames(env, rec, 1)  # a still screen: one frame is kept, the rest are unchanged
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
