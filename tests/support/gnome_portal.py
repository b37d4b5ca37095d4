"""The real GNOME desktop portal on a headless gnome-shell, for tests: PipeWire, WirePlumber,
xdg-desktop-portal-gnome (43) and the xdg-desktop-portal frontend on the Shell's session bus, and a
person's answer to the backend's "Screen Share" dialog typed through mutter's RemoteDesktop API.

    portal = GnomePortal(gnome)     # gnome: a HeadlessGnome with lifelog's extension
    portal.share_screen()           # waits for the dialog, selects the monitor, keeps "Remember", Share

mutter streams its own screen into PipeWire from memory (SHM/memfd buffers), so no GPU is needed.
The dialog is a GTK 4 window: its focus starts on "Remember this selection" (checked); Tab moves
to the monitor's row and selects it, two Shift+Tabs reach "Share", Return presses it. The first key
of a new RemoteDesktop keyboard is lost (the client has no keymap yet), so a Shift goes first.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from jeepney import DBusAddress, MessageType, message_bus, new_method_call
from jeepney.io.blocking import DBusConnection, Proxy, open_dbus_connection

from lifelog.capture.gnome import GnomeWindowSource
from tests.support.gnome import HeadlessGnome
from tests.support.portal import FRONTEND, NO_DOCUMENTS
from tests.support.wait import wait_for

BACKEND = "/usr/libexec/xdg-desktop-portal-gnome"
PROGRAMS = ("pipewire", "wireplumber", "gst-launch-1.0")
DIALOG_APP = "xdg-desktop-portal-gnome"
REMOTE_DESKTOP = "org.gnome.Mutter.RemoteDesktop"
SHIFT, TAB, SHIFT_TAB, RETURN = 0xFFE1, 0xFF09, 0xFE20, 0xFF0D
SHARE_KEYS = (SHIFT, TAB, SHIFT_TAB, SHIFT_TAB, RETURN)


def needs_gnome_portal() -> None:
    missing = [p for p in PROGRAMS if not shutil.which(p)] + [p for p in (FRONTEND, BACKEND) if not Path(p).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (bash scripts/install.sh --test installs them)")


class GnomePortal:
    def __init__(self, gnome: HeadlessGnome) -> None:
        needs_gnome_portal()
        self.gnome = gnome
        rt = gnome.runtime
        (rt / "services" / "org.freedesktop.portal.Documents.service").write_text(NO_DOCUMENTS)
        gnome._env.update(WAYLAND_DISPLAY="wayland-1", XDG_CURRENT_DESKTOP="GNOME", XDG_SESSION_TYPE="wayland")
        pw = gnome._start(["pipewire"])
        wait_for(lambda: (rt / "pipewire-0").exists(), timeout=20, what="PipeWire", process=pw)
        gnome._start(["wireplumber"])
        backend = gnome._start([BACKEND, "--verbose"])
        name = "org.freedesktop.impl.portal.desktop.gnome"
        wait_for(lambda: self._owned(name), timeout=30, what="xdg-desktop-portal-gnome", process=backend)
        frontend = gnome._start([FRONTEND, "--verbose"])
        wait_for(lambda: self._owned("org.freedesktop.portal.Desktop"), 30, "xdg-desktop-portal", process=frontend)

    def _owned(self, name: str) -> bool:
        conn = open_dbus_connection(self.gnome.env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            return bool(Proxy(message_bus, conn).NameHasOwner(name)[0])
        finally:
            conn.close()

    def dialog_open(self) -> bool:
        """Whether the backend's Screen Share dialog is on screen."""
        source = GnomeWindowSource(self.gnome.env)
        try:
            return any(w.app == DIALOG_APP or w.instance == DIALOG_APP for w in source.stack())
        finally:
            source.close()

    def share_screen(self, timeout: float = 60) -> None:
        """Answer the Screen Share dialog as a person would: this monitor, remembered, Share."""
        source = GnomeWindowSource(self.gnome.env)
        try:
            wait_for(lambda: source.active().app == DIALOG_APP, timeout, "the Screen Share dialog to take the focus")
        finally:
            source.close()
        time.sleep(0.5)  # GTK sets the dialog's initial focus once it is mapped
        conn = open_dbus_connection(self.gnome.env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            session = _call(conn, "/org/gnome/Mutter/RemoteDesktop", REMOTE_DESKTOP, "CreateSession")[0]
            _call(conn, session, f"{REMOTE_DESKTOP}.Session", "Start")
            for key in SHARE_KEYS:
                for pressed in (True, False):
                    _call(conn, session, f"{REMOTE_DESKTOP}.Session", "NotifyKeyboardKeysym", "ub", (key, pressed))
                    time.sleep(0.05)
                time.sleep(0.3)
            _call(conn, session, f"{REMOTE_DESKTOP}.Session", "Stop")
        finally:
            conn.close()
        wait_for(lambda: not self.dialog_open(), timeout=10, what="the Screen Share dialog to close")


def _call(conn: DBusConnection, path: str, interface: str, method: str, signature=None, body=()) -> tuple:
    reply = conn.send_and_get_reply(
        new_method_call(DBusAddress(path, REMOTE_DESKTOP, interface), method, signature, body), timeout=10
    )
    if reply.header.message_type == MessageType.error:
        raise AssertionError(f"mutter's RemoteDesktop {method}: {reply.body}")
    return reply.body
