"""The owner's memory under the heaviest requests (issue 16): its peak RSS per request, and
with many clients asking for large windows at once.

    .venv/bin/python bench/owner_memory.py [--dir DIR] [--days 30] [--clients 10] [--seed 1] [--no-fresh-owners]

Builds (``gen_timeline.py``, through ``context_scale.timeline``) or reuses ``DIR/d{days}``,
brings its hour summaries up to its last hour, then for each case starts a fresh owner on it
in a child process (``Store.open_owner`` with its 512 MB DuckDB pool, ``LocalTimeline``,
``OwnerServer`` on the Unix socket; no recorder), has it answer one 8k window, resets its peak
RSS (``/proc/PID/clear_refs`` 5), sends the case's requests over the socket and reads the peak
(``VmHWM``) and the current RSS: the peak is that case's own (in one long-lived owner, memory
freed by a large window stays with the process and is reused, so peaks do not add up). Cases: windows of
8k, 1M and 10M tokens (the largest allowed) since 3650d; 10M with ``--query``; 10M as JSON;
a budget of 1000M (refused); the whole range exported as JSONL (read and dropped); a search
at the largest limit; then ``--clients`` clients asking at once for 10M windows, and for 1M
windows. Prints a Markdown table on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

BENCH = common.BENCH
import context_scale

SINCE = timedelta(days=3650)


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- the owner, in a child process ----------------------------------------------------------


def serve(home: Path) -> None:
    """Runs in the child: own the timeline and serve it until stdin closes."""
    from lifelog.api.server import OwnerServer
    from lifelog.api.timeline import LocalTimeline
    from lifelog.daemon.ownership import OwnerLock
    from lifelog.paths import Paths
    from lifelog.store import Store

    paths = Paths(home)
    lock = OwnerLock(paths, "bench")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info).start()
    print("ready", flush=True)
    sys.stdin.read()
    server.stop()
    store.close()
    lock.release()


class Owner:
    """A fresh owner in a child process that has answered one 8k window (the tokenizer's
    vocabulary loaded, as in an owner that answered once); its PID."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __enter__(self) -> int:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        window(self.home, 8_000)
        return self.proc.pid

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        self.proc.wait(120)


# -- requests -----------------------------------------------------------------------------


def client(home: Path):
    from lifelog.api.client import find_owner
    from lifelog.paths import Paths

    return find_owner(Paths(home))


def window(home: Path, budget: int, **kw) -> str:
    since = datetime.now(UTC).replace(tzinfo=None) - SINCE
    remote = client(home)
    try:
        w = remote.context(since=since, until=None, budget=budget, **kw)
        return f"{w.tokens:,} tokens, {w.lines:,} lines"
    finally:
        remote.close()


def refused(home: Path, budget: int) -> str:
    from lifelog.api.client import OwnerError

    try:
        window(home, budget)
    except OwnerError as exc:
        return f"refused, exit {exc.exit_code}: {exc}"
    return "NOT REFUSED"


def export(home: Path) -> str:
    remote = client(home)
    try:
        stream = remote.export_jsonl()
        size = sum(len(chunk) for chunk in stream.chunks)
        stream.close()
        return f"{sum(stream.rows.values()):,} rows, {size / 2**20:,.0f} MiB"
    finally:
        remote.close()


def search(home: Path) -> str:
    remote = client(home)
    try:
        return f"{len(remote.search('the', limit=1000)):,} hits"
    finally:
        remote.close()


def at_once(home: Path, clients: int, budget: int) -> str:
    """``clients`` threads, each with its own connection, ask for a window at the same moment."""
    from lifelog.api.client import OwnerError

    results: list[str] = []
    start = threading.Barrier(clients)

    def one():
        start.wait()
        try:
            window(home, budget)
            results.append("answered")
        except OwnerError as exc:
            results.append("busy" if "busy" in str(exc) else f"error: {exc}")

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ", ".join(f"{results.count(r)} {r}" for r in sorted(set(results)))


def cases(home: Path, clients: int) -> list[tuple[str, callable]]:
    return [
        ("8k window since 3650d", lambda: window(home, 8_000)),
        ("1M window since 3650d", lambda: window(home, 1_000_000)),
        ("10M window since 3650d (the largest budget)", lambda: window(home, 10_000_000)),
        ("10M window since 3650d, --query", lambda: window(home, 10_000_000, query="deploy failed staging database")),
        ("10M window since 3650d, --format json", lambda: window(home, 10_000_000, fmt="json")),
        ("1000M window since 3650d", lambda: refused(home, 1_000_000_000)),
        ("export of the whole timeline", lambda: export(home)),
        ("search 'the' --limit 1000", lambda: search(home)),
        (f"{clients} clients at once, 10M windows", lambda: at_once(home, clients, 10_000_000)),
        (f"{clients} clients at once, 1M windows", lambda: at_once(home, clients, 1_000_000)),
    ]


def measure(rows: list[tuple], pid: int, name: str, run) -> None:
    """One case against owner ``pid``: its result, wall seconds and the owner's memory (peak since
    just before) appended to ``rows``; the owner's memory at start first, before the first case."""
    log(name)
    if not rows:
        rows.append(("owner started, one 8k window answered", "", 0.0, common.memory_mb(pid)))
    common.reset_peak(pid)
    t = time.perf_counter()
    result = run()
    rows.append((name, result, time.perf_counter() - t, common.memory_mb(pid)))
    log(f"  {result}; {rows[-1][3]}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timeline here")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--fresh-owners",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a fresh owner per case (the default; without, one owner answers every case and peaks may carry over)",
    )
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = common.parse(
        ap,
        quick={"days": 1, "clients": 2, "fresh_owners": False, "dir": lambda: common.scratch("owner_memory")},
        argv=argv,
    )
    if args.serve:
        return serve(args.serve)
    root = args.dir or Path(context_scale.tempfile.mkdtemp(prefix="owner_memory."))
    meta = context_scale.timeline(root / f"d{args.days}", args.days, args.seed)
    context_scale.summarised(meta)
    home = Path(meta["db"]).parent
    rows: list[tuple] = []
    if args.fresh_owners:
        for name, run in cases(home, args.clients):
            with Owner(home) as pid:
                measure(rows, pid, name, run)
    else:
        with Owner(home) as pid:
            for name, run in cases(home, args.clients):
                measure(rows, pid, name, run)
    print(
        f"Owner peak RSS per request, {meta['days']} days ({meta['spans']:,} spans), "
        f"{os.cpu_count()} CPUs, {datetime.now().date()}\n"
    )
    print(
        common.table(
            ["request", "result", "wall s", "peak RSS MiB", "RSS after MiB"],
            [(name, result, f"{wall:.1f}", round(mem["peak"]), round(mem["rss"])) for name, result, wall, mem in rows],
        )
    )
    print(json.dumps({"max_peak_mib": round(max(m["peak"] for *_, m in rows))}), file=sys.stderr)


if __name__ == "__main__":
    main()
