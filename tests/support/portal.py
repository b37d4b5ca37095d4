"""The desktop portal on a headless sway, for tests: a private session bus, PipeWire, WirePlumber,
xdg-desktop-portal (the real frontend) and a ScreenCast backend, all run as the caller (the
frontend refuses a caller it cannot inspect through /proc, so it must be the same user as
lifelog); sway and its clients stay with the test user.

    portal = PortalDesktop(sway, backend="test")   # portal_backend.py: real PipeWire video of sway
    portal = PortalDesktop(sway, backend="wlr")    # xdg-desktop-portal-wlr, chooser_type=none
    portal = PortalDesktop(kwin)                   # on a HeadlessKWin: its screen through ScreenShot2
    portal.env                                     # sway.env plus the bus and XDG_CURRENT_DESKTOP
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from jeepney import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

from tests.support.wait import wait_for
from tests.support.wayland import HeadlessSway

if TYPE_CHECKING:
    from tests.support.kwin import HeadlessKWin

PROGRAMS = ("dbus-daemon", "pipewire", "wireplumber", "gst-launch-1.0", "pw-dump")
FRONTEND = "/usr/libexec/xdg-desktop-portal"
WLR = "/usr/libexec/xdg-desktop-portal-wlr"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={runtime}/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{runtime}/services</servicedir>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow user="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
  </policy>
</busconfig>
"""
# The document portal needs FUSE (absent in containers) and holds the frontend's start for ~16 s.
NO_DOCUMENTS = "[D-BUS Service]\nName=org.freedesktop.portal.Documents\nExec=/bin/false\n"
TEST_PORTAL = "[portal]\nDBusName=org.freedesktop.impl.portal.desktop.lifelogtest\nInterfaces=org.freedesktop.impl.portal.ScreenCast;\nUseIn=lifelogtest;\n"


def needs_portal() -> None:
    """Skip unless the portal, PipeWire and GStreamer's PipeWire plugin are installed."""
    missing = [p for p in PROGRAMS if not shutil.which(p)] + [p for p in (FRONTEND, WLR) if not Path(p).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (bash scripts/install.sh --test installs them)")


class PortalDesktop:
    def __init__(
        self, sway: HeadlessSway | HeadlessKWin, backend: str = "test", answer: str = "grant", pipewire: bool = True
    ) -> None:
        needs_portal()
        self.sway = sway
        rt = sway.runtime
        self.state = rt / "portal"
        (self.state / "portals").mkdir(parents=True)
        (rt / "services").mkdir(exist_ok=True)
        (rt / "services" / "org.freedesktop.portal.Documents.service").write_text(NO_DOCUMENTS)
        (rt / "bus.conf").write_text(BUS_CONFIG.format(runtime=rt))
        (self.state / "portals" / "lifelogtest.portal").write_text(TEST_PORTAL)
        wlr_config = rt / "config" / "xdg-desktop-portal-wlr" / "config"
        wlr_config.parent.mkdir(parents=True)
        wlr_config.write_text("[screencast]\nchooser_type=none\noutput_name=HEADLESS-1\n")
        self.answer(answer)
        desktop = "sway" if backend == "wlr" else "lifelogtest"
        kwin = not isinstance(sway, HeadlessSway)
        if kwin:  # KDE for lifelog (KWin's windows); the frontend finds no KDE backend and takes the test one
            desktop = "KDE:lifelogtest"
        portals = {"test": self.state / "portals", "wlr": Path("/usr/share/xdg-desktop-portal/portals")}.get(backend)
        (self.state / "none").mkdir()
        self.env = {
            **sway.env,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={rt}/bus",
            "XDG_CURRENT_DESKTOP": desktop,
        }
        stack = {
            **{k: v for k, v in self.env.items() if k.startswith(("XDG_", "WAYLAND", "DBUS", "PATH"))},
            "HOME": str(rt),
            "XDG_CONFIG_HOME": str(rt / "config"),
            "XDG_DATA_HOME": str(rt / "data"),
            "XDG_DESKTOP_PORTAL_DIR": str(portals or self.state / "none"),  # "none": a frontend without backends
        }
        if not kwin:  # KWin runs on its own bus, already there
            self.bus = sway._start(
                ["dbus-daemon", "--nofork", "--config-file", str(rt / "bus.conf")], stack, as_user=False
            )
            wait_for(lambda: (rt / "bus").exists(), timeout=20, what="the session bus", process=self.bus)
        if pipewire:
            pw = sway._start(["pipewire"], stack, as_user=False)
            wait_for(lambda: (rt / "pipewire-0").exists(), timeout=20, what="PipeWire", process=pw)
            sway._start(["wireplumber"], stack, as_user=False)
        if backend == "test":
            argv = [
                sys.executable,
                "-m",
                "tests.support.portal_backend",
                self.env["DBUS_SESSION_BUS_ADDRESS"],
                str(self.state),
            ]
            screen = {"LIFELOG_TEST_SCREEN": "kwin" if kwin else "grim"}
            sway._start(argv, {**stack, **screen, "PYTHONPATH": str(Path(__file__).parents[2])}, as_user=False)
        elif backend == "wlr":
            sway._start([WLR, "-l", "DEBUG"], stack, as_user=False)
        if backend != "none":  # the backend owns its name before the frontend looks for it
            name = "org.freedesktop.impl.portal.desktop." + ("lifelogtest" if backend == "test" else "wlr")
            wait_for(lambda: self._owned(name), timeout=30, what=f"the {backend} portal backend")
        self.frontend = sway._start([FRONTEND, "--verbose"], stack, as_user=False)

    def _owned(self, name: str) -> bool:
        conn = open_dbus_connection(self.env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            return bool(Proxy(message_bus, conn).NameHasOwner(name)[0])
        finally:
            conn.close()

    def answer(self, what: str) -> None:
        """What the person says in the next dialog: ``grant``, ``deny`` or ``none`` (it stays open)."""
        (self.state / "answer").write_text(what)

    def dialogs(self) -> int:
        """How many times a dialog was shown (the stand-in backend's count)."""
        path = self.state / "dialogs"
        return int(path.read_text()) if path.exists() else 0
