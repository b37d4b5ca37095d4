"""Screen capture on Wayland (headless sway: grim's wlr-screencopy, sway's IPC; the desktop
portal's PipeWire stream) against X11 (Xvfb: mss, EWMH), on the same machine, in one run.

    .venv/bin/python bench/wayland_capture.py [--grabs 100] [--rounds 3] [--loop-s 30]

The capture loop itself (``CaptureLoop`` at 2 fps, the change detector and spool included) runs
``--loop-s`` seconds on each path while a terminal prints the time every 0.2 s, so every tick
sees a change: achieved fps (frames kept per second) and CPU per kept frame, of this process and
its children (grim; the portal's gst-launch-1.0, measured before it ends). The portal's frames
come from the tests' stand-in backend (xdg-desktop-portal-wlr 0.7.0 starts no cast without a
GPU); its own CPU, which a compositor spends in its place, is given apart.

Both desktops are 1280×720 with two terminals of text. Per grab: wall and CPU (this process, and
grim's as a child) of ``desktop.open_grabber()``'s grab of the monitor, and of one window-source
query (``visible()``). Then the daemon records each desktop in turn and, ``--rounds`` times, a
terminal with a new word opens: the time until ``lifelog search WORD`` finds it (capture at
2 fps, OCR, the store). Needs sway, foot, grim, Xvfb and xterm (``bash scripts/test.sh``
installs them); the Wayland side runs as a test user under root, as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common

from lifelog.capture.desktop import open_grabber, open_window_source
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings
from tests.support.portal import PortalDesktop
from tests.support.wayland import HeadlessSway
from tests.support.xscreen import XScreen

WIDTH, HEIGHT = 1280, 720


def per_grab(env: dict, grabs: int) -> dict:
    grabber, windows = open_grabber(env), open_window_source(env)
    (monitor, *_) = grabber.monitors()
    grabber.grab(monitor)  # warm
    wall, cpu, child = time.perf_counter(), common.cpu_seconds() or 0.0, common.children_cpu_seconds()
    for _ in range(grabs):
        grabber.grab(monitor)
    grab = {
        "wall_ms": (time.perf_counter() - wall) / grabs * 1e3,
        "cpu_ms": ((common.cpu_seconds() or 0.0) - cpu + common.children_cpu_seconds() - child) / grabs * 1e3,
    }
    wall = time.perf_counter()
    for _ in range(grabs):
        shown = windows.visible()
    grab["windows_ms"] = (time.perf_counter() - wall) / grabs * 1e3
    grab["windows"] = len(shown)
    grabber.close()
    return grab


def descendants_cpu() -> dict[int, float]:
    """CPU seconds of every living descendant of this process, by pid."""
    import psutil

    out = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            out[child.pid] = times.user + times.system
        except psutil.Error:
            continue
    return out


def backend_cpu() -> float:
    """CPU seconds of the portal's stand-in backend and its stream (the compositor's share)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if "portal_backend" in line or "pipewiresink" in line:
            try:
                total += sum(proc.cpu_times()[:2])
            except psutil.Error:
                continue
    return total


def loop_run(env: dict, seconds: float, fps: float = 2.0) -> dict:
    """The capture loop at ``fps`` for ``seconds`` on a screen that changes all the time."""
    spool = Path(tempfile.mkdtemp(prefix="lifelog-bench-spool-"))
    settings = CaptureSettings(fps=fps, spool_max_frames=10**6)
    counters = [0] * len(COUNTERS)
    loop = CaptureLoop(spool, settings, counters, grabber=open_grabber(env, fps), windows=open_window_source(env))
    time.sleep(1.0)
    stop = threading.Event()
    kids, own, side = descendants_cpu(), common.cpu_seconds() or 0.0, backend_cpu()
    reaped, t0 = common.children_cpu_seconds(), time.monotonic()
    loop.run(stop, deadline=time.monotonic() + seconds)
    wall = time.monotonic() - t0
    after = descendants_cpu()
    cpu = (common.cpu_seconds() or 0.0) - own + common.children_cpu_seconds() - reaped
    cpu += sum(v - kids.get(pid, 0.0) for pid, v in after.items())
    side = backend_cpu() - side
    loop.close()
    kept = counters[COUNTERS.index("kept")]
    return {
        "fps": kept / wall,
        "cpu_ms": cpu / max(kept, 1) * 1e3,
        "cpu_pct": cpu / wall * 100,
        "side_pct": side / wall * 100,
    }


