"""Every bench runs: each ``bench/*.py`` with ``--quick`` (tiny sizes, the whole path) exits 0 and
prints something, so a change that breaks a bench fails here rather than on the day its figure is
wanted. Figures from a quick run mean nothing; the real runs and their figures are in
BENCHMARKS.md.

The benches whose quick run still costs tens of CPU seconds (full-page OCR timed, five Whisper
configurations, owners under load) run in ``tests/test_bench_smoke_heavy.py``: a file of their own,
so that the suite's two workers (each a whole file) share them with the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.benches import BENCH, BENCHES, HEAVY, run_quick

# Benches that have no quick run yet, each with why: the list may only shrink.
NO_QUICK_YET: dict[str, str] = {}
# Benches whose material nobody here made is not in the repository: where they look for it, and
# the files they need there.
TESTDATA = BENCH.parents[1] / "shared" / "testdata"
OUTSIDE_DATA: dict[str, tuple[Path, str]] = {
    "conversations.py": (Path(os.environ.get("LIFELOG_REALTALK", TESTDATA / "realtalk")), "*.json"),
    "digest_events.py": (Path(os.environ.get("LIFELOG_REALTALK", TESTDATA / "realtalk")), "Chat_*.json"),
    "diarization.py": (TESTDATA, "speech-*/*.*"),
}


def test_every_bench_has_a_quick_run():
    missing = [name for name in BENCHES if "common.parse(" not in (BENCH / name).read_text()]
    assert set(missing) <= set(NO_QUICK_YET), "a bench without --quick: parse its arguments with common.parse"


def test_every_heavy_bench_exists():
    assert set(HEAVY) <= set(BENCHES), "HEAVY names a bench that is gone"


@pytest.mark.parametrize("name", [n for n in BENCHES if n not in NO_QUICK_YET and n not in HEAVY])
def test_the_bench_runs_quick(name, tmp_path):
    if name in OUTSIDE_DATA and not any(OUTSIDE_DATA[name][0].glob(OUTSIDE_DATA[name][1])):
        pytest.skip(f"its material is not at {OUTSIDE_DATA[name][0]} (see the bench's docstring)")
    run_quick(name, tmp_path, timeout_s=300)


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
