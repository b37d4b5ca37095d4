"""Context windows at scale (issue 8): assembly time and peak memory of month- and year-long
windows, and the tokens an hour costs at full detail and as outline.

    .venv/bin/python bench/context_scale.py [--dir DIR] [--days-small 30] [--days-large 365]
                                            [--skip-large] [--large-search-index] [--runs 3] [--seed 1]

Builds (``gen_timeline.py``) or, with ``--dir DIR`` holding them from an earlier run, reuses
a timeline of ``--days-small`` days (``DIR/d30``) and one of ``--days-large`` days
(``DIR/d365``). The large one is written without the search index unless
``--large-search-index`` (``gen_timeline.build``: windows without a query never read it, and
its backfill would take most of an hour). The hour summaries are brought up to each timeline's
last hour, as its owner would have. Then, each in a fresh process (the wall time and
the peak RSS, from GNU ``/usr/bin/time``, are that process's own):

* ``build_context`` (``lifelog.replay.context``) through a short-lived ``Store`` read, as a
  command does when no owner runs: a 1M-token window over the small timeline, an 8k window
  over it, a 10M-token window over the large one, and 1M and 8k windows over the large one
  (the cost and memory of a window should follow its budget, not the timeline). "build s" is the call itself (reading the
  rows included), "process s" the whole process (interpreter, imports, open);
* the same windows through the real CLI, ``lifelog context --since ISO --until ISO --budget N``
  with ``LIFELOG_HOME`` set and no owner, stdout to /dev/null;
* tokens per hour at full detail: windows of single active hours with no budget limit (the
  full hours of one mid-range day, and that day's window / 8), and as outline: the outline
  blocks of the 1M and 8k windows, their tokens divided by the hours (or 8 x the days) they
  stand for.

Prints Markdown tables on stdout; progress on stderr. Goals (issue 8): 1M over 30 days
<= 1 s, 10M over 365 days <= 10 s, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import common

BENCH = common.BENCH
import gen_timeline

LIFELOG = Path(sys.executable).with_name("lifelog")
TIME = "/usr/bin/time"  # GNU time: the peak RSS of the command alone
OUTLINE_HEADER = re.compile(r"^### (?:(\d\d:\d\d)–\d\d:\d\d|(\d{4}-\d\d-\d\d)) · outline")


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- the child: one window in a fresh process ---------------------------------------------


def child(spec: dict) -> dict:
    """Runs in the measured process: build the window(s) ``spec`` names, report figures."""
    t0 = time.perf_counter()
    from lifelog.replay.context import build_context
    from lifelog.store import Store
    from lifelog.tokenize_media.tokenizers import get_tokenizer

    store = Store(Path(spec["db"]))
    out: dict = {"import_s": round(time.perf_counter() - t0, 3)}
    with store.read() as reader:
        if spec["kind"] == "hours":
            tokens = []
            for start in spec["hours"]:
                since = datetime.fromisoformat(start)
                w = build_context(
                    reader,
                    since=since,
                    until=since + timedelta(hours=1),
                    budget=10**9,
                    fmt="markdown",
                    tokenizer="o200k",
                )
                tokens.append(w.tokens)
            day = datetime.fromisoformat(spec["day"])
            w = build_context(
                reader, since=day, until=day + timedelta(days=1), budget=10**9, fmt="markdown", tokenizer="o200k"
            )
            return {**out, "tokens": tokens, "day_tokens": w.tokens}
        t, cpu = time.perf_counter(), time.process_time()
        w = build_context(
            reader,
            since=datetime.fromisoformat(spec["since"]),
            until=datetime.fromisoformat(spec["until"]),
            budget=spec["budget"],
            fmt="markdown",
            tokenizer="o200k",
        )
        out["build_s"] = round(time.perf_counter() - t, 3)
        out["build_cpu_s"] = round(time.process_time() - cpu, 3)  # all threads: a proxy on a busy machine
    out.update(tokens=w.tokens, lines=w.lines, chars=len(w.text))
    out.update(outline_stats(w.text, get_tokenizer("o200k")))
    return out


def outline_stats(text: str, tok) -> dict:
    """The outline blocks of a Markdown window: how many hours and days, and their tokens."""
    hours = days = 0
    outline: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("#"):
            m = OUTLINE_HEADER.match(line)
            inside = m is not None
            if m:
                hours += bool(m.group(1))
                days += bool(m.group(2))
        if inside:
            outline.append(line)
    return {
        "outline_hours": hours,
        "outline_days": days,
        "outline_tokens": tok.count("\n".join(outline)) if outline else 0,
    }


# -- the parent: fresh processes, their own rusage -----------------------------------------


def measured(cmd: list[str], env: dict | None = None, stdout=subprocess.PIPE) -> tuple[float, float, str, str]:
    """Run ``cmd`` under GNU time; returns (wall s, peak RSS MiB, stdout, stderr) of that process.

    Not ``os.wait4`` on a child of this process: Linux records the high-water mark of the
    memory a process had before it exec'd (here, a vfork of this process, which grew to
    gigabytes while generating) as the new program's peak. ``time`` is a small C program."""
    with tempfile.NamedTemporaryFile("r") as usage, tempfile.TemporaryFile() as err:
        proc = subprocess.run([TIME, "-f", "%e %M", "-o", usage.name, *cmd], env=env, stdout=stdout, stderr=err)
        err.seek(0)
        errors = err.read().decode(errors="replace")
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {errors[-2000:]}")
        wall, kib = usage.read().split()[-2:]
    out = proc.stdout.decode() if proc.stdout else ""
    return float(wall), int(kib) / 1024, out, errors


