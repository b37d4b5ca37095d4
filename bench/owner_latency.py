"""Latency through the owner's socket, side by side with direct reads, while the daemon records.

    .venv/bin/python bench/owner_latency.py [--seed-spans 40000] [--warmup 45] [--hammer 30]

A private 1920x1080 Xvfb screen shows an xterm printing "ticket N ready for review" every
0.3 s. The last hour of a fresh LIFELOG_HOME is first seeded with ``--seed-spans`` text spans
(~1M o200k tokens at the default, so a 1M-token window is full size), then the real
``lifelog daemon start`` records the screen (audio off); after ``--warmup`` seconds the run waits
until the ticker's lines are searchable. In one run:

a. round trip of GET /v1/health over the socket (lifelog.api.client, kept-alive connection,
   and a fresh connection per call) — p50/p95 of ``--calls``;
b. search through the socket (RemoteTimeline) while recording; after ``lifelog daemon stop``
   the same queries on the same file in this process: a short-lived Store (what a command
   does when no owner runs) and a long-lived owner connection (Store.open_owner: the
   owner's own cost without the socket);
c. ``lifelog search WORD`` as a user runs it (console script, a new process each time),
   owner running, and again with no owner; ``python -X importtime`` top imports;
d. ``lifelog context --since 1h --budget 1000000`` through the socket: wall time, bytes;
e. capture fps from ``status`` (late-tick deltas per window) with no clients, then while 3
   client processes call search + 1M-token context back to back for ``--hammer`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common
from seeded_hour import seed

ROOT = common.ROOT

from tests.support.xscreen import XScreen

TICKER = 'i=100; while true; do i=$((i+1)); echo "ticket $i ready for review"; sleep 0.3; done'
QUERIES = ["ticket", "ready review", "invoice", "gamma4711 beta517", "zyxwvut"]
BIN = Path(sys.executable).parent
CLIENT = """
import sys, time, json
from datetime import datetime, timedelta, timezone
from lifelog.api.client import find_owner
from lifelog.paths import Paths
t = find_owner(Paths.from_env()); end = time.monotonic() + float(sys.argv[1]); n = fails = 0; lat = []
while time.monotonic() < end:
    for call in ("search", "context"):
        t0 = time.perf_counter()
        try:
            if call == "search":
                t.search("ticket review")
            else:
                now = datetime.now(timezone.utc).replace(tzinfo=None)
                t.context(since=now - timedelta(hours=1), until=None, budget=1_000_000)
        except Exception as exc:
            fails += 1; print(exc, file=sys.stderr)
        n += 1; lat.append((call, time.perf_counter() - t0))
print(json.dumps({"calls": n, "fails": fails, "lat": lat}))
"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def ms(xs: list[float]) -> str:
    return f"{1000 * pct(xs, 0.5):.1f} / {1000 * pct(xs, 0.95):.1f}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def cli(args: list[str], env: dict, **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run([str(BIN / "lifelog"), *args], env=env, capture_output=True, **kw)
    return time.perf_counter() - t, proc


