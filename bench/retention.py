"""Time retention passes over a generated timeline (``gen_timeline.py``).

    .venv/bin/python bench/retention.py DIR [--days 7] [--drop-days 2]

Generates ``--days`` days into ``DIR`` (a new data folder) unless it already holds a timeline,
then times on a copy: a pass with nothing to remove (what the owner pays every 10 minutes),
then ``keep_text`` removing the oldest ``--drop-days`` days of text (spans, transcripts, their
postings and vectors, in slices of ``retention.TEXT_SLICE_ROWS``), and the longest single
slice (how long the owner's writes could wait for it). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import timedelta
from pathlib import Path

import common

from lifelog.paths import Paths
from lifelog.store import Store, retention


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "dir", type=Path, nargs="?", help="a data folder to keep the timelines in (required without --quick)"
    )
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--drop-days", type=int, default=2)
    args = common.parse(ap, quick={"days": 2, "drop_days": 1, "dir": lambda: common.scratch("retention")})
    if args.dir is None:
        ap.error("DIR is required")
    src = args.dir / "source"
    if not (src / "lifelog.duckdb").exists():
        import gen_timeline

        gen_timeline.build(src, args.days)
    work = args.dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    paths = Paths(work)
    store = Store.open_owner(paths.db)
    try:
        with store.read() as r:
            first, last, lines = r._con.execute(
                "SELECT min(t_start), max(t_start), count(*) FROM text_spans"
            ).fetchone()
        now = last + timedelta(hours=1)
        slices: list[float] = []
        write = store.write

        def timed_write():  # the longest transaction a pass holds the owner's write lock for
            import contextlib

            @contextlib.contextmanager
            def cm():
                t = time.perf_counter()
                with write() as w:
                    yield w
                slices.append(time.perf_counter() - t)

            return cm()

        store.write = timed_write
        t = time.perf_counter()
        idle = retention.run_pass(store, paths, retention.Policy(), now=now)
        idle_s = time.perf_counter() - t
        keep = (now - (first + timedelta(days=args.drop_days))).total_seconds()
        slices.clear()
        t = time.perf_counter()
        report = retention.run_pass(store, paths, retention.Policy(keep_text_s=keep), now=now)
        text_s = time.perf_counter() - t
    finally:
        store.close()
    print(
        json.dumps(
            {
                "days": args.days,
                "spans": lines,
                "idle_pass_s": round(idle_s, 3),
                "text_pass_s": round(text_s, 2),
                "spans_removed": report.spans,
                "transcripts_removed": report.transcripts,
                "longest_write_s": round(max(slices), 3),
                "writes": len(slices),
                "idle_report_s": idle.seconds,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
