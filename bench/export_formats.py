"""Export rates and sizes per format through the real CLI (``lifelog export --format jsonl``,
``parquet``, ``markdown``), with no owner running (the command opens the file).

    .venv/bin/python bench/export_formats.py [--days 5] [--dir DIR]

Generates ``--days`` days of a working timeline (``bench/generators/gen_timeline.py``: 8 active
hours a day, about 10,000 spans an hour, speech in meetings), then, each a subprocess: export it
all as JSONL to a file; as Parquet into a new folder (every day written); the same Parquet
export again (every day unchanged: only the stream and the hashes); and as a Markdown day log.
Prints wall time, rows/s, bytes per day and the command's peak RSS (VmHWM, from its rusage) as a
Markdown table; progress on stderr. The figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import common
import gen_timeline

# Runs the CLI and, as it exits, writes its peak RSS (VmHWM: ru_maxrss would carry the parent's over).
LAUNCH = (
    "import atexit, runpy, sys\n"
    "peak = sys.argv.pop(1)\n"
    "def note():\n"
    "    with open(peak, 'w') as fh:\n"
    "        fh.write(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
    "atexit.register(note)\n"
    "runpy.run_module('lifelog.cli.app', run_name='__main__')\n"
)


def run(home: Path, *args: str) -> dict:
    """``lifelog export ARGS`` in a subprocess: wall seconds, peak RSS (MiB) and its stderr."""
    env = {**os.environ, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    peak = home.parent / "peak_kb"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH, str(peak), "export", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"lifelog export {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    gen_timeline.log(f"  export {' '.join(args[:2])}: {wall:.1f} s; {proc.stderr.strip()}")
    return {"wall": wall, "peak_mb": int(peak.read_text()) / 1024, "stderr": proc.stderr}


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to build (default: a scratch folder)")
    args = common.parse(parser, quick={"days": 1})
    folder = args.dir or common.scratch("export_formats")
    home = folder / "home"
    gen_timeline.log(f"generating {args.days} days into {home} ...")
    built = gen_timeline.build(home, args.days, search_index=False, progress=gen_timeline.log)
    rows = built["spans"] + built["transcripts"]  # events (a few a day) left out of the rate
    out = {"jsonl": folder / "all.jsonl", "parquet": folder / "parquet", "markdown": folder / "all.md"}
    results = [
        ("jsonl", run(home, "-f", "jsonl", "-o", str(out["jsonl"])), out["jsonl"]),
        ("parquet (every day new)", run(home, "-f", "parquet", "-o", str(out["parquet"])), out["parquet"]),
        ("parquet again (every day unchanged)", run(home, "-f", "parquet", "-o", str(out["parquet"])), None),
        ("markdown", run(home, "-f", "markdown", "-o", str(out["markdown"])), out["markdown"]),
    ]
    print(
        f"{args.days} generated days: {built['spans']:,} spans, {built['transcripts']:,} transcripts "
        f"({rows / args.days:,.0f} rows a day)\n"
    )
    table = []
    for name, r, path in results:
        size = folder_bytes(path) if path else 0
        per_day = f"{size / args.days / 1e6:,.1f}" if path else "-"
        table.append([name, r["wall"], f"{rows / r['wall']:,.0f}", per_day, f"{r['peak_mb']:,.0f}"])
    print(common.table(["export", "wall s", "rows/s", "MB per day", "peak RSS MiB"], table))
    jsonl_size, parquet_size = folder_bytes(out["jsonl"]), folder_bytes(out["parquet"])
    print(
        f"\nParquet is {parquet_size / jsonl_size:.0%} of the JSONL's bytes ({jsonl_size / parquet_size:.1f}x smaller)."
    )


if __name__ == "__main__":
    main()
