"""`lifelog record` on a real Wayland desktop (headless sway): the terminals' text comes back
with each window's app and title, and an excluded app's window never reaches disk, as on X11;
through grim's screencopy and through the desktop portal."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from lifelog.capture.wayland import SwayWindowSource
from lifelog.paths import Paths
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.portal import PortalDesktop
from tests.support.recording import assert_black, wait_for_frames
from tests.support.wait import wait_for
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


def test_the_portal_path_records_the_screen_with_its_windows(sway, home):
    """The desktop portal (real frontend, PipeWire, GStreamer; the stand-in backend streams the
    sway screen) gives the pixels, sway's IPC the windows."""
    portal = PortalDesktop(sway, backend="test")
    env = {**portal.env, "LIFELOG_HOME": str(home), "LIFELOG_SCREEN_CAPTURE": "portal"}
    sway.show_text(NOTES, title="planning notes", app_id="notesterm")
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
    assert (home / "portal-restore-token").exists()


def test_a_refused_portal_is_one_line_and_a_gap(sway, home):
    """Refused in the dialog: `record` says so in one line; the daemon records a gap while it
    waits and its retries never show the dialog again."""
    portal = PortalDesktop(sway, backend="test", answer="deny")
    env = {**portal.env, "LIFELOG_HOME": str(home), "LIFELOG_SCREEN_CAPTURE": "portal", "LIFELOG_AUDIO_SOURCE": "none"}
    done = lifelog("record", "--no-audio", "--duration", "20s", env=env, check=False, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        f"lifelog: error: The screen cast was refused in the desktop's dialog: lifelog records no screen and will "
        f"not ask again. Delete {home / 'portal-denied'} to be asked once more."
    ]
    assert lifelog("daemon", "start", env=env, check=False, timeout=120).returncode == 0
    try:
        status = wait_for(
            lambda: (s := lifelog_json("status", env=env).get("owner") or {}).get("gap") and s,
            timeout=120,
            what="the daemon's gap",
            interval=1,
        )
        assert "refused in the desktop's dialog" in status["gap"]["reason"], status
        time.sleep(12)  # two of the daemon's retries (every 5 s)
    finally:
        lifelog("daemon", "stop", env=env, check=False, timeout=120)
    assert portal.dialogs() == 1
    gaps = lifelog_json("timeline", "--since", "10m", env=env)["gaps"]
    assert gaps, gaps
