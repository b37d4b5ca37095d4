"""The shared test helpers themselves: waiting for a condition returns its value or fails
naming what it waited for, early when the process it waits on has exited."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.wait import wait_for


def test_wait_for_returns_the_first_true_value():
    calls = iter([0, None, "", 7])
    assert wait_for(lambda: next(calls), timeout=10, what="a value", interval=0) == 7


def test_wait_for_names_what_it_waited_for_when_time_is_up():
    with pytest.raises(AssertionError, match="waiting for the moon"):
        wait_for(lambda: False, timeout=0, what="the moon")


def test_wait_for_stops_when_the_process_has_exited():
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child.wait()
    with pytest.raises(AssertionError, match="exited with status 3"):
        wait_for(lambda: False, timeout=60, what="a line", process=child)


def test_no_test_module_is_imported_by_another():
    """Shared pieces live in tests/support (or a folder's own helper module), never in a test_* module."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"^\s*(?:from|import)\s+tests\.[\w.]*\btest_\w+", re.M)
    offenders = [
        str(p.relative_to(root))
        for folder in ("tests", "bench")
        for p in sorted((root / folder).rglob("*.py"))
        if pattern.search(p.read_text())
    ]
    assert offenders == []
