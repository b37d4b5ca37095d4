"""Export and import rates of a generated timeline through the real CLI (``lifelog import`` /
``lifelog export --format jsonl``), with no owner running (the command opens the file).

    .venv/bin/python bench/jsonl_rates.py [--spans 1000000] [--words 60000] [--no-round-trip] [--dir DIR]

Writes, in a temporary folder, a lifelog JSONL file as a user's export would look: ``--spans``
text spans over 8 active hours a day at 44,000 a day (the lines of ``bench/search_year.py``:
1-12 words from a Zipf vocabulary of 60,000, numbers, 5 % Chinese), one transcript per 25
spans and one event per 1,000. Then, each a subprocess: import it into an empty home; import it
again (every row a duplicate); export everything to a file; export again from a second home
that imported the export (the bytes must match, header time aside; ``--no-round-trip`` leaves out
the second import and the second home); then the same import and
export through an owner (this process serves a third home's socket as the daemon does, with
its 512 MB DuckDB buffer pool, without recording). Prints rows/s, wall time and the peak RSS
of each command as a Markdown table (the owner's own RSS apart); progress on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import numpy as np

ROOT = common.ROOT

from search_year import APPS, START, lines, log, vocabulary

from lifelog.api import jsonl
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.paths import Paths
from lifelog.store import Store

PER_DAY = 44_000


def generate(path: Path, spans: int, seed: int = 1, words: int = 60000) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    vocab = vocabulary(words, rng)
    han = np.array([chr(c) for c in rng.choice(np.arange(0x4E00, 0x9FA5), 3500, replace=False)], dtype=object)
    counts = dict.fromkeys(jsonl.KINDS, 0)
    rows = []
    for d0 in range(0, spans, PER_DAY):
        n = min(PER_DAY, spans - d0)
        day = START + timedelta(days=d0 // PER_DAY, hours=9)
        secs = np.sort(rng.random(n) * 8 * 3600)
        durs = rng.exponential(20, n)
        texts = lines(n, rng, vocab, han)
        apps = rng.integers(0, len(APPS), n)
        for i in range(n):
            t0 = day + timedelta(seconds=float(secs[i]))
            t1 = t0 + timedelta(seconds=float(durs[i]))
            rows.append(
                (
                    t0,
                    0,
                    "seen",
                    (t0, t1, 0, APPS[apps[i]], f"{APPS[apps[i]]} window {i % 7}", texts[i], int(i * 37 % 1000), 8),
                )
            )
            if i % 25 == 0:
                rows.append((t0, 1, "heard", (t0, t1, "mic", "faster-whisper", texts[i])))
            if i % 1000 == 0:
                rows.append((t0, 2, "event", (t0, "gap", json.dumps({"seconds": i % 60}))))
        log(f"  generated {d0 + n:,} spans")
    rows.sort(key=lambda r: (r[0], r[1]))
    with open(path, "w", encoding="utf-8") as fh:
        for _, _, kind, _row in rows:
            counts[kind] += 1
        fh.write(jsonl.header_line(counts, None, None, datetime(2026, 11, 29)))
        for _, _, kind, row in rows:
            fh.write(jsonl.row_line(kind, row))
    return counts


def run(args: list[str], home: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) and stderr of one lifelog command."""
    env = {**os.environ, "LIFELOG_HOME": str(home)}
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked copy of this process
    cmd = [
        sys.executable,
        "-c",
        "import re, sys, runpy; sys.argv = ['lifelog', *sys.argv[1:]];"
        "\ntry: runpy.run_module('lifelog.cli.app', run_name='__main__')"
        "\nfinally: print('RSS', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1],"
        " file=sys.stderr)",
        *args,
    ]
    t = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - t
    if proc.returncode:
        raise SystemExit(f"lifelog {' '.join(args)} failed:\n{proc.stderr}")
    rss = int(proc.stderr.rsplit("RSS", 1)[1]) // 1024
    return seconds, rss, proc.stderr


@contextlib.contextmanager
def owner(home: Path):
    """Serve ``home``'s timeline on its socket from this process, as ``lifelog daemon run`` does."""
    paths = Paths(home=home)
    paths.ensure()
    lock = OwnerLock(paths, "bench")
    store = Store.open_owner(paths.db)
    server = OwnerServer(paths, LocalTimeline(paths, store), lock.info).start()
    try:
        yield
    finally:
        server.stop()
        store.close()
        lock.release()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--words", type=int, default=60000, help="vocabulary of the generated lines")
    ap.add_argument(
        "--round-trip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also import the file again (all duplicates) and the export into a second home, exported again",
    )
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--generate-to", type=Path, help=argparse.SUPPRESS)  # the child that writes the file
    a = common.parse(
        ap,
        quick={"spans": 300, "words": 2000, "round_trip": False, "dir": lambda: common.scratch("jsonl_rates")},
    )
    if a.generate_to:
        print(json.dumps(generate(a.generate_to, a.spans, words=a.words)))
        return
    folder = a.dir or Path(tempfile.mkdtemp(prefix="lifelog-jsonl-"))
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "generated.jsonl"
    log(f"generating {a.spans:,} spans into {src}")
    counts = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--spans", str(a.spans), "--words", str(a.words), "--generate-to", str(src)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    )  # its memory is its own
    total = sum(counts.values())
    out, again = folder / "export.jsonl", folder / "again.jsonl"
    steps = [
        ("import into an empty home", ["import", str(src), "--json"], folder / "home1", total),
        ("import the same file again (all duplicates)", ["import", str(src), "--json"], folder / "home1", total),
        ("export everything to a file", ["export", "-o", str(out)], folder / "home1", total),
        ("import the export into a second home", ["import", str(out), "--json"], folder / "home2", total),
        ("export the second home", ["export", "-o", str(again)], folder / "home2", total),
    ]
    if not a.round_trip:  # one import and one export: the second home is the owner's
        steps = [steps[0], steps[2]]
    results = []
    for label, args, home, rows in steps:
        results.append(step(label, args, home, rows))
    served = folder / "served.jsonl"
    with owner(folder / "home3"):
        results.append(
            step("import through an owner (upload + merge)", ["import", str(src), "--json"], folder / "home3", total)
        )
        results.append(
            step("export through an owner (streamed)", ["export", "-o", str(served)], folder / "home3", total)
        )
    owner_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    exports = [out, again, served] if a.round_trip else [out, served]
    same = len({path.read_text().split("\n", 1)[1] for path in exports}) == 1
    size = src.stat().st_size / 2**20
    print(
        f"Generated: {counts['seen']:,} spans, {counts['heard']:,} transcripts, {counts['event']:,} events "
        f"({total:,} rows, {size:,.0f} MiB of JSONL). Round trip identical: {same}.\n"
    )
    print("| step | rows | wall s | rows/s | peak RSS MiB |\n|---|---:|---:|---:|---:|")
    for label, rows, seconds, rss in results:
        print(f"| {label} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {rss} |")
    print(f"\nPeak RSS of the owner (this process, which serves the third home): {owner_rss} MiB.")


def step(label: str, args: list[str], home: Path, rows: int) -> tuple:
    log(f"{label} ...")
    seconds, rss, _ = run(args, home)
    log(f"  {seconds:.1f} s, {rows / seconds:,.0f} rows/s, peak RSS {rss} MiB")
    return label, rows, seconds, rss


if __name__ == "__main__":
    main()
