"""The benches whose quick run costs tens of CPU seconds by nature (``HEAVY`` in
``tests/support/benches.py``, each with why), run as ``tests/test_bench_smoke.py`` runs the rest:
``--quick`` exits 0 and prints something. They sit in a file of their own so that the suite's two
workers, each taking a whole file at a time, share them with the other files (about two minutes of
one core on a quiet 2-core VM)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from lifelog.replay.local_model import smollm2
from tests.support.benches import BENCH, HEAVY, run_quick

REALTALK = os.environ.get("LIFELOG_REALTALK", str(BENCH.parents[1] / "shared" / "testdata" / "realtalk"))


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_the_heavy_bench_runs_quick(name, tmp_path):
    run_quick(name, tmp_path, timeout_s=900)  # at load 13 ocr_speed's quick run (90 CPU s) took 300 s


def _smollm2() -> str:
    """SmolLM2-135M (never the local-model extra's 1.5B: a quick run stays quick)."""
    if importlib.util.find_spec("llama_cpp") is None or smollm2() is None:
        pytest.skip("llama.cpp's server or SmolLM2's weights are not installed (scripts/install.sh --test)")
    return str(smollm2())


def test_digests_by_the_local_model_run_quick(tmp_path):
    out = run_quick("digests.py", tmp_path, 900, "--model", "local", "--gguf", _smollm2())
    assert "local:SmolLM2-135M-Instruct.Q4_1" in out and "| server (nice 19, one thread) |" in out


def test_events_mentioned_by_the_local_models_digests_run_quick(tmp_path):
    if not list(Path(REALTALK).glob("Chat_*.json")):
        pytest.skip(f"REALTALK is not at {REALTALK} (see bench/digest_events.py)")
    out = run_quick("digest_events.py", tmp_path, 900, "--data", REALTALK, "--model", "local", "--gguf", _smollm2())
    assert "model day digest %" in out and "s CPU in its server" in out
