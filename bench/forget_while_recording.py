"""Recording while the owner forgets a day of a large timeline (issue 16 part 1).

    .venv/bin/python bench/forget_while_recording.py --dir /tmp/forget [--days 30] [--day 15]
    .venv/bin/python bench/forget_while_recording.py --quick    # a 2-day timeline: the smoke run

The timeline is ``bench/forget.py``'s (``gen_timeline.py`` into ``DIR/base``, reused when an
earlier run left it; ``--base`` names another one built the same way). A fresh copy of it is
opened as the owner opens it (``Store.open_owner``), and a thread writes as the recorder's
pipeline does (``bench/import_while_recording.py``'s ``RecorderLike``: each 0.5 s a frame and
its 35 lines in one transaction). After 5 s the owner forgets one whole day: the rows in one
transaction (``store.forget``), then the file rewritten and swapped in (``store.rewrite``), as
``lifelog forget`` through a running owner does. Over the forget: how long the recorder's
writes waited for the write lock (longest, p99, over 1 s), writes that gave up (``StoreBusy``),
its committed frames per second; the delete and rewrite times and the file's size.

For the figure before a change, run this file from a worktree of the older commit (see
``bench/import_while_recording.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import context_scale
from import_while_recording import RecorderLike

from lifelog.store import Store, rewrite
from lifelog.store.forget import Selection, forget_in


def timeline(args) -> dict:
    if args.base is not None:
        return json.loads((args.base / "gen.json").read_text())
    base = args.dir / "base"
    fresh = not (base / "gen.json").exists()
    meta = context_scale.timeline(base, args.days, args.seed)
    if fresh:
        context_scale.summarised(meta)
    return meta


def fresh_copy(meta: dict, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)
    db = folder / "lifelog.duckdb"
    shutil.copyfile(meta["db"], db)
    os.chmod(db, 0o600)
    return db


def forget_while_writing(db: Path, sel: Selection) -> dict:
    store = Store.open_owner(db)
    writer = RecorderLike(store)
    writer.start()
    try:
        time.sleep(5)
        size = db.stat().st_size
        t0 = time.monotonic()
        report = forget_in(store, sel)
        t1 = time.monotonic()
        rewrite.rewrite_store(store)
        t2 = time.monotonic()
        time.sleep(2)
    finally:
        writer.stop.set()
        writer.join()
        store.close()
    during = [(waited, wrote) for asked, waited, wrote in writer.log if t0 <= asked <= t2]
    waits = sorted(w for w, _ in during)
    return {
        "lines": report.lines,
        "delete_s": round(t1 - t0, 2),
        "rewrite_s": round(t2 - t1, 2),
        "db_mb_before": round(size / 1e6, 1),
        "db_mb_after": round(db.stat().st_size / 1e6, 1),
        "writes": len(during),
        "fps": round(sum(w is not None for _, w in during) / (t2 - t0), 2),
        "longest_wait_s": round(waits[-1], 2) if waits else 0.0,
        "p99_wait_s": round(waits[int(0.99 * (len(waits) - 1))], 2) if waits else 0.0,
        "over_1s": sum(w > 1.0 for w in waits),
        "gave_up": sum(w is None for _, w in during),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timeline here (required without --quick)")
    ap.add_argument("--base", type=Path, default=None, help="a timeline gen_timeline.py built (its gen.json)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--day", type=int, default=None, help="which day to forget (default: the middle one)")
    args = common.parse(
        ap, quick={"days": 2, "day": 1, "dir": lambda: common.scratch("forget_while_recording")}, argv=argv
    )
    if args.dir is None:
        ap.error("--dir is required")
    logging.basicConfig(level=logging.WARNING, format="# %(name)s: %(message)s")
    logging.getLogger("lifelog.store.rewrite").setLevel(logging.INFO)  # a copy made again says so
    meta = timeline(args)
    day = datetime.fromisoformat(meta["start"]).replace(hour=0, minute=0, second=0, microsecond=0)
    day += timedelta(days=meta["days"] // 2 if args.day is None else args.day)
    db = fresh_copy(meta, args.dir / "owner")
    print(
        f"# forgetting {day:%Y-%m-%d} of {meta['spans']:,} spans ({db.stat().st_size / 1e6:,.0f} MB); "
        f"load average {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
        flush=True,
    )
    r = forget_while_writing(db, Selection(since=day, until=day + timedelta(days=1)))
    print(json.dumps(r))
    print(
        f"| {r['lines']:,} lines forgotten | delete {r['delete_s']} s + rewrite {r['rewrite_s']} s | committed fps "
        f"{r['fps']:.2f} | longest wait {r['longest_wait_s']:.2f} s | p99 {r['p99_wait_s']:.2f} s | "
        f"over 1 s {r['over_1s']} | gave up {r['gave_up']} | {r['db_mb_before']} -> {r['db_mb_after']} MB |"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
