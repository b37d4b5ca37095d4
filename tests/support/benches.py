"""Running a bench's ``--quick`` (tiny sizes, the whole path) the way the bench smoke tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
LIBRARIES = {"common.py"}  # imported by the benches, not run
# Benches whose quick run costs tens of CPU seconds by nature, each with why (CPU seconds of the
# quick run, its children included, measured on the 2-core VM): tests/test_bench_smoke_heavy.py runs
# them, a file of their own so that the suite's two workers share them with the rest. Shrink a
# bench's --quick and move it back to the light ones.
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
BENCHES = sorted(p.name for p in BENCH.glob("*.py") if p.name not in LIBRARIES)


def run_quick(name: str, tmp_path: Path, timeout_s: float, *args: str) -> str:
    """Run ``bench/NAME --quick [ARGS]`` with a home and scratch folder of its own under
    ``tmp_path``; fail unless it exits 0 and prints something; its stdout."""
    env = {**os.environ, "LIFELOG_HOME": str(tmp_path / "home"), "LIFELOG_BENCH_SCRATCH": str(tmp_path / "scratch")}
    done = subprocess.run(
        [sys.executable, str(BENCH / name), "--quick", *args],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, f"{name} --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (done.stdout + done.stderr).strip(), f"{name} --quick printed nothing"
    return done.stdout