def run_child(spec: dict) -> dict:
    wall, rss, out, _ = measured([sys.executable, __file__, "--child", json.dumps(spec)])
    return {**json.loads(out.strip().splitlines()[-1]), "process_s": round(wall, 3), "rss_mib": round(rss)}


def run_cli(home: Path, since: str, until: str, budget: int) -> dict:
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    cmd = [str(LIFELOG), "context", "--since", since, "--until", until, "--budget", str(budget)]
    wall, rss, _, note = measured(cmd, env=env, stdout=subprocess.DEVNULL)
    return {
        "process_s": round(wall, 3),
        "rss_mib": round(rss),
        "note": note.strip().splitlines()[-1] if note.strip() else "",
    }


def repeat(fn, runs: int) -> dict:
    """Median times and the largest RSS over ``runs`` runs."""
    results = [fn() for _ in range(runs)]
    best = dict(results[0])
    for key in ("build_s", "build_cpu_s", "process_s", "import_s"):
        if key in best:
            best[key] = statistics.median(r[key] for r in results)
    best["rss_mib"] = max(r["rss_mib"] for r in results)
    best["runs"] = runs
    return best


# -- timelines -----------------------------------------------------------------------------


def timeline(folder: Path, days: int, seed: int, search_index: bool = True) -> dict:
    """The generated timeline in ``folder`` (built now unless an earlier run left it)."""
    info = folder / "gen.json"
    if info.exists():
        meta = json.loads(info.read_text())
        if meta["days"] == days and meta["seed"] == seed:
            log(f"reusing {folder} ({meta['spans']:,} spans)")
            return meta
        raise SystemExit(f"{folder} holds {meta['days']} days (seed {meta['seed']}), not {days}: use another --dir")
    if folder.exists():
        shutil.rmtree(folder)
    log(f"generating {days} days into {folder}")
    meta = gen_timeline.build(folder, days, seed=seed, search_index=search_index)
    info.write_text(json.dumps(meta, indent=1))
    return meta


def summarised(meta: dict) -> None:
    """Bring the hour summaries up to the timeline's last hour, as its owner would have running
    at that time (a generated year may end after today's clock, which the owner never passes)."""
    import duckdb

    from lifelog.store import hours

    con = duckdb.connect(meta["db"])
    try:
        con.execute("SET memory_limit = '2GB'")
        con.execute("BEGIN")
        upto = hours.advance(con, now=datetime.fromisoformat(meta["end"]) + timedelta(minutes=10))
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    log(f"hours summarised up to {upto}")


