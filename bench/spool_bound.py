"""Bounded spool: spool size and stop-drain time when OCR cannot keep up, measured with the real recorder.

    .venv/bin/python bench/spool_bound.py [--seconds 60] [--runs 1] [--drain-cap 900]

A 1920x1080 Xvfb screen shows a large xterm (230x70, DejaVu Sans Mono 13) that redraws 70 lines
of shuffled ``ls -la`` output every 0.5 s, so nearly every capture tick is a new full page and
OCR falls behind. ``lifelog record --no-audio --json`` runs for ``--seconds`` in a fresh
LIFELOG_HOME, once per case, the cases interleaved in one run:

- bounded: the default ``spool_max_frames`` (20);
- unbounded: ``LIFELOG_SPOOL_MAX_FRAMES=100000`` (the largest it takes; never reached here).

While recording, the spool (``$LIFELOG_HOME/spool/*.png``: count and bytes) is sampled every
0.5 s and its maximum reported. Then SIGINT (what Ctrl-C sends) and the time until the process
exits: the final drain. A drain longer than ``--drain-cap`` seconds is cut with a second SIGINT
(which leaves the rest in the spool) and reported as "> N s". Frames kept / shed / processed and
the capture rate come from the JSON summary; gap events (and the frames they say were shed) are
read from the DuckDB file, read-only, after the recorder has exited.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from tests.support.xscreen import XScreen

WORKLOAD = "while true; do ls -la /usr/lib /usr/bin | shuf | head -70; sleep 0.5; done"
CASES = {"bounded (default 20)": None, "unbounded (100000, the most it takes)": "100000"}
SAMPLE_S = 0.5


def spool_size(spool: Path) -> tuple[int, int]:
    """Frames waiting (``*.png``, not the writer's hidden temporaries) and their bytes."""
    n = size = 0
    try:
        with os.scandir(spool) as entries:
            for e in entries:
                if e.name.endswith(".png") and not e.name.startswith("."):
                    try:
                        size += e.stat().st_size
                    except FileNotFoundError:  # OCR'd and removed between listing and stat
                        continue
                    n += 1
    except FileNotFoundError:
        pass
    return n, size


def gap_events(db: Path) -> tuple[int, int]:
    """(gap events, frames they say were shed), from the DuckDB file opened read-only."""
    import duckdb

    if not db.exists():
        return 0, 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        n, shed = con.execute(
            "SELECT count(*), coalesce(sum(CAST(json_extract(detail, '$.frames_shed') AS BIGINT)), 0) "
            "FROM events WHERE kind = 'gap'"
        ).fetchone()
    finally:
        con.close()
    return int(n), int(shed)


def record_once(screen: XScreen, max_frames: str | None, seconds: float, drain_cap: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="spool_bound."))
    home = work / "home"
    env = {**screen.env, "LIFELOG_HOME": str(home)}
    env.pop("LIFELOG_SPOOL_MAX_FRAMES", None)
    if max_frames is not None:
        env["LIFELOG_SPOOL_MAX_FRAMES"] = max_frames
    out, err = work / "stdout.json", work / "stderr.txt"
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lifelog.cli.app", "record", "--no-audio", "--json"], env=env, stdout=fo, stderr=fe
        )
    try:
        t_start = time.monotonic()  # recording starts after model load; wait for the banner
        while "Recording the screen" not in err.read_text() and proc.poll() is None:
            if time.monotonic() - t_start > 120:
                raise RuntimeError("lifelog record did not start within 120 s")
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"lifelog record exited early:\n{err.read_text()}")
        spool = home / "spool"
        max_n = max_bytes = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            n, size = spool_size(spool)
            max_n, max_bytes = max(max_n, n), max(max_bytes, size)
            time.sleep(SAMPLE_S)
        at_stop_n, at_stop_bytes = spool_size(spool)
        proc.send_signal(signal.SIGINT)
        t_sig = time.monotonic()
        capped = False
        try:
            proc.wait(drain_cap)
        except subprocess.TimeoutExpired:
            capped = True
            proc.send_signal(signal.SIGINT)  # second interrupt: stop at once, the spool keeps the rest
            proc.wait(120)
        drain = time.monotonic() - t_sig
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text()
    if not text.strip():
        raise RuntimeError(f"no JSON summary (exit {proc.returncode}):\n{err.read_text()}")
    summary = json.loads(text)
    gaps, gap_shed = gap_events(home / "lifelog.duckdb")
    return {
        "summary": summary,
        "max_frames": max_n,
        "max_bytes": max_bytes,
        "at_stop_frames": at_stop_n,
        "at_stop_bytes": at_stop_bytes,
        "drain_s": drain,
        "capped": capped,
        "drain_cap": drain_cap,
        "gaps": gaps,
        "gap_shed": gap_shed,
        "home": str(home),
        "rc": proc.returncode,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60, help="recording time per case before SIGINT")
    ap.add_argument("--runs", type=int, default=1, help="runs per case (interleaved)")
    ap.add_argument("--drain-cap", type=float, default=900, help="longest wait for the final drain, seconds")
    args = common.parse(ap, quick={"seconds": 1.5, "drain_cap": 5})
    screen = XScreen()
    term = subprocess.Popen(
        [
            "xterm",
            "-geometry",
            "230x70+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "13",
            "-T",
            "churn",
            "-xrm",
            "XTerm*allowTitleOps: false",
            "-e",
            "sh",
            "-c",
            WORKLOAD,
        ],
        env=screen.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: list[tuple[str, dict]] = []
    try:
        time.sleep(2)
        subprocess.run(["xdotool", "search", "--name", "churn", "windowfocus"], env=screen.env, capture_output=True)
        for run in range(args.runs):
            for name, max_frames in CASES.items():
                r = record_once(screen, max_frames, args.seconds, args.drain_cap)
                results.append((name, r))
                s = r["summary"]
                print(
                    f"# run {run + 1}, {name}: drain {r['drain_s']:.1f} s, max spool {r['max_frames']}, "
                    f"kept {s['frames_kept']}, shed {s['frames_shed']}, processed {s['frames_processed']}, "
                    f"left {s['left_in_spool']}, exit {r['rc']}; home {r['home']}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        term.terminate()
        screen.stop()

    print(f"{args.seconds:g} s of recording per case, then SIGINT; spool sampled every {SAMPLE_S} s.\n")
    print(
        "| case | max spool (frames / MB) | spool at SIGINT | SIGINT → exit (drain) | frames kept | shed "
        "| processed | left in spool | gap events (frames they name) | capture fps (≈ grabs / s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results:
        s = r["summary"]
        drain = f"> {r['drain_cap']:.0f} s" if r["capped"] else f"{r['drain_s']:.1f} s"
        # achieved rate: ticks that grabbed a changed or unchanged screen, over the recording time
        fps = (s["frames_kept"] + s["frames_shed"] + s["frames_skipped"]) / args.seconds
        print(
            f"| {name} | {r['max_frames']} / {r['max_bytes'] / 1e6:.1f} | {r['at_stop_frames']} "
            f"({r['at_stop_bytes'] / 1e6:.1f} MB) | {drain} | {s['frames_kept']} | {s['frames_shed']} "
            f"| {s['frames_processed']} | {s['left_in_spool']} | {r['gaps']} ({r['gap_shed']}) "
            f"| {fps:.2f} (late ticks {s['late_ticks']}) |"
        )


if __name__ == "__main__":
    main()
