"""Cost per frame of exclusions: matching the window stack (read twice per grab) and blanking
the excluded windows in a 1920x1080 BGRA shot, with ten windows of which three are excluded
(an app with a dialog and a private-browsing window). With ``--x11`` it also times reading the
real stack of ten xterms on a private Xvfb (what capture does twice per grab).

    .venv/bin/python bench/exclusion_cost.py [--x11] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import common
import numpy as np

from lifelog.capture.exclude import Matcher, blank, on_screen, view
from lifelog.capture.window import TopWindow
from lifelog.config import Settings

W, H = 1920, 1080


def stack() -> list[TopWindow]:
    """Ten windows, topmost first: a menu, a dialog of the vault, the vault, a private window, six others."""
    out = [
        TopWindow(10, (300, 300, 500, 500), (300, 300, 500, 500), app="XTerm", pid=9, override_redirect=True),
        TopWindow(9, (220, 220, 620, 420), (222, 240, 618, 418), transient_for=8, title="Unlock"),
        TopWindow(8, (100, 100, 900, 700), (102, 122, 898, 698), app="KeePassXC", title="Passwords", pid=5),
        TopWindow(
            7,
            (960, 0, 1920, 1080),
            (962, 22, 1918, 1078),
            app="firefox",
            pid=6,
            title="Bank - Mozilla Firefox Private Browsing",
        ),
    ]
    for i in range(6):
        x, y = 150 * i, 60 * i
        out.append(
            TopWindow(
                i + 1,
                (x, y, x + 900, y + 600),
                (x + 2, y + 22, x + 898, y + 598),
                app="XTerm",
                title=f"shell {i}",
                pid=100 + i,
            )
        )
    return out


def time_matching_and_blanking(repeat: int) -> tuple[list[float], list[float], float]:
    matcher = Matcher(("keepassxc", "1password", "signal"), Settings().exclude_titles)
    frame = np.random.default_rng(1).integers(0, 255, (H, W, 4), np.uint8).tobytes()
    before, after = stack(), stack()
    matching, total = [], []
    for _ in range(repeat):
        raw = bytearray(frame)  # a fresh grab (the copy is not timed)
        t = time.perf_counter()
        seen = view([before, after], matcher)
        m = time.perf_counter()
        share = blank(raw, W, H, on_screen(seen.blank, 0, 0, W, H))
        total.append(time.perf_counter() - t)
        matching.append(m - t)
    assert 0.5 < share < 0.95 and len(seen.windows) == 7
    return matching, total, share


def time_x11_stack(repeat: int) -> tuple[list[float], int]:
    from lifelog.capture.window import X11WindowSource
    from tests.support.xscreen import XScreen

    screen = XScreen(W, H)
    procs = []
    try:
        for i in range(10):
            procs.append(
                subprocess.Popen(
                    ["xterm", "-geometry", f"80x24+{100 * i}+{50 * i}", "-T", f"shell {i}"],
                    env=screen.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        source = X11WindowSource(screen.display)
        deadline = time.monotonic() + 60
        while len(source.stack()) < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
        n = len(source.stack())
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            source.stack()
            times.append(time.perf_counter() - t)
        source.close()
        return times, n
    finally:
        for p in procs:
            p.terminate()
        screen.stop()


def describe(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"{name}: median {statistics.median(ms):.3f} ms, p90 {ms[int(len(ms) * 0.9)]:.3f} ms over {len(ms)} runs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--x11", action="store_true", help="also time reading a real stack of ten xterms on Xvfb")
    args = common.parse(ap, quick={"repeat": 20})
    matching, total, share = time_matching_and_blanking(args.repeat)
    print(describe("matching two stacks of 10 windows", matching))
    print(describe(f"matching + blanking 1920x1080 ({share:.0%} of it excluded)", total))
    if args.x11:
        times, n = time_x11_stack(min(args.repeat, 500))
        print(describe(f"reading the X11 stack of {n} windows (capture reads it twice a grab)", times))


if __name__ == "__main__":
    main()
