"""A real X screen for tests: a private Xvfb, and xterm windows showing known text."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


class XScreen:
    def __init__(self, width: int = 1920, height: int = 1080) -> None:
        if not shutil.which("Xvfb"):
            raise RuntimeError("Xvfb is not installed: run `bash scripts/test.sh`, which installs it.")
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
        """An xterm (black on white, DejaVu Sans Mono) printing ``path`` and staying open."""
        proc = subprocess.Popen(
            ["xterm", "-geometry", geometry, "-fa", "DejaVu Sans Mono", "-fs", "13", "-T", title,
             "-xrm", "XTerm*allowTitleOps: false", "-e", "sh", "-c", f"cat '{path}'; exec sleep 100000"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._windows.append(proc)
        self._focus(title)
        return proc

    def _focus(self, title: str) -> None:
        """Give the window input focus (there is no window manager to do it); retry until it
        is mapped and X accepts the focus."""
        for _ in range(100):
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], env=self.env,
                                   capture_output=True, text=True).stdout.split()
            if found and subprocess.run(["xdotool", "windowfocus", "--sync", found[0]], env=self.env,
                                        capture_output=True, timeout=5).returncode == 0:
                time.sleep(0.5)  # let the text draw
                return
            time.sleep(0.1)
        raise RuntimeError(f"xterm window {title!r} did not appear")

    def close_windows(self) -> None:
        for p in self._windows:
            p.terminate()
            p.wait(5)
        self._windows.clear()

    def stop(self) -> None:
        self.close_windows()
        self.proc.terminate()
        self.proc.wait(5)
