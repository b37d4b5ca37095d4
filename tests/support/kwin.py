"""A real KDE Plasma compositor for tests: KWin 5.27 on a virtual output (``kwin_wayland
--virtual``) with Xwayland, on a private session bus, run as the caller.

    kwin = HeadlessKWin(1280, 720)
    kwin.show_text("NOTES", title="notes", app="notesterm")   # an xterm (X11, through Xwayland)
    kwin.show_page(page, title="kwin page", app="kwinpage")  # Chromium as a Wayland client
    kwin.script("workspace.activeClient.minimized = true;")  # any KWin script, run once

Two things in the way, both found here: Debian installs ``kwin_wayland`` with a file capability
(``cap_sys_resource=ep``), and a container whose bounding set lacks it cannot even execute it
("Operation not permitted"), so the test runs a copy (a copy carries no capability). And foot
1.13 dies of SIGFPE on KWin's virtual output: the output says its physical size is -1 x -1 mm,
foot's ``output_update_ppi`` only skips 0, turns -1 mm into 0 whole inches and divides by it
(fixed in later foot). So the windows here are xterm through Xwayland and Chromium on Wayland.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from jeepney import DBusAddress, message_bus, new_method_call
from jeepney.io.blocking import Proxy, open_dbus_connection

from tests.support.portal import BUS_CONFIG
from tests.support.wait import wait_for

PROGRAMS = ("kwin_wayland", "Xwayland", "xterm", "dbus-daemon")


def needs_kwin() -> None:
    """Skip unless KWin and its test clients are installed (``bash scripts/install.sh --test``)."""
    missing = [p for p in PROGRAMS if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install kwin-wayland xterm)")


class HeadlessKWin:
    """KWin with one virtual output of ``width`` x ``height``; ``env`` is a Plasma Wayland
    session's environment for lifelog (its bus, no ``DISPLAY``, ``XDG_CURRENT_DESKTOP=KDE``)."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        needs_kwin()
        self.runtime = Path(tempfile.mkdtemp(prefix="lifelog-kwintest-"))
        self.runtime.chmod(0o700)
        self.width, self.height = width, height
        self._procs: list[subprocess.Popen] = []
        self._log = open(self.runtime.parent / f"{self.runtime.name}.log", "wb")  # noqa: SIM115
        (self.runtime / "services").mkdir()
        (self.runtime / "bus.conf").write_text(BUS_CONFIG.format(runtime=self.runtime))
        self.bus_address = f"unix:path={self.runtime}/bus"
        self._client_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "HOME": str(self.runtime),
            "XDG_CONFIG_HOME": str(self.runtime / "config"),
            "XDG_DATA_HOME": str(self.runtime / "data"),
            "XDG_CACHE_HOME": str(self.runtime / "cache"),
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
        }
        bus = self._start(["dbus-daemon", "--nofork", "--config-file", str(self.runtime / "bus.conf")])
        wait_for(lambda: (self.runtime / "bus").exists(), timeout=20, what="the session bus", process=bus)
        binary = self.runtime / "kwin_wayland"
        shutil.copyfile(str(shutil.which("kwin_wayland")), binary)  # without cap_sys_resource=ep
        binary.chmod(0o755)
        display = self.runtime / "display"
        started = self.runtime / "started.sh"  # KWin splits its application arguments at spaces: one script
        started.write_text(
            f'#!/bin/sh\nprintf %s "$DISPLAY" > {display}.part && mv {display}.part {display}\nexec sleep 1000000\n'
        )
        started.chmod(0o755)
        self.kwin = self._start(
            [
                str(binary),
                "--virtual",
                "--xwayland",
                "--width",
                str(width),
                "--height",
                str(height),
                "--socket",
                "wayland-1",
                "--no-lockscreen",
                "--no-global-shortcuts",
                "--no-kactivities",
                str(started),  # started once Wayland and Xwayland are up, with DISPLAY set
            ],  # fmt: skip
            {"KWIN_SCREENSHOT_NO_PERMISSION_CHECKS": "1"},  # tests read the screen through ScreenShot2
        )
        try:
            wait_for(lambda: display.exists() and self._owned("org.kde.KWin"), 60, "KWin", process=self.kwin)
        except BaseException:
            self.stop()
            raise
        self.display = display.read_text()
        self._client_env |= {"WAYLAND_DISPLAY": "wayland-1", "DISPLAY": self.display}
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "I3SOCK")},
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WAYLAND_DISPLAY": "wayland-1",
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "XDG_SESSION_TYPE": "wayland",
            "XDG_CURRENT_DESKTOP": "KDE",
        }

    def _start(self, argv: list[str], env: dict[str, str] | None = None, *, as_user: bool = False) -> subprocess.Popen:
        """``argv`` with the clients' environment (plus ``env``); stopped by ``stop``. (``as_user``:
        the same call as ``HeadlessSway``'s, for ``PortalDesktop``; everything here runs as the caller.)"""
        env_args = ["env", "-i", *(f"{k}={v}" for k, v in {**self._client_env, **(env or {})}.items())]
        proc = subprocess.Popen([*env_args, *argv], stdout=self._log, stderr=self._log)
        self._procs.append(proc)
        return proc

    def _owned(self, name: str) -> bool:
        conn = open_dbus_connection(self.bus_address)
        try:
            return bool(Proxy(message_bus, conn).NameHasOwner(name)[0])
        finally:
            conn.close()

    def script(self, source: str) -> None:
        """Run a KWin script once (``workspace`` is KWin's; it may not call back)."""
        path = self.runtime / f"test-{time.monotonic_ns()}.js"
        path.write_text(source)
        conn = open_dbus_connection(self.bus_address)
        try:
            scripting = DBusAddress("/Scripting", "org.kde.KWin", "org.kde.kwin.Scripting")
            call = new_method_call(scripting, "loadScript", "ss", (str(path), path.stem))
            (script,) = conn.send_and_get_reply(call, timeout=5).body
            assert script >= 0, "KWin refused the test's script"
            run = new_method_call(DBusAddress(f"/{script}", "org.kde.KWin", "org.kde.kwin.Script"), "run")
            conn.send_and_get_reply(run, timeout=5)
            time.sleep(0.2)  # the script runs in KWin's event loop, after run's reply
            conn.send_and_get_reply(new_method_call(scripting, "unloadScript", "s", (path.stem,)), timeout=5)
        finally:
            conn.close()

    def place(self, title: str, x: int, y: int, width: int, height: int) -> None:
        """Move and size the window titled ``title`` (its frame) as a person would."""
        self.script(
            "const ws = workspace.windowList ? workspace.windowList() : workspace.clientList();\n"
            f"for (const w of ws) if (w.caption === {title!r}) "
            f"w.frameGeometry = {{x: {x}, y: {y}, width: {width}, height: {height}}};\n"
        )

    def titles(self) -> list[str]:
        from lifelog.capture.kwin import KWinWindowSource

        source = KWinWindowSource(self.env)
        try:
            return [w["title"] for w in source.windows()]
        finally:
            source.close()

    def show_text(self, text: str, *, title: str, app: str, font_size: int = 14) -> subprocess.Popen:
        """An xterm (an X11 client of Xwayland) titled ``title`` with WM_CLASS ``app`` printing
        ``text`` and staying open; returns once KWin manages it."""
        path = self.runtime / f"{app}.txt"
        path.write_text(text)
        proc = self._start(
            [
                "xterm",
                "-class",
                app,
                "-T",
                title,
                "-fa",
                "DejaVu Sans Mono",
                "-fs",
                str(font_size),
                "-xrm",
                "XTerm*allowTitleOps: false",
                "-e",
                "sh",
                "-c",
                f"cat '{path}'; exec sleep 100000",
            ]  # fmt: skip
        )
        wait_for(lambda: title in self.titles(), timeout=30, what=f"the terminal {title!r}", process=proc)
        return proc

    def show_page(self, html: str, *, title: str, app: str) -> subprocess.Popen:
        """Chromium as a Wayland client (app id ``app``) showing ``html``, whose <title> is ``title``;
        returns once KWin manages it (its caption is the title, then " - Chromium")."""
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            pytest.skip("chromium not installed (bash scripts/install.sh --test installs it)")
        page = self.runtime / f"{app}.html"
        page.write_text(html)
        proc = self._start(
            [
                browser,
                "--ozone-platform=wayland",
                f"--class={app}",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self.runtime / app}",
                "--window-size=600,400",
                page.as_uri(),
            ],  # fmt: skip
            {"DISPLAY": ""},
        )
        wait_for(lambda: any(t.startswith(title) for t in self.titles()), 60, f"the page {title!r}", process=proc)
        return proc

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
