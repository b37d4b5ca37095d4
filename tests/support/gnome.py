"""A real GNOME Shell for tests: gnome-shell 43 ``--headless --wayland --no-x11`` on a virtual
monitor, on a private session bus and a private system bus (the Shell asks logind there and
stops at start without any system bus), settings in a key file, run as the caller, with lifelog's
extension installed and enabled and foot terminals showing known text.

A headless start opens the overview (no window has the focus there), so a test-only extension
leaves it once the Shell has started, as a person's first click would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lifelog.capture.gnome import UUID, extension_folder
from tests.support.portal import BUS_CONFIG
from tests.support.wait import wait_for

PROGRAMS = ("gnome-shell", "foot", "dbus-daemon")
LEAVE_OVERVIEW = """\
/* exported init */
const Main = imports.ui.main;

class LeaveOverview {
    enable() {
        if (Main.layoutManager._startingUp)
            this._id = Main.layoutManager.connect('startup-complete', () => Main.overview.hide());
        else
            Main.overview.hide();
    }

    disable() {
        if (this._id)
            Main.layoutManager.disconnect(this._id);
    }
}

function init() {
    return new LeaveOverview();
}
"""


def needs_gnome() -> None:
    missing = [p for p in PROGRAMS if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install gnome-shell foot)")


class HeadlessGnome:
    """``env`` is a GNOME Wayland session's environment for lifelog; ``extension`` False leaves
    lifelog's extension out."""

    def __init__(self, width: int = 1280, height: int = 720, extension: bool = True) -> None:
        needs_gnome()
        self.runtime = rt = Path(tempfile.mkdtemp(prefix="lifelog-gnometest-"))
        rt.chmod(0o700)
        self._procs: list[subprocess.Popen] = []
        self._log = open(rt.parent / f"{rt.name}.log", "wb")  # noqa: SIM115
        (rt / "services").mkdir()
        for bus in ("bus", "system_bus"):
            (rt / f"{bus}.conf").write_text(BUS_CONFIG.format(runtime=rt).replace(f"{rt}/bus<", f"{rt}/{bus}<"))
            self._start(["dbus-daemon", "--nofork", "--config-file", str(rt / f"{bus}.conf")])
        wait_for(lambda: (rt / "bus").exists() and (rt / "system_bus").exists(), timeout=20, what="the buses")
        extensions = rt / "data" / "gnome-shell" / "extensions"
        enabled = ["lifelog-test@lifelog"] + ([UUID] if extension else [])
        if extension:
            version = subprocess.run(["gnome-shell", "--version"], capture_output=True, text=True).stdout.split()[-1]
            shutil.copytree(extension_folder(version), extensions / UUID)
        (extensions / "lifelog-test@lifelog").mkdir(parents=True)
        (extensions / "lifelog-test@lifelog" / "extension.js").write_text(LEAVE_OVERVIEW)
        (extensions / "lifelog-test@lifelog" / "metadata.json").write_text(
            '{"uuid": "lifelog-test@lifelog", "name": "lifelog test", "description": "Leaves the overview.", '
            '"shell-version": ["43", "44"]}\n'
        )
        keyfile = rt / "config" / "glib-2.0" / "settings" / "keyfile"
        keyfile.parent.mkdir(parents=True)
        keyfile.write_text(f"[org/gnome/shell]\nenabled-extensions={enabled!r}\n")
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(rt),
            "XDG_RUNTIME_DIR": str(rt),
            "XDG_CONFIG_HOME": str(rt / "config"),
            "XDG_DATA_HOME": str(rt / "data"),
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={rt}/bus",
            "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={rt}/system_bus",
            "GSETTINGS_BACKEND": "keyfile",
        }
        argv = ["gnome-shell", "--headless", "--wayland", "--no-x11", "--wayland-display=wayland-1"]
        self.shell = self._start([*argv, f"--virtual-monitor={width}x{height}"])
        try:
            wait_for(self._started, timeout=60, what="GNOME Shell", process=self.shell)
        except BaseException:
            self.stop()
            raise
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "I3SOCK")},
            "XDG_RUNTIME_DIR": str(rt),
            "WAYLAND_DISPLAY": "wayland-1",
            "DBUS_SESSION_BUS_ADDRESS": self._env["DBUS_SESSION_BUS_ADDRESS"],
            "XDG_SESSION_TYPE": "wayland",
            "XDG_CURRENT_DESKTOP": "GNOME",
        }

    def _started(self) -> bool:
        self._log.flush()
        return b"GNOME Shell started" in (self.runtime.parent / f"{self.runtime.name}.log").read_bytes()

    def _start(self, argv: list[str]) -> subprocess.Popen:
        env_args = ["env", "-i", *(f"{k}={v}" for k, v in getattr(self, "_env", {}).items())]
        proc = subprocess.Popen([*env_args, *argv], stdout=self._log, stderr=self._log)
        self._procs.append(proc)
        return proc

    def show_text(self, text: str, *, title: str, app_id: str) -> subprocess.Popen:
        """A foot terminal (a Wayland client) titled ``title`` with app id ``app_id`` printing ``text``."""
        path = self.runtime / f"{app_id}.txt"
        path.write_text(text)
        self._env["WAYLAND_DISPLAY"] = "wayland-1"
        return self._start(["foot", "-T", title, "-a", app_id, "sh", "-c", f"cat {path}; exec sleep 100000"])

    def stop(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._log.close()
        shutil.rmtree(self.runtime, ignore_errors=True)
