"""Waiting in tests for a condition, not for a length of time.

    wait_for(lambda: worker.report is not None, timeout=60, what="the first retention pass")

polls ``predicate`` until it returns something true and returns that, or fails naming ``what``
once ``timeout`` seconds have passed. With ``process`` (a ``subprocess.Popen``), it fails as soon
as that process has exited, with its exit code, instead of waiting out the timeout.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    interval: float = 0.1,
    process: subprocess.Popen | None = None,
) -> T:
    """``predicate()``'s first true value, polled every ``interval`` s for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"waiting for {what}: the process exited with status {process.returncode}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
