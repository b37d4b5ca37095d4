"""Screen capture through the desktop portal (org.freedesktop.portal.ScreenCast) on a real headless
sway, with the real xdg-desktop-portal frontend, PipeWire, WirePlumber and GStreamer.

The frames come from the stand-in backend (tests/support/portal_backend.py: real PipeWire video of
the sway screen), because Debian 12's xdg-desktop-portal-wlr 0.7.0 cannot start a cast without
DMA-BUF screencopy (no GPU here); what it does instead is tested as it is.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from lifelog.capture.desktop import describe, open_grabber
from lifelog.capture.portal import DENIED_FILE, TOKEN_FILE, WAIT_SLICE_S, PortalGrabber, ScreenCast
from lifelog.capture.wayland import ScreencopyGrabber
from lifelog.errors import CaptureUnavailable
from tests.support.portal import PortalDesktop
from tests.support.wait import wait_for
from tests.support.wayland import HeadlessSway


@pytest.fixture(scope="module")
def sway():
    desktop = HeadlessSway(1280, 720)
    desktop.show_text("PORTAL NOTES\n" * 3, title="notes", app_id="notes")
    yield desktop
    desktop.stop()


@pytest.fixture(scope="module")
def portal(sway):
    return PortalDesktop(sway, backend="test")


def portal_env(portal: PortalDesktop, home) -> dict:
    return {**portal.env, "LIFELOG_HOME": str(home), "LIFELOG_SCREEN_CAPTURE": "portal"}


def test_the_portal_stream_is_the_screen_and_a_second_start_asks_nothing(sway, portal, tmp_path):
    portal.answer("grant")
    before = portal.dialogs()
    env = portal_env(portal, tmp_path)
    grabber = open_grabber(env)
    assert isinstance(grabber, PortalGrabber)
    try:
        (monitor,) = grabber.monitors()
        assert (monitor.width, monitor.height) == (1280, 720)
        shot = grabber.grab(monitor)
        direct = ScreencopyGrabber(sway.env)
        same = direct.grab(direct.monitors()[0])
        streamed = np.frombuffer(shot.raw, np.uint8).reshape(720, 1280, 4)[..., :3]
        grimmed = np.frombuffer(same.raw, np.uint8).reshape(720, 1280, 4)[..., :3]
        assert (streamed == grimmed).mean() > 0.99  # the same pixels, in the same channel order
        assert len(np.unique(streamed[::8, ::8, 0])) > 2
    finally:
        grabber.close()
    token = tmp_path / TOKEN_FILE
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    first = token.read_text()
    assert portal.dialogs() == before + 1

    again = open_grabber(env)  # the restore token: the frontend hands the grant back, no dialog
    try:
        assert again.grab(again.monitors()[0]).width == 1280
    finally:
        again.close()
    assert portal.dialogs() == before + 1
    assert token.read_text() == first  # xdg-desktop-portal 1.16 hands the same token back while the grant stands
    assert "capture: desktop portal (PipeWire)" in describe(env)


def test_a_refusal_is_one_line_and_never_asked_again(portal, tmp_path):
    portal.answer("deny")
    before = portal.dialogs()
    env = portal_env(portal, tmp_path)
    try:
        with pytest.raises(CaptureUnavailable, match="refused in the desktop's dialog"):
            open_grabber(env)
        assert portal.dialogs() == before + 1
        assert stat.S_IMODE((tmp_path / DENIED_FILE).stat().st_mode) == 0o600
        with pytest.raises(CaptureUnavailable, match=f"Delete .*{DENIED_FILE} to be asked once more"):
            open_grabber(env)  # a daemon's retry: no second dialog
        assert portal.dialogs() == before + 1
    finally:
        portal.answer("grant")


def test_a_stop_while_the_dialog_is_open_is_heeded_at_once(portal, tmp_path):
    portal.answer("none")  # the first start's dialog, left open
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()  # Ctrl-C a second later
    t0 = time.monotonic()
    try:
        with pytest.raises(CaptureUnavailable, match="Stopped while waiting for the desktop portal"):
            open_grabber(portal_env(portal, tmp_path), should_stop=stop.is_set)
    finally:
        portal.answer("grant")
    assert time.monotonic() - t0 < 1.0 + 3 * WAIT_SLICE_S + 2.0
    assert not (tmp_path / DENIED_FILE).exists()  # not a refusal: the next start asks again


def test_a_stream_that_ends_is_a_capture_error_not_a_hang(portal, tmp_path):
    grabber = PortalGrabber(portal_env(portal, tmp_path))
    try:
        (monitor,) = grabber.monitors()
        grabber.grab(monitor)
        frames = grabber._frames[monitor.index]
        frames._proc.kill()  # PipeWire or the compositor went away: the stream's reader ends
        with pytest.raises(CaptureUnavailable, match="stream ended"):
            wait_for(lambda: frames._ended, timeout=10, what="the stream's end")
            grabber.grab(monitor)
    finally:
        grabber.close()


def test_no_gstreamer_pipewire_source_is_one_line(portal, tmp_path):
    env = {**portal_env(portal, tmp_path), "PATH": str(tmp_path)}
    with pytest.raises(CaptureUnavailable, match="apt-get install gstreamer1.0-tools gstreamer1.0-pipewire"):
        open_grabber(env)


def test_no_session_bus_is_one_line(sway, tmp_path):
    env = {
        **sway.env,
        "LIFELOG_HOME": str(tmp_path),
        "LIFELOG_SCREEN_CAPTURE": "portal",
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # and no $XDG_RUNTIME_DIR/bus
    with pytest.raises(CaptureUnavailable, match="no session bus"):
        open_grabber(env)


def test_a_desktop_without_a_screencast_backend_is_one_line(tmp_path):
    desktop = HeadlessSway(640, 480)
    try:
        portal = PortalDesktop(desktop, backend="none")
        with pytest.raises(CaptureUnavailable, match="offers no screen cast.*xdg-desktop-portal-gnome, -kde or -wlr"):
            open_grabber(portal_env(portal, tmp_path))
    finally:
        desktop.stop()


def test_xdg_desktop_portal_wlr_as_debian_12_ships_it(tmp_path):
    """xdg-desktop-portal-wlr 0.7.0 with its chooser off (``chooser_type=none``): on a GPU-less
    headless sway it refuses to start ("unable to receive a valid format from wlr_screencopy": it
    wants DMA-BUF), which lifelog reports in one line; where it can start, the stream is the screen."""
    desktop = HeadlessSway(640, 480)
    try:
        portal = PortalDesktop(desktop, backend="wlr")
        try:
            grabber = open_grabber(portal_env(portal, tmp_path))
        except CaptureUnavailable as exc:
            assert "could not start a screen cast (its backend failed" in str(exc)
            assert not os.path.exists(tmp_path / TOKEN_FILE)
            return
        try:
            shot = grabber.grab(grabber.monitors()[0])
            assert (shot.width, shot.height) == (640, 480)
        finally:
            grabber.close()
    finally:
        desktop.stop()


def test_the_session_close_ends_the_cast(portal, tmp_path):
    cast = ScreenCast(portal_env(portal, tmp_path), tmp_path)
    node = cast.streams[0].node
    cast.close()

    def gone() -> bool:
        dump = subprocess.run(["pw-dump"], env=portal.env, capture_output=True, text=True).stdout
        return f'"id": {node},' not in dump

    wait_for(gone, timeout=20, what="the cast's PipeWire node to go")


def test_doctor_checks_the_portal_without_a_dialog(portal, tmp_path):
    portal.answer("grant")
    before = portal.dialogs()
    env = portal_env(portal, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lifelog.cli.app", "doctor", "--json"], env=env, capture_output=True, text=True
    )
    screen = next(c for c in json.loads(done.stdout) if c["name"] == "screen")
    assert screen["status"] == "ok", screen
    assert "ScreenCast v4" in screen["detail"] and "capture: desktop portal (PipeWire)" in screen["detail"]
    assert portal.dialogs() == before
