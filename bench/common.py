"""What every bench needs, once: the repository's paths, a scratch folder, CPU and memory of a
process, a quick mode for the smoke run, and results as Markdown tables.

    import common                              # from a script in bench/ (its folder is on sys.path)
    args = common.parse(parser, quick={"spans": 2_000})   # --quick: tiny sizes, whole path
    folder = common.scratch("jsonl_rates")     # $LIFELOG_BENCH_SCRATCH/jsonl_rates or a temp folder
    before = common.cpu_seconds(pid)           # user + system CPU seconds of a process
    with common.busy_loops(3): ...             # three processes spinning beside the measurement
    print(common.table(["case", "s"], [["import", 1.23]]))

Importing this module puts ``src/``, the repository root and ``bench/generators/`` on
``sys.path``, so a bench runs from a plain checkout (``.venv/bin/python bench/NAME.py``), imports
its data generators (``import gen_timeline``) and can use ``tests.support``'s screens, speech and
pages. ``tests/test_bench_smoke.py`` runs every bench with ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
GENERATORS = BENCH / "generators"  # what builds a bench's data, apart from what measures it
ROOT = BENCH.parent
SRC = ROOT / "src"
for _path in (str(GENERATORS), str(BENCH), str(ROOT), str(SRC)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

SCRATCH_ENV = "LIFELOG_BENCH_SCRATCH"  # where the smoke run puts every bench's files
QUICK_ENV = "LIFELOG_BENCH_QUICK"  # set for a --quick run, before any generator is imported
if "--quick" in sys.argv[1:]:
    os.environ[QUICK_ENV] = "1"  # gen_timeline then simulates an hour a day instead of eight


def parse(parser: argparse.ArgumentParser, quick: dict | None = None, argv: Sequence[str] | None = None):
    """``parser``'s arguments plus ``--quick``, which sets ``quick``'s values (tiny sizes, one run)
    so the whole path runs in seconds: what the smoke test runs, never a figure to publish. A
    callable value is called then (``{"dir": lambda: scratch("forget")}``)."""
    parser.add_argument(
        "--quick", action="store_true", help="a tiny run of the whole path (the test suite's smoke run)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in (quick or {}).items():
            setattr(args, name, value() if callable(value) else value)
    return args


def scratch(name: str) -> Path:
    """A folder for one bench's files: under ``$LIFELOG_BENCH_SCRATCH`` when set (the smoke run),
    else a new temporary folder."""
    base = os.environ.get(SCRATCH_ENV)
    if base:
        folder = Path(base) / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return Path(tempfile.mkdtemp(prefix=f"lifelog-bench-{name}-"))


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds of process ``pid`` (this process when None); None once it is gone."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's waited-for children (subprocess runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def memory_mb(pid: int | None = None) -> dict[str, float]:
    """``{"rss": now, "peak": high-water mark}`` in MiB of process ``pid`` (this one when None).
    The peak is VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from a forked parent."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak": int(fields["VmHWM"].split()[0]) / 1024}


def reset_peak(pid: int) -> None:
    """Start ``pid``'s VmHWM again from its RSS now (``/proc/PID/clear_refs`` 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextmanager
def timed() -> Iterator[dict]:
    """``with timed() as t: ...`` then ``t["wall"]`` and ``t["cpu"]`` (this process), in seconds."""
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield out
    finally:
        out["wall"], out["cpu"] = time.perf_counter() - wall, cpu_seconds() - cpu


@contextmanager
def busy_loops(n: int) -> Iterator[None]:
    """``n`` processes that spin on the CPU while the block runs: the other work of a desktop,
    the same in every run (``--busy N`` of the benches that take it)."""
    import subprocess

    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table; columns of numbers right-aligned. Floats show 3 decimals under 10, else 1;
    pass a string (``f"{x:.2f}"``) for another format."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        bool(cells) and all(re.fullmatch(r"-?[\d,]+(\.\d+)?", row[i]) for row in cells) for i in range(len(header))
    ]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)
