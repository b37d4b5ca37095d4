"""Recording while a large lifelog JSONL file is imported through the owner (issue 16 part 1).

    .venv/bin/python bench/import_while_recording.py [--spans 1000000] [--mode writer|record] [--dir DIR]
    .venv/bin/python bench/import_while_recording.py --quick    # writer mode, 2,000 spans: the smoke run
    .venv/bin/python bench/import_while_recording.py --holds    # and every hold of the write lock, by step
    .venv/bin/python bench/import_while_recording.py --busy 3   # three processes spinning beside it

The file (``bench/jsonl_rates.py``'s: ``--spans`` spans, a transcript per 25, an event per
1,000; 1,041,000 rows for a million) is generated once into ``--dir`` and reused. Then the real
``lifelog import FILE --json`` uploads it to a running owner, in one of two modes:

* ``writer``: an owner served from this process as the daemon serves it (``Store.open_owner``,
  its socket), without capture, and a thread writing as the recorder's pipeline does, each 0.5 s
  (2 fps) a frame and its 35 lines (5 new each time) in one transaction. Over the import: how
  long its writes waited for the write lock (longest, p99, how many over 1 s), writes that gave
  up (``StoreBusy`` after ``busy_timeout_s``, 30 s: their frames would wait in the spool), and the
  rate its frames were committed at. ``--holds`` times every hold of the owner's write lock
  (``Holds``) and names the holds behind each wait over 1 s; ``--duckdb-threads`` sets the owner's
  DuckDB threads (its checkpoints run as tasks on them).
* ``record``: the real ``lifelog record --no-audio`` on a private Xvfb screen showing an xterm
  ticker (``bench/owner_latency.py``); a window of ``--idle`` seconds before the import, then the
  import: capture fps from the recorder's late ticks, frames shed, frames waiting for OCR.

To compare with the code before a change: ``git worktree add /tmp/before <commit>``, copy this
file into ``/tmp/before/bench/`` and run it from there with ``--dir`` the same folder (the
bench puts its own checkout's ``src`` first on the path, and the CLI it starts inherits it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import common

# the CLI this starts imports this checkout's lifelog, as the bench does
os.environ["PYTHONPATH"] = os.pathsep.join([str(common.SRC), os.environ.get("PYTHONPATH", "")])

FRAME_S = 0.5
LINES = 35


def generated(folder: Path, spans: int) -> Path:
    src = folder / f"generated-{spans}.jsonl"
    if not src.exists():
        subprocess.run(
            [sys.executable, str(common.BENCH / "jsonl_rates.py"), "--spans", str(spans), "--generate-to", str(src)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return src


def import_cli(src: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "import", str(src), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen) -> dict:
    out, errs = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"lifelog import failed:\n{errs}")
    return json.loads(out)[0]


class Holds:
    """Every write transaction's hold of the owner's write lock (``--holds``): how long, in which
    thread, the time spent in each Writer step named in ``STEPS`` (the rest is begin and commit),
    and whether the commit folded the WAL into the file (the WAL shrank). Wraps the owner's
    ``Store`` and ``Writer`` in this process only; the code they run is unchanged."""

    STEPS = ("merge_staged", "make_index_room", "finish", "add_frame", "observe_lines")

    def __init__(self, store) -> None:
        from lifelog.store.writer import Writer

        self.rows: list[dict] = []  # {"thread", "start", "held", "steps", "wal_before", "wal_after"}
        self.local = threading.local()
        self.wal = Path(str(store.db_path) + ".wal")
        connection = store._connection

        @contextlib.contextmanager
        def timed(*, read_only: bool):
            with connection(read_only=read_only) as con:
                hold = {"thread": threading.current_thread().name, "start": time.monotonic(), "steps": {}}
                hold["wal_before"] = self._wal_size()
                self.local.hold = hold
                try:
                    yield con
                finally:
                    hold["wal_after"] = self._wal_size()
                    hold["held"] = time.monotonic() - hold["start"]
                    self.local.hold = None
                    self.rows.append(hold)

        store._connection = timed
        for name in self.STEPS:
            setattr(Writer, name, self._step(name, getattr(Writer, name)))

    def _wal_size(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return 0

    def _step(self, name: str, method):
        def timed(writer, *args, **kwargs):
            started = time.monotonic()
            try:
                return method(writer, *args, **kwargs)
            finally:
                hold = getattr(self.local, "hold", None)
                if hold is not None:
                    hold["steps"][name] = hold["steps"].get(name, 0.0) + time.monotonic() - started

        return timed

    def report(self, t0: float, t1: float, waits: list[tuple[float, float]]) -> str:
        """The longest holds during ``[t0, t1]``, each with its steps; then the holds that
        overlapped each wait over 1 s of ``waits`` (``(asked, waited)``)."""
        during = [h for h in self.rows if t0 <= h["start"] <= t1]
        lines = [f"# {len(during)} write holds during the import; the 12 longest:"]
        lines += [self._line(h, t0) for h in sorted(during, key=lambda h: -h["held"])[:12]]
        for name in (*self.STEPS, "commit"):
            times = sorted(self._part(h, name) for h in during if name == "commit" or name in h["steps"])
            if times:
                lines.append(
                    f"#   {name}: n {len(times)}, max {times[-1]:.2f} s, p99 {times[int(0.99 * (len(times) - 1))]:.2f} s,"
                    f" over 0.5 s {sum(t > 0.5 for t in times)}"
                )
        folds = [h for h in during if h["wal_after"] < h["wal_before"]]
        if folds:
            lines.append(
                f"#   commits that folded the WAL into the file: {len(folds)}, longest hold of those"
                f" {max(h['held'] for h in folds):.2f} s"
            )
        for asked, waited in waits:
            if waited > 1.0:
                lines.append(f"# a wait of {waited:.2f} s at +{asked - t0:.1f} s, behind:")
                lines += [
                    "#   " + self._line(h, t0)
                    for h in during
                    if h["start"] < asked + waited and h["start"] + h["held"] > asked and h["thread"] != "recorder"
                ]
        return "\n".join(lines)

    @staticmethod
    def _part(hold: dict, name: str) -> float:
        return hold["held"] - sum(hold["steps"].values()) if name == "commit" else hold["steps"][name]

    def _line(self, hold: dict, t0: float) -> str:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in hold["steps"].items()) or "no transaction: a CHECKPOINT"
        fold = " WAL folded" if hold["wal_after"] < hold["wal_before"] else ""
        return (
            f"#   +{hold['start'] - t0:7.1f} s {hold['thread'][:12]:12} held {hold['held']:.2f} s ({steps},"
            f" commit {self._part(hold, 'commit'):.2f}; WAL {hold['wal_before'] / 2**20:.1f}"
            f" -> {hold['wal_after'] / 2**20:.1f} MiB{fold})"
        )


# -- writer mode -------------------------------------------------------------------------


class RecorderLike(threading.Thread):
    """Writes a frame and its lines every FRAME_S, each in one transaction, timing the wait."""

    def __init__(self, store) -> None:
        super().__init__(daemon=True, name="recorder")
        self.store, self.stop, self.log = store, threading.Event(), []  # (asked, waited, wrote or None)

    def run(self) -> None:
        from lifelog.errors import StoreBusy
        from lifelog.models import FrameRecord, OcrLine

        i, due = 0, time.monotonic()
        while not self.stop.is_set():
            ts = datetime(2026, 12, 1, 9) + timedelta(seconds=i * FRAME_S)
            lines = [
                OcrLine(f"ticket {i // 7 + k} ready for review, line {k}", (10, 20 * k, 600, 20 * k + 18))
                for k in range(LINES)
            ]
            asked = time.monotonic()
            try:
                with self.store.write() as w:
                    waited = time.monotonic() - asked
                    fid = w.add_frame(
                        FrameRecord(
                            ts=ts,
                            monitor=0,
                            width=1920,
                            height=1080,
                            app="XTerm",
                            window="ticker",
                            image_ref=f"frames/{i}.jpg",
                            region=(0, 0, 1920, 1080),
                            keyframe=True,
                        )
                    )
                    w.observe_lines(fid, ts, 0, "XTerm", "ticker", lines)
                self.log.append((asked, waited, time.monotonic() - asked))
            except StoreBusy:
                self.log.append((asked, time.monotonic() - asked, None))
            i += 1
            due += FRAME_S
            time.sleep(max(0.0, due - time.monotonic()))


def writer_mode(src: Path, folder: Path, holds: bool = False, threads: int | None = None) -> dict:
    from lifelog.api.server import OwnerServer
    from lifelog.api.timeline import LocalTimeline
    from lifelog.daemon.ownership import OwnerLock
    from lifelog.paths import Paths
    from lifelog.store import Store

    paths = Paths(home=Path(tempfile.mkdtemp(prefix="home-", dir=folder)))
    paths.ensure()
    lock = OwnerLock(paths, "bench")
    store = Store.open_owner(paths.db)
    if threads:  # DuckDB's worker threads in the owner (its default: one per core)
        store._owned.execute(f"SET threads = {int(threads)}")
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info).start()
    timed = Holds(store) if holds else None
    writer = RecorderLike(store)
    writer.start()
    try:
        time.sleep(5)
        t0 = time.monotonic()
        report = finished(import_cli(src, {**os.environ, "LIFELOG_HOME": str(paths.home)}))
        t1 = time.monotonic()
    finally:
        writer.stop.set()
        writer.join()
        server.stop()
        store.close()
        lock.release()
    during = [(waited, wrote) for asked, waited, wrote in writer.log if t0 <= asked <= t1]
    waits = sorted(w for w, _ in during)
    if timed is not None:
        print(timed.report(t0, t1, [(a, w) for a, w, _ in writer.log if t0 <= a <= t1]), file=sys.stderr)
    return {
        "import_s": t1 - t0,
        "report": report,
        "writes": len(during),
        "fps": sum(wrote is not None for _, wrote in during) / (t1 - t0),
        "longest_wait_s": waits[-1] if waits else 0.0,
        "p99_wait_s": waits[int(0.99 * (len(waits) - 1))] if waits else 0.0,
        "over_1s": sum(w > 1.0 for w in waits),
        "gave_up": sum(wrote is None for _, wrote in during),
    }


# -- record mode -------------------------------------------------------------------------


class Fresh:
    """The owner's status over a new connection each time (an older client does not reconnect
    when the owner closed its idle kept-alive connection during a long import)."""

    def __init__(self, paths) -> None:
        self.paths = paths

    def status(self) -> dict:
        from lifelog.api.client import find_owner

        remote = find_owner(self.paths)
        try:
            return remote.status()
        finally:
            remote.close()


def record_mode(src: Path, idle_s: float, warmup_s: float) -> dict:
    from owner_latency import BIN, TICKER, window
    from owner_load import wait_for_owner

    from lifelog.paths import Paths
    from tests.support.xscreen import XScreen

    home = Path(tempfile.mkdtemp(prefix="import_rec.")) / "home"
    os.environ.update(LIFELOG_HOME=str(home), LIFELOG_AUDIO_SOURCE="none")
    paths = Paths.from_env().ensure()
    screen = XScreen()
    env = {**os.environ, **screen.env}
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
    procs: list = []
    try:
        remote = wait_for_owner(paths, record)
        pid = remote.owner["pid"]
        time.sleep(warmup_s)
        fps = remote.status()["owner"]["fps_target"]
        remote.close()
        idle = window(Fresh(paths), idle_s, fps, pid)
        busy = window(Fresh(paths), 0, fps, pid, lambda: procs.append(import_cli(src, env)) or procs)
    finally:
        record.send_signal(2)
        try:
            record.wait(600)
        finally:
            ticker.terminate()
            screen.stop()
    out, errs = busy["clients"][0]
    if procs[0].returncode:
        raise SystemExit(f"lifelog import failed:\n{errs}")
    return {"idle": idle, "busy": busy, "report": json.loads(out)[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--mode", choices=("writer", "record"), default="writer")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "lifelog-import-bench")
    ap.add_argument("--duckdb-threads", type=int, help="writer mode: the owner's DuckDB threads")
    ap.add_argument("--holds", action="store_true", help="writer mode: time every write's hold of the lock, by step")
    ap.add_argument("--idle", type=float, default=30, help="record mode: seconds measured before the import")
    ap.add_argument("--warmup", type=float, default=30, help="record mode: seconds of recording first")
    ap.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU beside the run")
    a = common.parse(
        ap, quick={"spans": 2_000, "mode": "writer", "dir": lambda: common.scratch("import_while_recording")}
    )
    a.dir.mkdir(parents=True, exist_ok=True)
    src = generated(a.dir, a.spans)
    rows = sum(json.loads(src.open().readline())["rows"].values())
    print(
        f"# {rows:,} rows, {src.stat().st_size / 2**20:,.0f} MiB; load average {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
        flush=True,
    )
    with common.busy_loops(a.busy):
        report(a, rows, src)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def report(a: argparse.Namespace, rows: int, src: Path) -> None:
    if a.mode == "writer":
        r = writer_mode(src, a.dir, a.holds, a.duckdb_threads)
        print(
            f"| {rows:,} rows imported in {r['import_s']:.1f} s | writes {r['writes']} | committed fps "
            f"{r['fps']:.2f} | longest wait {r['longest_wait_s']:.2f} s | p99 {r['p99_wait_s']:.2f} s | "
            f"over 1 s {r['over_1s']} | gave up {r['gave_up']} | slices {r['report'].get('slices', 1)} |"
        )
    else:
        r = record_mode(src, a.idle, a.warmup)
        for name in ("idle", "busy"):
            w = r[name]
            print(
                f"| {name} | {w['dt']:.0f} s | capture fps {w['fps']:.2f} ({w['late']} late) | shed {w['shed']} | "
                f"backlog {w['backlog']} | owner CPU {w['owner_cpu']:.0f} % |"
            )


if __name__ == "__main__":
    main()
