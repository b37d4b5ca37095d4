"""Hour summaries (issue 8, ``store/hours.py``): what migration 9's backfill costs, and the reads
a context window makes for its older hours (``token_costs`` + ``outline_rows``), from the
lines alone and from the summaries.

    .venv/bin/python bench/hour_summaries.py SRC.duckdb WORK_DIR [--runs 3] [--window BUDGET]

``SRC`` (a timeline from ``gen_timeline.py``) is never touched: it is copied to
``WORK_DIR/lifelog.duckdb``, and the copy brought to version 8 untimed (migrations before 9
applied; or, when ``SRC`` was summarised already, its summaries dropped). Then, under the
owner's memory limit (``OWNER_MEMORY_LIMIT``), migration 9 is timed (it summarises the hours
before the wall clock's, or before the newest line's) and so is moving the watermark on to
the last line's hour (a generated timeline may run past today). The reads are timed with
DuckDB's default memory limit, as a command reading without an owner makes them (a year read
from its lines does not fit the owner's limit), over the
whole timeline (midnight before its first line to midnight after its last) and over its last
29 days (from a moment inside an hour), best of ``--runs``, each checked equal to the other.
With ``--window``, a context window of that many tokens (``build_context``, Markdown, o200k)
is built over each range once with the summaries and once without (the watermark deleted in
a transaction rolled back after). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import duckdb

from lifelog.store import hours, migrations
from lifelog.store.db import OWNER_MEMORY_LIMIT
from lifelog.store.reader import Reader


def best(runs: int, fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def _one_day(name: str) -> Path:
    """A generated day's timeline (``gen_timeline``), for the quick run."""
    import gen_timeline

    folder = common.scratch(name) / "src"
    if not (folder / "lifelog.duckdb").exists():
        gen_timeline.build(folder, 1)
    return folder / "lifelog.duckdb"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path, nargs="?", help="a timeline's lifelog.duckdb (--quick: one generated day)")
    ap.add_argument("work", type=Path, nargs="?", help="a folder for the copy")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=int, default=0, help="also build a context window of this many tokens")
    args = common.parse(
        ap,
        quick={
            "runs": 1,
            "src": lambda: _one_day("hour_summaries"),
            "work": lambda: common.scratch("hour_summaries") / "work",
        },
    )
    if args.src is None or args.work is None:
        ap.error("SRC and WORK are required")
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "lifelog.duckdb"
    shutil.copyfile(args.src, db)
    con = duckdb.connect(str(db))
    con.execute(f"SET memory_limit = '{OWNER_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{args.work / 'tmp'}'")
    if (migrations.current_version(con) or 0) >= 9:  # summarised already: undo 9 alone (the copy only)
        con.execute("DROP TABLE hour_seen; DROP TABLE hour_heard; DROP TABLE hour_totals")
        con.execute("DELETE FROM schema_migrations WHERE version = 9")
        con.execute("DELETE FROM meta WHERE key = ?", [hours.WATERMARK])
        before = {v: fn for v, fn in migrations.MIGRATIONS.items() if v != 9}  # the later ones stay
    else:
        before = {v: fn for v, fn in migrations.MIGRATIONS.items() if v < 9}
    migrations.apply(con, before)
    con.execute("CHECKPOINT")
    spans, first, last = con.execute("SELECT count(*), min(t_start), max(t_start) FROM text_spans").fetchone()
    t = time.perf_counter()
    assert migrations.apply(con, {v: fn for v, fn in migrations.MIGRATIONS.items() if v in before or v == 9}) == [9]
    migrate_s = time.perf_counter() - t
    migrations.apply(con)  # the migrations after 9, untimed
    at_migration = hours.watermark(con)
    con.begin()
    t = time.perf_counter()
    upto = hours.advance(con, now=last + timedelta(hours=2))
    con.commit()
    advance_s = time.perf_counter() - t
    summary_rows = con.execute(
        "SELECT (SELECT count(*) FROM hour_seen) + (SELECT count(*) FROM hour_heard)"
        " + (SELECT count(*) FROM hour_totals)"
    ).fetchone()[0]
    print(f"{db}: {spans:,} spans, {first} .. {last}")
    print(
        f"migration 9: {migrate_s:.1f} s (watermark {at_migration}); on to {upto}: {advance_s:.1f} s; "
        f"{summary_rows:,} summary rows\n"
    )
    con.close()
    con = duckdb.connect(str(db), read_only=True)  # as a command reads when no owner runs
    reader = Reader(con)
    until = datetime.combine(last.date() + timedelta(days=1), datetime.min.time())
    ranges = {
        "whole": (datetime.combine(first.date(), datetime.min.time()), until),
        "last 29 days": (until - timedelta(days=29) + timedelta(minutes=7, seconds=13), until),
    }
    print("| range | live s | from summaries s | outline rows |")
    print("|---|---|---|---|")
    for name, (since, until) in ranges.items():
        live_s, live = best(
            args.runs, lambda: (reader._live_token_costs(since, until), reader._live_outline_rows(since, until))
        )
        cached_s, cached = best(
            args.runs, lambda: (reader.token_costs(since, until), reader.outline_rows(since, until))
        )
        assert cached == live, name
        print(f"| {name} | {live_s:.3f} | {cached_s:.3f} | {len(cached[1]['seen']):,} |")
    con.close()
    if args.window:
        windows(db, ranges, args.window)


def windows(db: Path, ranges: dict, budget: int) -> None:
    from lifelog.replay.context import build_context
    from lifelog.tokenize_media.tokenizers import get_tokenizer

    get_tokenizer("o200k").count("load the vocabulary before timing")
    print(f"\n| {budget:,}-token window over | without summaries s | with summaries s | tokens |")
    print("|---|---|---|---|")
    for name, (since, until) in ranges.items():
        times, tokens = [], set()
        for summaries in (False, True):
            con = duckdb.connect(str(db))
            con.begin()
            if not summaries:
                con.execute("DELETE FROM meta WHERE key = ?", [hours.WATERMARK])
            t = time.perf_counter()
            w = build_context(Reader(con), since=since, until=until, budget=budget, fmt="markdown", tokenizer="o200k")
            times.append(time.perf_counter() - t)
            tokens.add(w.tokens)
            con.rollback()
            con.close()
        print(f"| {name} | {times[0]:.2f} | {times[1]:.2f} | {', '.join(f'{n:,}' for n in sorted(tokens))} |")


if __name__ == "__main__":
    main()