def mid_day(meta: dict) -> dict:
    """The middle day of a timeline and its full active hours."""
    day = datetime.fromisoformat(meta["start"]) + timedelta(days=meta["days"] // 2)
    return {"day": day.isoformat(), "hours": [(day + timedelta(hours=h)).isoformat() for h in (9, 10, 11, 14, 15, 16)]}


def iso(ts: str) -> str:
    return ts + "+00:00"


# -- report --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timelines here")
    ap.add_argument("--days-small", type=int, default=30)
    ap.add_argument("--days-large", type=int, default=365)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--large-search-index", action="store_true", help="index the large timeline for search too")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (median time, largest RSS)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = common.parse(
        ap,
        quick={"days_small": 1, "skip_large": True, "runs": 1, "dir": lambda: common.scratch("context_scale")},
        argv=argv,
    )
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    root = args.dir or Path(tempfile.mkdtemp(prefix="context_scale."))
    root.mkdir(parents=True, exist_ok=True)
    sets = [("small", args.days_small, 1_000_000), ("small", args.days_small, 8_000)]
    if not args.skip_large:  # the same budgets over 12x the timeline: cost and memory follow the budget
        sets += [
            ("large", args.days_large, 10_000_000),
            ("large", args.days_large, 1_000_000),
            ("large", args.days_large, 8_000),
        ]
    metas = {}
    for size, days, _ in sets:
        if size not in metas:
            metas[size] = timeline(root / f"d{days}", days, args.seed, size == "small" or args.large_search_index)
            summarised(metas[size])
    rows = []
    for size, days, budget in sets:
        meta = metas[size]
        spec = {"db": meta["db"], "kind": "window", "since": meta["start"], "until": meta["end"], "budget": budget}
        log(f"build_context: {budget:,} tokens over {days} days")
        api = repeat(lambda: run_child(spec), args.runs)
        log(f"  {api}")
        log(f"CLI: {budget:,} tokens over {days} days")
        cli = repeat(lambda: run_cli(Path(meta["db"]).parent, iso(meta["start"]), iso(meta["end"]), budget), args.runs)
        log(f"  {cli}")
        rows.append((days, budget, meta, api, cli))
    hours = run_child({"db": metas["small"]["db"], "kind": "hours", **mid_day(metas["small"])})
    report(rows, metas, hours, root)


def report(rows, metas, hours, root) -> None:
    print(f"Timelines in {root}:\n")
    print("| timeline | spans | transcripts | search index | file MiB | generate s | migrate s (owner open) |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for meta in metas.values():
        print(
            f"| {meta['days']} days | {meta['spans']:,} | {meta['transcripts']:,} |"
            f" {'yes' if meta.get('search_index', True) else 'no'} | {meta['bytes'] / 2**20:,.0f} |"
            f" {meta['generate_s']} | {meta['migrate_s']} |"
        )
    print(
        "\n| window | tokens | lines | build_context s | its CPU s | its process s | peak RSS MiB |"
        " CLI process s | CLI peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for days, budget, _, api, cli in rows:
        print(
            f"| {budget:,} over {days} days | {api['tokens']:,} | {api['lines']:,} | **{api['build_s']:.2f}** |"
            f" {api['build_cpu_s']:.2f} | {api['process_s']:.2f} | {api['rss_mib']:,} | **{cli['process_s']:.2f}** |"
            f" {cli['rss_mib']:,} |"
        )
    print(f"\n(load average when done: {os.getloadavg()[0]:.2f})")
    print(f"\n(median of {rows[0][3]['runs']} runs; RSS the largest)")
    full = hours["tokens"]
    print("\n| tokens per hour (o200k) | value |")
    print("|---|---:|")
    print(
        f"| full detail, mean of {len(full)} full hours of a mid-range day (min–max) | "
        f"**{statistics.mean(full):,.0f}** ({min(full):,}–{max(full):,}) |"
    )
    print(
        f"| full detail, that whole day's window / 8 active hours (lines still on screen from the hour"
        f" before are not shown again) | **{hours['day_tokens'] / 8:,.0f}** |"
    )
    for days, budget, _, api, _ in rows:
        if api["outline_tokens"]:
            n = api["outline_hours"] + 8 * api["outline_days"]
            per = "hour" if api["outline_hours"] else "day"
            print(
                f"| as outline (per {per}), in the {budget:,} window over {days} days: {api['outline_tokens']:,} tokens "
                f"for {n:,} active hours | **{api['outline_tokens'] / n:,.0f}** |"
            )


if __name__ == "__main__":
    main()
