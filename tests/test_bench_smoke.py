"""Every bench runs: each ``bench/*.py`` with ``--quick`` (tiny sizes, the whole path) exits 0 and
prints something, so a change that breaks a bench fails here rather than on the day its figure is
wanted. Figures from a quick run mean nothing; the real runs and their figures are in
BENCHMARKS.md.

The suite runs every bench but those in HEAVY, each listed with why (full-page OCR timed, five
Whisper configurations, owners under load: several minutes in all); those run with
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
# Benches whose quick run still costs too much for every run of the suite, each with why (CPU
# seconds of the quick run, its children included, measured on the 2-core VM): they run with
# LIFELOG_BENCH_SMOKE=all. Shrink a bench's --quick and take it off; the list may only shrink.
HEAVY: dict[str, str] = {
    "asr_rtf.py": "loads five Whisper configurations, openai-whisper on torch among them (25 CPU s on one sentence)",
    "audio_cpu.py": "five `lifelog record` runs with audio, each loading OCR, VAD and Whisper (21 CPU s + 16 s)",
    "code_exact.py": "xterm and Chromium on Xvfb, each screen read by full-page OCR twice, then timed A/B",
    "import_while_recording.py": "a recorder on Xvfb plus an import through its owner (13 CPU s, 64 s at load 16)",
    "layout_cost.py": "full-page OCR of 1920x1080 pages is what it times (22 CPU s at one run)",
    "mcp_latency.py": "the real daemon on Xvfb, an MCP session and CLI processes",
    "ocr_speed.py": "four OCR engines on full 1920x1080 pages, raw RapidOCR 20 CPU s a page (57 CPU s)",
    "owner_latency.py": "the real daemon records until OCR has stored the ticker (10-40 s under load), then CLI runs",
    "owner_load.py": "an owner recording on Xvfb under client processes (25 CPU s)",
    "soak.py": "the real daemon on Xvfb; its stop drains every kept frame through OCR (~70 s at load 11)",
}
ALL = os.environ.get("LIFELOG_BENCH_SMOKE") == "all"
# Benches whose material nobody here made is not in the repository, and where they look for it.
OUTSIDE_DATA: dict[str, Path] = {
    "conversations.py": Path(os.environ.get("LIFELOG_REALTALK", BENCH.parents[1] / "shared" / "testdata" / "realtalk")),
}


def test_every_bench_has_a_quick_run():
    missing = [name for name in BENCHES if "common.parse(" not in (BENCH / name).read_text()]
    assert set(missing) <= set(NO_QUICK_YET), "a bench without --quick: parse its arguments with common.parse"


@pytest.mark.parametrize("name", [n for n in BENCHES if n not in NO_QUICK_YET])
def test_the_bench_runs_quick(name, tmp_path):
    if name in HEAVY and not ALL:
        pytest.skip("a heavy bench: LIFELOG_BENCH_SMOKE=all runs it")
    if name in OUTSIDE_DATA and not any(OUTSIDE_DATA[name].glob("*.json")):
        pytest.skip(f"its material is not at {OUTSIDE_DATA[name]} (see the bench's docstring)")
    env = {**os.environ, "LIFELOG_HOME": str(tmp_path / "home"), "LIFELOG_BENCH_SCRATCH": str(tmp_path / "scratch")}
    done = subprocess.run(
        [sys.executable, str(BENCH / name), "--quick"],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=900 if name in HEAVY else 300,  # at load 13 ocr_speed's quick run (90 CPU s) took 300 s
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
