"""DuckDB store latency at scale: write batches, reads, search and index rebuilds.

    .venv/bin/python bench/store_latency.py [N_SPANS=200000] [DIR] [--quick]

Bulk-loads N_SPANS text spans, then times the operations the recorder and CLI perform.
"""

import argparse
import os
import random
import shutil
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import duckdb

from lifelog.models import FrameRecord, OcrLine
from lifelog.store import Store

_ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_ap.add_argument("n_spans", type=int, nargs="?", default=200_000)
_ap.add_argument("dir", type=Path, nargs="?", default=Path("/tmp/lifelog-bench-store"))
_ap.add_argument("--batches", type=int, default=40, help="write batches timed")
_ap.add_argument("--reps", type=int, default=15, help="repeats of each read")
_args = common.parse(
    _ap, quick={"n_spans": 2_000, "batches": 2, "reps": 1, "dir": lambda: common.scratch("store_latency")}
)
N_SPANS, root, BATCHES, REPS = _args.n_spans, _args.dir, _args.batches, _args.reps
shutil.rmtree(root, ignore_errors=True)
db = root / "lifelog.duckdb"
store = Store(db)
store.migrate()
T0 = datetime(2026, 1, 1)
rng = random.Random(1)
words = (
    open("/usr/share/dict/words").read().split()[:20000]
    if os.path.exists("/usr/share/dict/words")
    else [f"w{i}" for i in range(20000)]
)
# bulk history straight into the tables (fast), as if recorded over days
con = duckdb.connect(str(db))
con.execute(
    'INSERT INTO frames (ts, monitor, width, height, app, "window", image_ref, region_left, region_top, region_right, region_bottom, keyframe) '
    "SELECT TIMESTAMP '2026-01-01' + to_microseconds(i * 2000000), 0, 1920, 1080, 'Firefox', 'w', '', 0,0,1920,1080, i % 10 = 0 FROM range(?) r(i)",
    [N_SPANS // 4],
)
con.execute("CREATE TEMP TABLE w AS SELECT * FROM (SELECT unnest(?::VARCHAR[]) AS w)", [words[:2000]])
con.execute(
    """INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text, top, "left", frame_id, open)
    SELECT TIMESTAMP '2026-01-01' + to_microseconds(i * 500000), TIMESTAMP '2026-01-01' + to_microseconds(i * 500000 + 3000000), 0, 'Firefox', 'w',
           concat_ws(' ', 'line', i::VARCHAR, 'alpha'||(i%97)::VARCHAR, 'beta'||(i%1013)::VARCHAR, 'gamma'||(i%7919)::VARCHAR, 'invoice', (i%10000)::VARCHAR),
           (i % 40) * 25, 0, i // 4, false FROM range(?) r(i)""",
    [N_SPANS],
)
con.close()
last = T0 + timedelta(seconds=N_SPANS * 0.5)


def med(xs):
    return round(statistics.median(xs) * 1000, 1)


# index build
t = time.perf_counter()
with store.write() as w:
    w.refresh_search_index()
print(
    f"{N_SPANS} spans: index build (open+LOAD fts+build+commit+close) {time.perf_counter() - t:.2f} s; db {os.path.getsize(db) / 1e6:.1f} MB"
)


def batch(i):
    with store.write() as w:
        for f in range(2):
            ts = last + timedelta(seconds=i + f / 2)
            fid = w.add_frame(
                FrameRecord(
                    ts=ts,
                    monitor=0,
                    width=1920,
                    height=1080,
                    app="Firefox",
                    window="x",
                    image_ref="",
                    region=(0, 0, 1920, 1080),
                    keyframe=False,
                )
            )
            lines = [OcrLine(f"static line {k}", (0, 25 * k, 100, 25 * k + 20)) for k in range(30)]
            lines += [OcrLine(f"changing {i} {f} {k}", (0, 800 + 25 * k, 100, 820 + 25 * k)) for k in range(5)]
            w.observe_lines(fid, ts, 0, "Firefox", "x", lines)
        w.add_event(ts, "tick")


batch(-1)
times = []
for i in range(BATCHES):
    t = time.perf_counter()
    batch(i)
    times.append(time.perf_counter() - t)
print(
    f"write batch (2 frames x 35 lines, open..close): median {med(times)} ms, p90 {round(sorted(times)[int(0.9 * len(times))] * 1000, 1)} ms"
)
# parts of a batch
from lifelog.store.db import connect

parts = {"open": [], "work": [], "commit": [], "close": []}
for i in range(BATCHES, BATCHES + max(1, BATCHES // 2)):
    t = time.perf_counter()
    con = connect(db, read_only=False, timeout=30)
    parts["open"].append(time.perf_counter() - t)
    from lifelog.store.writer import Writer

    t = time.perf_counter()
    con.begin()
    w = Writer(con, db)
    for f in range(2):
        ts = last + timedelta(seconds=i + f / 2)
        fid = w.add_frame(
            FrameRecord(
                ts=ts,
                monitor=0,
                width=1920,
                height=1080,
                app="Firefox",
                window="x",
                image_ref="",
                region=(0, 0, 1920, 1080),
                keyframe=False,
            )
        )
        lines = [OcrLine(f"static line {k}", (0, 25 * k, 100, 25 * k + 20)) for k in range(30)] + [
            OcrLine(f"changing {i} {f} {k}", (0, 800 + 25 * k, 100, 820 + 25 * k)) for k in range(5)
        ]
        w.observe_lines(fid, ts, 0, "Firefox", "x", lines)
    parts["work"].append(time.perf_counter() - t)
    t = time.perf_counter()
    con.commit()
    parts["commit"].append(time.perf_counter() - t)
    t = time.perf_counter()
    con.close()
    parts["close"].append(time.perf_counter() - t)
print("write parts median ms:", {k: med(v) for k, v in parts.items()})


def timed(fn, n=REPS):
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return med(xs)


def rd(f):
    def run():
        with store.read() as r:
            f(r)

    return run


print("read open+close only:", timed(rd(lambda r: None)), "ms")
print(
    "read spans_between last 1h:",
    timed(rd(lambda r: r.spans_between(last - timedelta(hours=1), last + timedelta(hours=1)))),
    "ms",
)
print("read stats:", timed(rd(lambda r: r.stats())), "ms")
print("read search 'invoice 4821' (indexed, LOAD fts incl.):", timed(rd(lambda r: r.search("invoice 4821"))), "ms")
print("read search rare 'gamma77 beta5':", timed(rd(lambda r: r.search("gamma77 beta5"))), "ms")
print("read search unindexed-only 'changing 30':", timed(rd(lambda r: r.search("changing 30"))), "ms")
with store.read() as r:
    print("  hits:", [(h.span.text, round(h.score, 2)) for h in r.search("invoice 4821")[:3]])
print("db size MB", round(os.path.getsize(db) / 1e6, 1))
