"""The benches whose quick run costs tens of CPU seconds by nature (``HEAVY`` in
``tests/support/benches.py``, each with why), run as ``tests/test_bench_smoke.py`` runs the rest:
``--quick`` exits 0 and prints something. They sit in a file of their own so that the suite's two
workers, each taking a whole file at a time, share them with the other files (about two minutes of
one core on a quiet 2-core VM)."""

from __future__ import annotations

import pytest

from tests.support.benches import HEAVY, run_quick


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_the_heavy_bench_runs_quick(name, tmp_path):
    run_quick(name, tmp_path, timeout_s=900)  # at load 13 ocr_speed's quick run (90 CPU s) took 300 s
