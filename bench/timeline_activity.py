"""Where the time went (``lifelog timeline``, the facade's ``activity`` call) over a generated
timeline: how long the answer takes for the last day (hours), the last week and the whole range
(days), read from the file (no owner: open, read, close) and through a running owner on its
socket (the file held open), and how large the JSON answer is.

    .venv/bin/python bench/timeline_activity.py [--days 30] [--runs 3] [--src lifelog.duckdb]

Without ``--src`` the timeline is generated (``gen_timeline.build``, no search index: the
answer never reads it); ``--src`` copies an existing generated one instead. Prints a Markdown
table: best of ``--runs`` seconds for each range and path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import common

from lifelog.api.client import find_owner
from lifelog.api.timeline import LocalTimeline
from lifelog.paths import Paths
from lifelog.store import Store
from tests.api.serving import served


def timeline_home(days: int, src: Path | None) -> Paths:
    paths = Paths(common.scratch("timeline_activity") / "home").ensure()
    if not paths.db.exists():
        if src:
            shutil.copy(src, paths.db)
        else:
            import gen_timeline

            gen_timeline.build(paths.db.parent, days, search_index=False)
    return paths


def best(runs: int, fn) -> tuple[float, dict]:
    times, out = [], {}
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--src", type=Path, help="a generated timeline's lifelog.duckdb to copy instead")
    args = common.parse(ap, quick={"days": 1, "runs": 1})
    paths = timeline_home(args.days, args.src)
    local = LocalTimeline(paths, Store(paths.db))
    everything = local.activity()
    first = everything["first"]
    assert first, "the timeline is empty"
    # the whole range: midnight before the first activity to midnight after the last
    lo = datetime.fromisoformat(first.removesuffix("Z")).replace(hour=0, minute=0, second=0)
    hi = datetime.fromisoformat(everything["last"].removesuffix("Z")).replace(hour=0, minute=0, second=0)
    hi += timedelta(days=1)
    ranges = {"last day": (hi - timedelta(days=1), hi), "last 7 days": (hi - timedelta(days=7), hi), "all": (lo, hi)}
    rows = []
    for name, (since, until) in ranges.items():
        seconds, answer = best(args.runs, lambda s=since, u=until: local.activity(since=s, until=u))
        rows.append(
            [name, "file", answer["bucket"], answer["totals"]["active_minutes"], seconds, len(json.dumps(answer))]
        )
    with served(paths):
        remote = find_owner(paths)
        assert remote is not None
        try:
            for name, (since, until) in ranges.items():
                seconds, answer = best(args.runs, lambda s=since, u=until: remote.activity(since=s, until=u))
                rows.append(
                    [
                        name,
                        "owner",
                        answer["bucket"],
                        answer["totals"]["active_minutes"],
                        seconds,
                        len(json.dumps(answer)),
                    ]
                )
        finally:
            remote.close()
    print(f"{(hi - lo).days} days, best of {args.runs}")
    print(common.table(["range", "path", "buckets", "active min", "s", "JSON bytes"], rows))


if __name__ == "__main__":
    main()
