"""A real X screen for tests: a private Xvfb, and xterm or Chromium windows showing known text."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class ProgramExited(RuntimeError):
    """A window's program exited before its window appeared."""


def _said(proc: subprocess.Popen) -> str:
    """The end of what a window's program wrote to stderr, when it went to a file."""
    err = getattr(proc, "_stderr_file", None)
    if err is None:
        return ""
    err.seek(0)
    return err.read().decode(errors="replace").strip()[-500:]


class XScreen:
    def __init__(self, width: int = 1920, height: int = 1080) -> None:
        if not shutil.which("Xvfb"):
            raise RuntimeError("Xvfb is not installed: run `bash scripts/test.sh`, which installs it.")
        r, w = os.pipe()
        # -noreset: by default an X server resets when its last client leaves, and refuses
        # connections while it does; a test's xterm or xdotool arriving just as another client
        # left then fails with "Can't open display" (4-7 of 240 connections in a loop of four
        # concurrent clients without it, none with it).
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
            pass_fds=(w,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(w)
        with os.fdopen(r) as fh:
            number = fh.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        self.width, self.height = width, height
        self._windows: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def show_text(self, path: Path, *, geometry: str = "160x50+0+0", title: str = "notes") -> subprocess.Popen:
        """An xterm (black on white, DejaVu Sans Mono) printing ``path`` and staying open.

        An xterm that exits before it maps is started again, a second later, up to three times
        (its stderr is in the error if it happens every time). Two in a row once could not open
        a display that was up: the server was resetting (now started with -noreset)."""
        for attempt in (1, 2, 3):
            if attempt > 1:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"Xvfb {self.display} exited (status {self.proc.returncode})")
                time.sleep(1.0)
            proc = subprocess.Popen(
                [
                    "xterm",
                    "-geometry",
                    geometry,
                    "-fa",
                    "DejaVu Sans Mono",
                    "-fs",
                    "13",
                    "-T",
                    title,
                    "-xrm",
                    "XTerm*allowTitleOps: false",
                    "-e",
                    "sh",
                    "-c",
                    f"cat '{path}'; exec sleep 100000",
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=(err := tempfile.TemporaryFile()),
            )
            proc._stderr_file = err
            self._windows.append(proc)
            try:
                self._focus(title, proc)
                return proc
            except ProgramExited:
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")

    def show_page(self, path: Path, *, title: str, profile: Path, flags: tuple[str, ...] = ()) -> subprocess.Popen:
        """Chromium showing the local HTML file ``path`` (whose <title> is ``title``) over the
        whole screen; returns once the page has drawn. ``profile``: a private folder; ``flags``:
        more of Chromium's command-line switches."""
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            raise RuntimeError("Chromium is not installed: run `bash scripts/test.sh`, which installs it.")
        proc = subprocess.Popen(
            [
                browser,
                "--kiosk",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--password-store=basic",
                "--hide-scrollbars",
                "--disable-features=Translate",
                f"--user-data-dir={profile}",
                f"--window-size={self.width},{self.height}",
                "--window-position=0,0",
                *flags,
                path.resolve().as_uri(),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._windows.append(proc)
        self._focus(title, proc, within=120.0)
        time.sleep(2.0)  # fonts load and the page paints after the window maps
        return proc

    def place(self, title: str, x: int, y: int) -> None:
        """Move the window named ``title`` so its top-left corner is at (x, y), with xdotool."""
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title], env=self.env, capture_output=True, text=True
        ).stdout.split()
        if not found:
            raise RuntimeError(f"no window {title!r} to place")
        subprocess.run(
            ["xdotool", "windowmove", "--sync", found[0], str(x), str(y)],
            env=self.env,
            capture_output=True,
            timeout=10,
            check=True,
        )
        time.sleep(0.5)  # let it redraw where it now is

    def _focus(self, title: str, proc: subprocess.Popen, within: float = 60.0) -> None:
        """Give the window input focus (there is no window manager to do it); retry until it
        is mapped and X accepts the focus. The wait is generous: on a loaded machine a first
        xterm or Chromium may spend many seconds building font caches before it maps."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                said = _said(proc)
                raise ProgramExited(
                    f"window {title!r}: its program exited with status {proc.returncode} before it "
                    f"appeared: {said or 'nothing on stderr'}"
                )
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", title], env=self.env, capture_output=True, text=True
            ).stdout.split()
            if (
                found
                and subprocess.run(
                    ["xdotool", "windowfocus", "--sync", found[0]], env=self.env, capture_output=True, timeout=5
                ).returncode
                == 0
            ):
                time.sleep(0.5)  # let the text draw
                return
            time.sleep(0.1)
        raise RuntimeError(f"window {title!r} did not appear within {within:.0f} s")

    def close_windows(self) -> None:
        for p in self._windows:
            p.terminate()
            p.wait(5)
        self._windows.clear()

    def stop(self) -> None:
        self.close_windows()
        self.proc.terminate()
        self.proc.wait(5)
