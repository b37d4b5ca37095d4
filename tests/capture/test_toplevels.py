"""Windows through wlr-foreign-toplevel-management on a real headless sway 1.7 (the protocol river,
labwc and wayfire also offer), read by lifelog's own Wayland wire client, as on a wlroots
compositor without an IPC of its own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lifelog.capture.desktop import describe, open_window_source
from lifelog.capture.screen import Monitor, Shot
from lifelog.capture.screen_gate import ScreenGate
from lifelog.capture.toplevels import EVERYWHERE, ForeignToplevelWindowSource, Toplevel
from lifelog.capture.wayland import SwayIpc
from lifelog.errors import CaptureUnavailable
from lifelog.models import VisibleWindow, WindowInfo
from tests.support.gnome import HeadlessGnome
from tests.support.wait import wait_for
from tests.support.wayland import HeadlessSway

RUN_COMMAND = 0


@pytest.fixture(scope="module")
def sway():
    desktop = HeadlessSway(1280, 720)
    yield desktop
    desktop.stop()


def _river(sway: HeadlessSway) -> dict:
    """sway's session as a wlroots desktop without sway's IPC variables."""
    env = {k: v for k, v in sway.env.items() if k not in ("SWAYSOCK", "I3SOCK")}
    return {**env, "XDG_CURRENT_DESKTOP": "river"}


def _kept(source: ForeignToplevelWindowSource, excluded_app: str, spool: Path) -> bool:
    """Whether the screen gate keeps a grab while ``excluded_app`` is excluded."""
    gate = ScreenGate((excluded_app,), (), source, spool, lambda name: None)
    shot = Shot(bytearray(b"\xff" * 64 * 48 * 4), 64, 48)
    seen = gate.after(gate.before())
    assert seen is not None
    return not gate.excluded(datetime.now(), Monitor(1, 0, 0, 64, 48), shot, seen)


def test_toplevels_name_each_window_and_follow_the_focus(sway, tmp_path):
    env = _river(sway)
    sway.show_text("LEFT\n", title="left notes", app_id="lefty")
    source = open_window_source(env)
    try:
        assert isinstance(source, ForeignToplevelWindowSource)
        assert source.active() == WindowInfo("lefty", "left notes")
        right = sway.show_text("RIGHT\n", title="right todo", app_id="righty")
        wait_for(lambda: source.active() == WindowInfo("righty", "right todo"), 10, "the new window's focus")
        assert source.windows() == [Toplevel("left notes", "lefty", False), Toplevel("right todo", "righty", True)]
        (top,) = source.stack()  # no geometry in the protocol: the focused window, everywhere
        assert (top.app, top.title, top.focused) == ("righty", "right todo", True)
        assert source.visible() == [VisibleWindow("righty", "right todo", EVERYWHERE)]
        assert _kept(source, "righty", tmp_path) is False and _kept(source, "lefty", tmp_path) is True

        ipc = SwayIpc(sway.swaysock)
        ipc.call(RUN_COMMAND, b"[app_id=lefty] focus")
        ipc.close()
        wait_for(lambda: source.active() == WindowInfo("lefty", "left notes"), 10, "the focus back on the left")
        assert _kept(source, "righty", tmp_path) is True

        right.terminate()
        right.wait(timeout=10)
        wait_for(lambda: [t.app_id for t in source.windows()] == ["lefty"], 10, "the closed window to go")
        for _ in range(1000):  # one round trip a query; the compositor reuses the callbacks' ids
            source.active()
        assert source._next_id < 10
    finally:
        source.close()
    assert "wlr-foreign-toplevel" in describe(env)


def test_no_compositor_or_no_protocol_is_one_clear_error(tmp_path):
    with pytest.raises(CaptureUnavailable, match="Cannot read the windows from the Wayland compositor"):
        ForeignToplevelWindowSource({"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wayland-9"})
    gnome = HeadlessGnome(640, 480, extension=False)  # mutter offers no wlroots protocols
    try:
        with pytest.raises(CaptureUnavailable, match="offers no zwlr_foreign_toplevel_manager_v1"):
            ForeignToplevelWindowSource(gnome.env)
    finally:
        gnome.stop()
