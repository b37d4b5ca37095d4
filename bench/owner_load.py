"""Requests per second the owner serves to 50 concurrent clients while `lifelog record` records.

    .venv/bin/python bench/owner_load.py [--clients 50] [--seconds 30] [--seed-spans 20000]

A private 1920x1080 Xvfb screen shows an xterm printing "ticket N ready for review" every
0.3 s; the last hour of a fresh LIFELOG_HOME is seeded with ``--seed-spans`` text spans; then the
real ``lifelog record --no-audio`` records it. After ``--warmup`` seconds, three windows of
``--seconds`` each: no clients, ``--clients`` clients at once (``--procs`` processes of
threads, each thread with its own kept-alive connection, calling search and a small context
window (last 10 minutes, 2,000 tokens) back to back), no clients again. Per window: capture
fps from the recorder's late ticks, frames shed; for the busy window, requests/s, p50 / p99
latency per call, failures. The owner's connection limit (64) is above 50: none is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from seeded_hour import seed

from bench.owner_latency import BIN, TICKER, pct, window
from tests.support.xscreen import XScreen

CLIENT = """
import json, sys, threading, time
from datetime import datetime, timedelta, timezone
from lifelog.api.client import find_owner
from lifelog.paths import Paths
seconds, threads = float(sys.argv[1]), int(sys.argv[2])
out = {"lat": [], "fails": [], "started": time.time()}
def run():
    t = find_owner(Paths.from_env()); end = time.monotonic() + seconds
    while time.monotonic() < end:
        for call in ("search", "context"):
            t0 = time.perf_counter()
            try:
                if call == "search":
                    t.search("ticket review", limit=20)
                else:
                    now = datetime.now(timezone.utc).replace(tzinfo=None)
                    t.context(since=now - timedelta(minutes=10), until=None, budget=2000)
                out["lat"].append((call, time.perf_counter() - t0))
            except Exception as exc:
                out["fails"].append(str(exc)[:200])
    t.close()
workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(json.dumps(out))
"""


def clients(env: dict, n: int, procs: int, seconds: float):
    """``n`` client threads over ``procs`` processes, started now."""
    per = [n // procs + (i < n % procs) for i in range(procs)]
    return lambda: [
        subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(seconds), str(k)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in per
        if k
    ]


def wait_for_owner(paths, proc, timeout: float = 300.0):
    from lifelog.api.client import find_owner

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"lifelog record exited {proc.returncode}: {proc.stderr.read()}")
        try:
            remote = find_owner(paths)
            if remote is not None:
                return remote
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit("lifelog record did not serve its socket in time")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--procs", type=int, default=5, help="client processes the threads are spread over")
    ap.add_argument("--seconds", type=float, default=30, help="length of each window")
    ap.add_argument("--warmup", type=float, default=30, help="seconds of recording before measuring")
    ap.add_argument("--seed-spans", type=int, default=20000, help="text spans seeded over the last hour")
    args = common.parse(ap, quick={"clients": 2, "procs": 1, "seconds": 1, "warmup": 1, "seed_spans": 500})

    home = Path(tempfile.mkdtemp(prefix="owner_load.")) / "home"
    os.environ.update(LIFELOG_HOME=str(home), LIFELOG_AUDIO_SOURCE="none")
    from lifelog.paths import Paths

    paths = Paths.from_env().ensure()
    seed(paths.db, args.seed_spans)
    screen = XScreen()
    env = {**screen.env, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    ticker = subprocess.Popen(
        ["xterm", "-geometry", "100x30+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", TICKER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    record = subprocess.Popen(
        [str(BIN / "lifelog"), "record", "--no-audio"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    r: dict = {}
    try:
        remote = wait_for_owner(paths, record)
        pid = remote.owner["pid"]
        time.sleep(args.warmup)
        fps = remote.status()["owner"]["fps_target"]
        print("# no clients", file=sys.stderr, flush=True)
        r["idle"] = window(remote, args.seconds, fps, pid)
        print(f"# {args.clients} clients", file=sys.stderr, flush=True)
        r["busy"] = window(remote, args.seconds, fps, pid, clients(env, args.clients, args.procs, args.seconds))
        print("# no clients, after", file=sys.stderr, flush=True)
        r["after"] = window(remote, args.seconds, fps, pid)
        remote.close()
    finally:
        record.send_signal(2)  # Ctrl-C: record drains what it captured and exits
        try:
            record.wait(600)
        finally:
            ticker.terminate()
            screen.stop()
    report(r, args)


def report(r: dict, args) -> None:
    load = os.getloadavg()
    print(
        f"\n### owner under {args.clients} concurrent clients while `lifelog record` records "
        f"({args.seconds:g} s windows; load average after: {load[0]:.1f})\n"
    )
    print(
        "| window | capture fps (late ticks) | shed | owner CPU % | requests/s | search p50 / p99 ms "
        "| context p50 / p99 ms | failures |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, name in (
        ("idle", "no clients"),
        ("busy", f"{args.clients} clients: search + 2k context"),
        ("after", "no clients, after"),
    ):
        w = r[key]
        outs = [json.loads(o) for o, _ in w["clients"] if o.strip()]
        lat = {c: [t for o in outs for cc, t in o["lat"] if cc == c] for c in ("search", "context")}
        calls = sum(len(v) for v in lat.values())
        fails = sum(len(o["fails"]) for o in outs)
        p = {c: f"{1000 * pct(v, 0.5):.0f} / {1000 * pct(v, 0.99):.0f}" if v else "–" for c, v in lat.items()}
        rate = f"{calls / args.seconds:.1f}" if outs else "–"  # each client thread runs --seconds
        print(
            f"| {name} | {w['fps']:.2f} ({w['late']}) | {w['shed']} | {w['owner_cpu']:.0f} | {rate} | {p['search']} "
            f"| {p['context']} | {fails if outs else '–'} |"
        )
        for o in outs:
            for f in o["fails"][:3]:
                print(f"  failure: {f}", file=sys.stderr)


if __name__ == "__main__":
    main()
