"""KDE Plasma's windows through KWin's scripting over D-Bus, on a real KWin 5.27 (virtual output,
Xwayland): an X11 xterm and a Wayland Chromium, with their rectangles, focus and stacking."""

from __future__ import annotations

import pytest

from lifelog.capture.desktop import describe, open_window_source
from lifelog.capture.kwin import KWinWindowSource
from lifelog.capture.wayland import Session, session
from lifelog.errors import CaptureUnavailable
from lifelog.models import WindowInfo
from tests.support.kwin import HeadlessKWin
from tests.support.wait import wait_for


@pytest.fixture(scope="module")
def kwin():
    desktop = HeadlessKWin(1280, 720)
    desktop.show_text("LEFT PANE NOTES\n", title="left notes", app="lefty")
    desktop.place("left notes", 0, 0, 640, 720)
    desktop.show_text("RIGHT PANE TODO\n", title="right todo", app="righty")  # opened last: focused
    desktop.place("right todo", 640, 0, 640, 720)
    yield desktop
    desktop.stop()


@pytest.fixture
def source(kwin):
    windows = open_window_source(kwin.env)
    assert isinstance(windows, KWinWindowSource)
    yield windows
    windows.close()


def test_kwin_windows_with_their_rectangles_and_focus(kwin, source):
    assert session(kwin.env) == Session("wayland", "kwin")
    assert source.active() == WindowInfo("righty", "right todo")
    shown = {w.title: w for w in source.visible()}
    assert set(shown) == {"left notes", "right todo"}
    (l0, t0, r0, b0), (l1, t1, r1, b1) = shown["left notes"].box, shown["right todo"].box
    assert (l0, t0, l1, t1) == (0, 0, 640, 0)  # where they were put; xterm rounds its size down to whole cells
    assert 600 < r0 <= 640 and 1240 < r1 <= 1280 and 680 < b0 <= 720 and 680 < b1 <= 720
    assert shown["left notes"].app == "lefty"
    stack = source.stack()
    assert [w.title for w in stack] == ["right todo", "left notes"]  # topmost first
    assert stack[0].focused and not stack[1].focused and stack[0].instance == "xterm" and stack[0].pid > 0
    assert "windows: KWin scripting (D-Bus)" in describe(kwin.env)


def test_a_minimized_window_is_not_shown_and_a_wayland_client_is(kwin, source):
    kwin.show_page("<title>kwin page</title><h1>HELLO</h1>", title="kwin page", app="kwinpage")
    wait_for(lambda: source.active().app == "kwinpage", timeout=10, what="the page's window to take the focus")
    page = source.stack()[0]
    assert page.app == "kwinpage" and page.title.startswith("kwin page") and page.focused
    assert page.box[2] - page.box[0] <= 600  # the frame, without the shadows Chromium draws around it
    kwin.script(
        "const ws = workspace.windowList ? workspace.windowList() : workspace.clientList();\n"
        "for (const w of ws) if (w.resourceClass === 'kwinpage') w.minimized = true;\n"
    )
    wait_for(lambda: "kwinpage" not in [w.app for w in source.stack()], timeout=10, what="the page to be minimized")
    assert [w.title for w in source.visible()] == ["right todo", "left notes"]


def test_no_kwin_on_the_bus_means_no_window_source(kwin):
    env = {**kwin.env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={kwin.runtime}/no-bus"}
    with pytest.raises(CaptureUnavailable, match="session bus"):
        KWinWindowSource(env)
    assert not isinstance(open_window_source(env), KWinWindowSource)
