"""A real Wayland desktop for tests: a headless sway (wlroots, pixman renderer) and foot
terminals showing known text.

sway refuses to run as root, so under root (CI) sway and its clients run as a test user
(``lifelog-wayland``, created once); lifelog itself runs as the caller and reaches the
compositor's sockets in the private runtime folder, as a user's own process would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lifelog.capture.wayland import GET_TREE, SwayIpc, views
from tests.support.wait import wait_for

TEST_USER = "lifelog-wayland"
PROGRAMS = ("sway", "foot", "grim")
CONFIG = """\
output HEADLESS-1 resolution {width}x{height}
default_border normal 2
font pango:DejaVu Sans 11
"""


def needs_sway() -> None:
    """Skip unless the Wayland test programs are installed (``bash scripts/test.sh`` installs them)."""
    missing = [p for p in PROGRAMS if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install sway foot grim)")


def _test_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


class HeadlessSway:
    """A headless sway with one output of ``width`` × ``height``; ``env`` is a Wayland session's
    environment for lifelog (no ``DISPLAY``); ``show_text`` opens a foot terminal."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        needs_sway()
        self.as_user: list[str] = []
        self.runtime = Path(tempfile.mkdtemp(prefix="lifelog-wayland-"))
        if os.geteuid() == 0:
            user = _test_user()
            os.chown(self.runtime, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", TEST_USER, "--"]
        self.runtime.chmod(0o700)
        config = self.runtime / "sway.config"
        config.write_text(CONFIG.format(width=width, height=height))
        config.chmod(0o644)
        self.width, self.height = width, height
        self._procs: list[subprocess.Popen] = []
        self._log = open(self.runtime.parent / f"{self.runtime.name}.log", "wb")  # noqa: SIM115
        base = {"XDG_RUNTIME_DIR": str(self.runtime), "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1"}
        self._client_env = {**base, "WLR_RENDERER": "pixman", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        self.sway = self._start(["sway", "-c", str(config)])
        wait_for(
            lambda: list(self.runtime.glob("sway-ipc.*.sock")) and (self.runtime / "wayland-1").exists(),
            timeout=30,
            what="sway's sockets",
            process=self.sway,
        )
        self.swaysock = str(next(self.runtime.glob("sway-ipc.*.sock")))
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "I3SOCK")},
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WAYLAND_DISPLAY": "wayland-1",
            "SWAYSOCK": self.swaysock,
            "XDG_SESSION_TYPE": "wayland",
        }

    def _start(self, argv: list[str], env: dict[str, str] | None = None, *, as_user: bool = True) -> subprocess.Popen:
        """``argv`` with the clients' environment (plus ``env``), as the test user or, with ``as_user``
        False, as the caller (as lifelog runs); stopped by ``stop``."""
        env_args = ["env", "-i", *(f"{k}={v}" for k, v in {**self._client_env, **(env or {})}.items())]
        user = self.as_user if as_user else []
        proc = subprocess.Popen([*user, *env_args, *argv], stdout=self._log, stderr=self._log)
        self._procs.append(proc)
        return proc

    def titles(self) -> list[str]:
        ipc = SwayIpc(self.swaysock)
        try:
            tree = ipc.call(GET_TREE)
        finally:
            ipc.close()
        assert isinstance(tree, dict)
        return [str(v.get("name")) for v in views(tree)]

    def show_text(self, text: str, *, title: str, app_id: str, font_size: int = 14) -> subprocess.Popen:
        """A foot terminal titled ``title`` (app id ``app_id``) printing ``text`` and staying open;
        returns once sway shows it."""
        path = self.runtime / f"{app_id}.txt"
        path.write_text(text)
        path.chmod(0o644)
        self._client_env["WAYLAND_DISPLAY"] = "wayland-1"
        proc = self._start(
            [
                "foot",
                "-T",
                title,
                "-a",
                app_id,
                "-f",
                f"DejaVu Sans Mono:size={font_size}",
                "sh",
                "-c",
                f"cat {path}; exec sleep 100000",
            ]  # fmt: skip
        )
        wait_for(lambda: title in self.titles(), timeout=30, what=f"the terminal {title!r}", process=proc)
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
