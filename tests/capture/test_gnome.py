"""GNOME's windows on a real headless gnome-shell 43: no D-Bus interface of the Shell lists them
to lifelog, and lifelog's bundled extension does."""

from __future__ import annotations

import pytest
from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import open_dbus_connection

from lifelog.capture.desktop import describe, open_window_source
from lifelog.capture.gnome import GnomeWindowSource
from lifelog.capture.wayland import Session, session
from lifelog.errors import CaptureUnavailable
from lifelog.models import WindowInfo
from tests.support.gnome import HeadlessGnome
from tests.support.wait import wait_for


@pytest.fixture(scope="module")
def gnome():
    desktop = HeadlessGnome(1280, 720)
    yield desktop
    desktop.stop()


def test_gnome_windows_through_the_extension(gnome):
    assert session(gnome.env) == Session("wayland", "gnome")
    gnome.show_text("LEFT NOTES\n", title="left notes", app_id="lefty")
    source = wait_for(lambda: _source(gnome.env), timeout=30, what="lifelog's extension")
    try:
        wait_for(lambda: source.active().title == "left notes", timeout=30, what="the terminal to take the focus")
        gnome.show_text("RIGHT TODO\n", title="right todo", app_id="righty")
        wait_for(lambda: source.active() == WindowInfo("righty", "right todo"), 30, "the second terminal's focus")
        stack = source.stack()
        assert [w.title for w in stack] == ["right todo", "left notes"]  # topmost first
        for w in stack:
            (l, t, r, b), (cl, ct, cr, cb) = w.box, w.client_box
            assert 0 <= l <= cl < cr <= r <= 1280 and 0 <= t <= ct < cb <= b <= 720 and w.pid > 0
        assert [w.app for w in source.visible()] == ["righty", "lefty"]
    finally:
        source.close()
    assert "windows: lifelog's GNOME Shell extension" in describe(gnome.env)


def _source(env):
    source = open_window_source(env)  # never raises: without the extension, no window source
    return source if isinstance(source, GnomeWindowSource) else None


def test_without_the_extension_the_shell_lists_no_windows():
    desktop = HeadlessGnome(extension=False)
    try:
        with pytest.raises(CaptureUnavailable, match="gnome-extensions enable lifelog-windows@lifelog"):
            GnomeWindowSource(desktop.env)
        conn = open_dbus_connection(desktop.env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            introspect = DBusAddress("/org/gnome/Shell/Introspect", "org.gnome.Shell", "org.gnome.Shell.Introspect")
            refused = conn.send_and_get_reply(new_method_call(introspect, "GetWindows"), timeout=10)
            assert refused.header.message_type == MessageType.error and "not allowed" in refused.body[0]
            shell = DBusAddress("/org/gnome/Shell", "org.gnome.Shell", "org.gnome.Shell")
            assert conn.send_and_get_reply(new_method_call(shell, "Eval", "s", ("1",)), timeout=10).body == (False, "")
        finally:
            conn.close()
    finally:
        desktop.stop()
