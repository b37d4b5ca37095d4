"""Wayland sessions: which path a session takes, and the wlroots path on a real headless sway
(grim's screencopy for the pixels, sway's IPC for the windows)."""

from __future__ import annotations

import socket

import pytest

from lifelog.capture.desktop import describe, open_grabber, open_window_source
from lifelog.capture.wayland import ScreencopyGrabber, Session, SwayWindowSource, ppm_to_shot, session
from lifelog.errors import CaptureUnavailable
from lifelog.models import WindowInfo
from tests.support.wayland import HeadlessSway


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"DISPLAY": ":0"}, Session("x11")),
        ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, Session("x11")),
        # a Wayland session exports DISPLAY for XWayland: never taken for X11
        ({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, Session("wayland")),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, Session("wayland")),
        ({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/user/1000/sway-ipc.sock"}, Session("wayland", "sway")),
        ({"XDG_SESSION_TYPE": "x11"}, Session("none")),
        ({}, Session("none")),
    ],
)
def test_the_session_decides_the_path(environ, expected):
    assert session(environ) == expected


def test_a_ppm_becomes_bgra():
    ppm = b"P6\n# made by hand\n2 1\n255\n" + bytes([255, 0, 0, 10, 20, 30])
    shot = ppm_to_shot(ppm)
    assert (shot.width, shot.height) == (2, 1)
    assert bytes(shot.raw) == bytes([0, 0, 255, 255, 30, 20, 10, 255])
    with pytest.raises(CaptureUnavailable, match="cannot read"):
        ppm_to_shot(b"P5\n1 1\n255\n\x00")


def test_no_display_at_all_is_one_line():
    with pytest.raises(CaptureUnavailable, match="neither DISPLAY .X11. nor WAYLAND_DISPLAY"):
        open_grabber({"PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def sway():
    desktop = HeadlessSway(1280, 720)
    desktop.show_text("LEFT PANE NOTES\n", title="left notes", app_id="lefty")
    desktop.show_text("RIGHT PANE TODO\n", title="right todo", app_id="righty")  # opened last: focused
    yield desktop
    desktop.stop()


def test_sway_windows_with_their_rectangles_and_focus(sway):
    source = open_window_source({**sway.env, "DISPLAY": ":99"})  # sway's IPC, not XWayland
    assert isinstance(source, SwayWindowSource)
    try:
        assert source.active() == WindowInfo("righty", "right todo")
        shown = {w.title: w for w in source.visible()}
        assert set(shown) == {"left notes", "right todo"}
        (l0, t0, r0, b0), (l1, t1, r1, b1) = shown["left notes"].box, shown["right todo"].box
        assert r0 <= l1 < r1 <= 1280 and 0 <= l0 < r0 and 0 < t0 < b0 <= 720 and (t0, b0) == (t1, b1)  # side by side
        assert shown["left notes"].app == "lefty"
        stack = {w.title: w for w in source.stack()}
        assert stack["right todo"].focused and not stack["left notes"].focused
        assert stack["left notes"].box[1] < stack["left notes"].client_box[1]  # the title bar is above the client
    finally:
        source.close()


def test_screencopy_grabs_the_output(sway):
    grabber = open_grabber({**sway.env, "DISPLAY": ":99"})
    assert isinstance(grabber, ScreencopyGrabber)
    (monitor,) = grabber.monitors()
    assert (monitor.width, monitor.height) == (1280, 720)
    shot = grabber.grab(monitor)
    assert (shot.width, shot.height, len(shot.raw)) == (1280, 720, 1280 * 720 * 4)
    assert len(set(bytes(shot.raw)[::4])) > 2  # terminals and title bars, not one flat colour
    assert "wayland session; capture: grim (wlr-screencopy); windows: sway IPC" in describe(sway.env)


def test_no_grim_is_one_line(sway, tmp_path):
    with pytest.raises(CaptureUnavailable, match="grim is not installed"):
        ScreencopyGrabber({**sway.env, "PATH": str(tmp_path)})


def test_a_compositor_that_went_away_is_no_crash(tmp_path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "sway-ipc.sock"))
    server.listen(1)
    source = SwayWindowSource(str(tmp_path / "sway-ipc.sock"))  # connected, then the compositor is gone
    server.close()
    assert source.stack() == [] and source.active() == WindowInfo() and source.visible() == []
    source.close()