def lifelog(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lifelog.cli.app", *args], env=env, capture_output=True, text=True)


def to_searchable(env: dict, show, rounds: int) -> list[float]:
    """Seconds from a new terminal with a new word to ``lifelog search`` finding it, per round."""
    env = {**env, "LIFELOG_HOME": tempfile.mkdtemp(prefix="lifelog-bench-wayland-"), "LIFELOG_AUDIO_SOURCE": "none"}
    started = lifelog(env, "daemon", "start")
    if started.returncode:
        raise SystemExit(f"daemon start failed: {started.stderr}")
    out = []
    try:
        for i in range(rounds):
            word = f"zebracorn{i}x{os.getpid()}"
            t0 = time.monotonic()
            show(f"checking {word} now\n", i)
            while time.monotonic() - t0 < 120:
                hits = lifelog(env, "search", word, "--json")
                if hits.returncode == 0 and json.loads(hits.stdout):
                    break
                time.sleep(0.2)
            out.append(time.monotonic() - t0)
    finally:
        lifelog(env, "daemon", "stop")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grabs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop-s", type=float, default=30.0)
    args = common.parse(parser, quick={"grabs": 3, "rounds": 1, "loop_s": 3.0})
    work = Path(tempfile.mkdtemp(prefix="lifelog-bench-wayland-"))
    x, sway = XScreen(WIDTH, HEIGHT), HeadlessSway(WIDTH, HEIGHT)
    try:
        for n, text in enumerate(("first notes\nalpha beta gamma\n", "second notes\ndelta epsilon\n")):
            (work / f"{n}.txt").write_text(text)
            x.show_text(work / f"{n}.txt", geometry=f"80x20+{n * 640}+0", title=f"notes {n}")
            sway.show_text(text, title=f"notes {n}", app_id=f"notes{n}")
        x_env = {**x.env, "WAYLAND_DISPLAY": "", "XDG_SESSION_TYPE": "x11"}
        portal = PortalDesktop(sway, backend="test")
        portal_env = {**portal.env, "LIFELOG_HOME": str(work / "home"), "LIFELOG_SCREEN_CAPTURE": "portal"}
        clock = "while true; do date +%T.%N; sleep 0.2; done"
        ticking = [subprocess.Popen(["xterm", "-geometry", "40x5+0+400", "-e", "sh", "-c", clock], env=x.env)]
        ticking.append(
            sway._start(["foot", "-T", "clock", "-a", "clock", "sh", "-c", clock], {"WAYLAND_DISPLAY": "wayland-1"})
        )
        time.sleep(2)
        loops = []
        for name, env in (("X11: mss", x_env), ("Wayland: grim", sway.env), ("Wayland: portal (PipeWire)", portal_env)):
            r = loop_run(env, args.loop_s)
            loops.append([name, r["fps"], r["cpu_ms"], r["cpu_pct"], r["side_pct"] if "portal" in name else "-"])
        for proc in ticking:
            proc.terminate()

        shown: list[subprocess.Popen] = []  # the last round's terminal closes first: tiles stay wide

        def show_x(text: str, i: int) -> None:
            (work / f"x{i}.txt").write_text(text)
            close_last()
            shown.append(x.show_text(work / f"x{i}.txt", geometry="80x10+200+300", title=f"new {i}"))

        def show_sway(text: str, i: int) -> None:
            close_last()
            shown.append(sway.show_text(text, title=f"new {i}", app_id=f"new{i}"))

        def close_last() -> None:
            while shown:
                proc = shown.pop()
                proc.terminate()
                proc.wait(timeout=10)

        rows = []
        for name, env, show in (("X11: mss + EWMH", x_env, show_x), ("Wayland: grim + sway IPC", sway.env, show_sway)):
            g = per_grab(env, args.grabs)
            latency = to_searchable(env, show, args.rounds)
            rows.append(
                [
                    name,
                    g["wall_ms"],
                    g["cpu_ms"],
                    g["windows_ms"],
                    g["windows"],
                    statistics.median(latency),
                    max(latency),
                ]
            )
    finally:
        sway.stop()
        x.stop()
    print(f"{WIDTH}x{HEIGHT}, {args.grabs} grabs, {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}\n")
    header = ["path", "grab ms", "grab CPU ms", "window query ms", "windows", "to searchable s (median)", "max s"]
    print(common.table(header, rows))
    print(f"\nThe capture loop at 2 fps, {args.loop_s:g} s, a screen changing every 0.2 s:\n")
    header = ["path", "achieved fps", "CPU ms per kept frame", "CPU % of a core", "backend's CPU % (compositor side)"]
    print(common.table(header, loops))


if __name__ == "__main__":
    main()
