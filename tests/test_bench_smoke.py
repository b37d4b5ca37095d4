"""Every bench runs: each ``bench/*.py`` with ``--quick`` (tiny sizes, the whole path) exits 0 and
prints something, so a change that breaks a bench fails here rather than on the day its figure is
wanted. Figures from a quick run mean nothing; the real runs and their figures are in
BENCHMARKS.md.

The suite runs the light benches (about a minute in all on 2 cores); the heavy ones (recordings
on Xvfb, Whisper, full-page OCR, owners under load: several minutes) run with
``LIFELOG_BENCH_SMOKE=all``, e.g. ``LIFELOG_BENCH_SMOKE=all .venv/bin/python -m pytest
tests/test_bench_smoke.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
LIBRARIES = {"common.py"}  # imported by the benches, not run
# Benches that have no quick run yet, each with why: the list may only shrink.
NO_QUICK_YET: dict[str, str] = {}
BENCHES = sorted(p.name for p in BENCH.glob("*.py") if p.name not in LIBRARIES)
# Quick runs over ~10 s each (measured on 2 cores): run with LIFELOG_BENCH_SMOKE=all.
HEAVY = {
    "activity.py",
    "asr_languages.py",
    "asr_rtf.py",
    "audio_cpu.py",
    "capture_cpu.py",
    "embed_models.py",
    "embed_quality.py",
    "embed_rate.py",
    "encryption.py",
    "export_formats.py",
    "forget_while_recording.py",
    "frame_storage.py",
    "import_while_recording.py",
    "jsonl_rates.py",
    "layout_cost.py",
    "mcp_latency.py",
    "needles.py",
    "ocr_speed.py",
    "owner_latency.py",
    "owner_load.py",
    "owner_memory.py",
    "soak.py",
    "spool_bound.py",
}
ALL = os.environ.get("LIFELOG_BENCH_SMOKE") == "all"


def test_every_bench_has_a_quick_run():
    missing = [name for name in BENCHES if "common.parse(" not in (BENCH / name).read_text()]
    assert set(missing) <= set(NO_QUICK_YET), "a bench without --quick: parse its arguments with common.parse"


@pytest.mark.parametrize("name", [n for n in BENCHES if n not in NO_QUICK_YET])
def test_the_bench_runs_quick(name, tmp_path):
    if name in HEAVY and not ALL:
        pytest.skip("a heavy bench: LIFELOG_BENCH_SMOKE=all runs it")
    env = {**os.environ, "LIFELOG_HOME": str(tmp_path / "home"), "LIFELOG_BENCH_SCRATCH": str(tmp_path / "scratch")}
    done = subprocess.run(
        [sys.executable, str(BENCH / name), "--quick"],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{name} --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (done.stdout + done.stderr).strip(), f"{name} --quick printed nothing"


def test_common_parses_quick_and_writes_markdown_tables(monkeypatch, tmp_path):
    import argparse

    monkeypatch.syspath_prepend(str(BENCH))
    import common

    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    assert common.parse(parser, quick={"days": 1}, argv=[]).days == 30
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    assert common.parse(parser, quick={"days": lambda: 1}, argv=["--quick"]).days == 1
    assert common.table(["case", "rows", "s"], [["import", 1200, 1.5], ["export", 3, "12.5"]]).splitlines() == [
        "| case | rows | s |",
        "| --- | ---: | ---: |",
        "| import | 1,200 | 1.500 |",
        "| export | 3 | 12.5 |",
    ]
    monkeypatch.setenv(common.SCRATCH_ENV, str(tmp_path))
    assert common.scratch("x") == tmp_path / "x" and (tmp_path / "x").is_dir()
