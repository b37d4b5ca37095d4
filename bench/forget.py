"""Time to forget a day from a generated timeline (issue 15's figure).

    .venv/bin/python bench/forget.py --dir /tmp/forget [--days 30] [--seed 1] [--day 15]

Builds a timeline with ``gen_timeline.py`` into ``DIR/base`` (or reuses one an earlier run left
there, as ``context_scale.py`` does), with its hour summaries brought up to date, then forgets
one whole day (``--day``, counted from the first) of a fresh copy of it twice:

* ``command``: as ``lifelog forget --since D --until D+1`` does when no owner runs: the rows in
  one transaction (``store.forget``), then the database rewritten into a new file and swapped
  in (``store.rewrite``), on short-lived connections;
* ``owner``: the same inside an owner (``Store.open_owner``); its ``rewrite_s`` is how long the
  owner's reads and writes wait (capture keeps spooling meanwhile).

Reported per case: rows forgotten, seconds of the delete transaction, of the rewrite and in
all, the database file's size before and after, peak RSS of the process. Frame images and
audio files are not generated, so their deletion (one unlink per file) is not in the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import context_scale

from lifelog.store import Store, rewrite
from lifelog.store.forget import Selection, forget_in


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def fresh_copy(meta: dict, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)
    db = folder / "lifelog.duckdb"
    shutil.copyfile(meta["db"], db)
    os.chmod(db, 0o600)
    return db


def forget_day(db: Path, sel: Selection, *, owner: bool) -> dict:
    store = Store.open_owner(db) if owner else Store(db)
    try:
        size = db.stat().st_size
        t0 = time.perf_counter()
        report = forget_in(store, sel)
        t1 = time.perf_counter()
        rewrite.rewrite_store(store)
        t2 = time.perf_counter()
        with store.read() as r:
            left = r._con.execute(
                "SELECT count(*) FROM text_spans WHERE t_start >= ? AND t_start < ?", [sel.since, sel.until]
            ).fetchone()[0]
    finally:
        store.close()
    return {
        "lines": report.lines,
        "transcripts": report.transcripts,
        "frames": report.frames,
        "events": report.events,
        "vectors": report.vectors,
        "hours_resummarised": report.hours,
        "lines_left_that_day": left,
        "delete_s": round(t1 - t0, 2),
        "rewrite_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "db_mb_before": round(size / 1e6, 1),
        "db_mb_after": round(db.stat().st_size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timeline here (required without --quick)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--day", type=int, default=None, help="which day to forget (default: the middle one)")
    ap.add_argument("--cases", default="command,owner")
    args = common.parse(ap, quick={"days": 2, "day": 1, "dir": lambda: common.scratch("forget")}, argv=argv)
    if args.dir is None:
        ap.error("--dir is required")
    base = args.dir / "base"
    fresh = not (base / "gen.json").exists()
    meta = context_scale.timeline(base, args.days, args.seed)
    if fresh:
        context_scale.summarised(meta)
    day = datetime.fromisoformat(meta["start"]).replace(hour=0, minute=0, second=0, microsecond=0)
    day += timedelta(days=args.days // 2 if args.day is None else args.day)
    sel = Selection(since=day, until=day + timedelta(days=1))
    results = {
        "timeline": {k: meta.get(k) for k in ("days", "seed", "spans", "transcripts", "start", "end")},
        "day": day.date().isoformat(),
        "load_before": os.getloadavg(),
    }
    for case in args.cases.split(","):
        db = fresh_copy(meta, args.dir / case)
        log(f"{case}: forgetting {day:%Y-%m-%d} from {db} ({db.stat().st_size / 1e6:,.0f} MB)")
        results[case] = forget_day(db, sel, owner=case == "owner")
        log(f"{case}: {results[case]}")
    results["peak_rss_mb"] = round(common.memory_mb()["peak"])
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