def cli_search(env: dict, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        dt, proc = cli(["search", "ticket review"], env)
        assert proc.returncode == 0, proc.stderr
        times.append(dt)
    return times


def import_top(env: dict, n: int = 10) -> tuple[float, list, list]:
    """One ``lifelog search`` under ``-X importtime``: (total ms of imports, the top-level
    imports by cumulative ms, the heaviest packages (outermost import of each root package,
    with the module that pulled it in))."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lifelog.cli.app", "search", "ticket review"],
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            rows.append((len(m.group(3)) // 2, m.group(4), int(m.group(2)) / 1000))
    top = sorted([(name, t) for level, name, t in rows if level == 0], key=lambda x: -x[1])
    heavy: dict[str, tuple[float, str]] = {}
    for i, (level, name, t) in enumerate(rows):  # importtime prints a module after the ones it imported
        parent = next((nm for lv, nm, _ in rows[i + 1 :] if lv < level), "-")
        root = name.split(".")[0].lstrip("_")
        if root != "lifelog" and t > heavy.get(root, (0, ""))[0]:
            heavy[root] = (t, parent)
    pkgs = sorted(((k, t, p) for k, (t, p) in heavy.items()), key=lambda x: -x[1])
    return sum(t for _, t in top), top[:n], pkgs[:n]


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def searches(timeline, reps: int) -> dict[str, list[float]]:
    return {q: timed(lambda q=q: timeline.search(q), reps) for q in QUERIES}


def owner_sample(remote) -> dict:
    o = remote.status()["owner"]
    return {
        "t": time.monotonic(),
        "late": o["late_ticks"],
        "fps": o["fps_achieved"],
        "kept": o["frames_kept"],
        "shed": o["frames_shed"],
        "backlog": o["backlog_frames"],
        "procs": o["processes"],
    }


def wait_searchable(remote, query: str, timeout: float = 180) -> float:
    """Wait until the owner finds ``query`` in what it recorded (the ticker's lines, once OCR
    has stored them: ``lifelog search`` exits non-zero on no match); the seconds it took."""
    t = time.monotonic()
    while not remote.search(query):
        if time.monotonic() - t > timeout:
            raise SystemExit(f"the owner found no {query!r} after {timeout:.0f} s of recording")
        time.sleep(0.5)
    return time.monotonic() - t


def cpu_s(pid: int) -> float:
    return common.cpu_seconds(pid) or 0.0  # 0 once it is gone


def window(remote, seconds: float, fps: float, owner_pid: int, start_clients=None) -> dict:
    """Capture rate over ``seconds`` from the late-tick delta (every grid tick is either
    grabbed or counted late), and CPU of the owner and its children over the same window."""
    a = owner_sample(remote)
    pids = [p["pid"] for p in a["procs"]]
    c0 = {p: cpu_s(p) for p in pids}
    results = []
    if start_clients is not None:
        results = [c.communicate(timeout=seconds + 600) for c in start_clients()]
    else:
        time.sleep(seconds)
    b = owner_sample(remote)
    dt = b["t"] - a["t"]
    cpu = {p: 100 * (cpu_s(p) - c0[p]) / dt for p in pids}
    late = b["late"] - a["late"]
    return {
        "dt": dt,
        "late": late,
        "fps": (fps * dt - late) / dt,
        "fps_status": b["fps"],
        "cpu": cpu,
        "owner_cpu": cpu.get(owner_pid, 0.0),
        "capture_cpu": sum(v for p, v in cpu.items() if p != owner_pid),
        "shed": b["shed"] - a["shed"],
        "backlog": b["backlog"],
        "clients": results,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-spans", type=int, default=40000, help="text spans seeded over the last hour")
    ap.add_argument("--warmup", type=float, default=45, help="seconds of recording before measuring")
    ap.add_argument("--calls", type=int, default=200, help="health round trips")
    ap.add_argument("--reps", type=int, default=20, help="repeats of each search query")
    ap.add_argument("--cli-runs", type=int, default=10)
    ap.add_argument("--hammer", type=float, default=30, help="seconds of each fps window")
    args = common.parse(ap, quick={"seed_spans": 500, "warmup": 0, "calls": 5, "reps": 2, "cli_runs": 1, "hammer": 1})

    home = Path(tempfile.mkdtemp(prefix="owner_latency.")) / "home"
    os.environ.update(LIFELOG_HOME=str(home), LIFELOG_AUDIO_SOURCE="none")
    from lifelog.api.client import _UnixConnection, find_owner
    from lifelog.api.protocol import socket_path
    from lifelog.api.timeline import LocalTimeline
    from lifelog.paths import Paths
    from lifelog.store import Store

    paths = Paths.from_env().ensure()
    t = time.perf_counter()
    seed(paths.db, args.seed_spans)
    print(
        f"# seeded {args.seed_spans} spans in {time.perf_counter() - t:.1f} s; home {home}", file=sys.stderr, flush=True
    )
    screen = XScreen()
    env = {**screen.env, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    ticker = subprocess.Popen(
        ["xterm", "-geometry", "100x30+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", TICKER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    r: dict = {}
    try:
        started = json.loads(cli(["daemon", "start", "--json"], env, timeout=300)[1].stdout)
        pid = started["pid"]
        time.sleep(args.warmup)
        remote = find_owner(paths)
        waited = wait_searchable(remote, "ticket review")
        print(f"# the ticker searchable after {args.warmup:g} s + {waited:.1f} s", file=sys.stderr, flush=True)
        fps = remote.status()["owner"]["fps_target"]
        print("# (a) health", file=sys.stderr, flush=True)
        remote.health()
        r["health_keep"] = timed(remote.health, args.calls)

        def fresh():
            con = _UnixConnection(str(socket_path(paths)), 5)
            con.request("GET", "/v1/health", headers={"Lifelog-Protocol": "1"})
            con.getresponse().read()
            con.close()

        r["health_fresh"] = timed(fresh, args.calls // 4)
        print("# (b) search over the socket", file=sys.stderr, flush=True)
        r["spans_socket"] = remote.status()["text_spans"]
        r["search_socket"] = searches(remote, args.reps)
        print("# (c) lifelog search, owner running", file=sys.stderr, flush=True)
        r["python_start"] = timed(lambda: subprocess.run([sys.executable, "-c", "pass"]), 5)
        r["cli_owner"] = cli_search(env, args.cli_runs)
        r["imports_owner"] = import_top(env)
        print("# (d) context 1M through the socket", file=sys.stderr, flush=True)
        ctx = [cli(["context", "--since", "1h", "--budget", "1000000"], env) for _ in range(min(3, args.cli_runs))]
        r["ctx_cli"] = [dt for dt, _ in ctx]
        r["ctx_bytes"] = len(ctx[-1][1].stdout)
        r["ctx_note"] = ctx[-1][1].stderr.decode().strip().splitlines()[-1]
        since = lambda: utcnow() - timedelta(hours=1)
        r["ctx_socket"] = timed(lambda: remote.context(since=since(), until=None, budget=1_000_000), 3)
        print("# (e) fps: no clients, then 3 hammering clients", file=sys.stderr, flush=True)
        r["idle"] = window(remote, args.hammer, fps, pid)
        clients = lambda: [
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, str(args.hammer)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        r["busy"] = window(remote, args.hammer, fps, pid, clients)
        r["idle_after"] = window(remote, args.hammer, fps, pid)
        remote.close()
        t = time.perf_counter()
        cli(["daemon", "stop"], env, timeout=600)
        r["stop_s"] = time.perf_counter() - t
    finally:
        if "stop_s" not in r:  # a step failed: stop the daemon too, or it outlives the bench
            cli(["daemon", "stop"], env, timeout=600)
        ticker.terminate()
        screen.stop()

    print("# direct reads on the same file, no owner", file=sys.stderr, flush=True)
    short = LocalTimeline(paths, Store(paths.db))
    r["spans_direct"] = short.status()["text_spans"]
    r["search_short"] = searches(short, args.reps)
    r["ctx_short"] = timed(lambda: short.context(since=utcnow() - timedelta(hours=1), until=None, budget=1_000_000), 3)
    r["cli_local"] = cli_search(env, max(min(3, args.cli_runs), args.cli_runs // 2))  # 5 at the default 10
    owned = Store.open_owner(paths.db)
    try:
        r["search_owned"] = searches(LocalTimeline(paths, owned), args.reps)
    finally:
        owned.close()
    report(r, args)


def report(r: dict, args) -> None:
    allq = lambda key: [x for q in QUERIES for x in r[key][q]]
    print(f"\n### (a) small request round trip (GET /v1/health), {args.calls} calls\n")
    print("| connection | p50 / p95 ms | goal |\n|---|---:|---:|")
    print(f"| kept alive (RemoteTimeline.health) | {ms(r['health_keep'])} | ≤ 5 |")
    print(f"| new connection per call | {ms(r['health_fresh'])} | |")
    print(
        f"\n### (b) search p50 / p95 ms, {args.reps} runs per query "
        f"({r['spans_socket']:,} spans while recording; {r['spans_direct']:,} after stop)\n"
    )
    print("| query | socket (daemon recording) | direct, short-lived Store | direct, owner's long-lived connection |")
    print("|---|---:|---:|---:|")
    for q in QUERIES:
        print(f"| `{q}` | {ms(r['search_socket'][q])} | {ms(r['search_short'][q])} | {ms(r['search_owned'][q])} |")
    print(
        f"| **all** | **{ms(allq('search_socket'))}** | **{ms(allq('search_short'))}** | **{ms(allq('search_owned'))}** |"
    )
    med = lambda xs: 1000 * statistics.median(xs)
    print('\n### (c) `lifelog search "ticket review"` wall time (a new process each run)\n')
    print("| case | median ms (min–max) | goal |\n|---|---:|---:|")
    print(
        f"| owner running, {len(r['cli_owner'])} runs | **{med(r['cli_owner']):.0f}** "
        f"({1000 * min(r['cli_owner']):.0f}–{1000 * max(r['cli_owner']):.0f}) | ≤ 250 |"
    )
    print(
        f"| no owner (opens the file), {len(r['cli_local'])} runs | {med(r['cli_local']):.0f} "
        f"({1000 * min(r['cli_local']):.0f}–{1000 * max(r['cli_local']):.0f}) | |"
    )
    print(f"| `python -c pass` (interpreter start alone) | {med(r['python_start']):.0f} | |")
    total, top, pkgs = r["imports_owner"]
    print(
        f"\n`python -X importtime -m lifelog.cli.app search ...` (owner running): {total:.0f} ms of imports "
        "(importtime inflates them). Top-level imports, and the heaviest packages (cumulative ms of the "
        "outermost import, and which module pulled it in):\n"
    )
    print("| top-level import | ms | | package | ms | imported by |\n|---|---:|---|---|---:|---|")
    for (name, t), (pkg, pt, parent) in zip(top, pkgs):
        print(f"| {name} | {t:.0f} | | {pkg} | {pt:.0f} | {parent} |")
    print("\n### (d) `lifelog context --since 1h --budget 1000000` through the socket\n")
    print("| measure | value |\n|---|---:|")
    print(
        f"| CLI wall time, median of {len(r['ctx_cli'])} (min–max) | {med(r['ctx_cli']):.0f} ms ({1000 * min(r['ctx_cli']):.0f}–{1000 * max(r['ctx_cli']):.0f}) |"
    )
    print(f"| in-process RemoteTimeline.context, median of 3 | {med(r['ctx_socket']):.0f} ms |")
    print(f"| direct (short-lived Store, after stop), median of 3 | {med(r['ctx_short']):.0f} ms |")
    print(f"| bytes on stdout | {r['ctx_bytes']:,} |")
    print(f"| window | {r['ctx_note']} |")
    print(f"\n### (e) capture while clients read, {args.hammer:g} s windows\n")
    print(
        "| window | achieved fps (late ticks) | status fps_achieved (ticks run of those scheduled) | owner CPU % | capture CPU % "
        "| shed | client calls (fails) | client search p50 / p95 ms | client context p50 / p95 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, name in (
        ("idle", "no clients"),
        ("busy", "3 clients: search + 1M context"),
        ("idle_after", "no clients, after"),
    ):
        w = r[key]
        outs = [json.loads(o) for o, _ in w["clients"]]
        calls = sum(o["calls"] for o in outs)
        fails = sum(o["fails"] for o in outs)
        lat = {c: [t for o in outs for cc, t in o["lat"] if cc == c] for c in ("search", "context")}
        lat_s = {c: ms(v) if v else "–" for c, v in lat.items()}
        print(
            f"| {name} | {w['fps']:.2f} ({w['late']}) | {w['fps_status']} | {w['owner_cpu']:.0f} | {w['capture_cpu']:.1f} "
            f"| {w['shed']} | {f'{calls} ({fails})' if outs else '–'} | {lat_s['search']} | {lat_s['context']} |"
        )
    print(f"\n`lifelog daemon stop` took {r['stop_s']:.1f} s (drains the spool).")


if __name__ == "__main__":
    main()
