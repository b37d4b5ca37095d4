"""A small timeline of deploys for the digest and lesson tests: two days, two hours each of a
terminal and a browser, and a line the next morning (so every hour before it is summarised)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from lifelog.store import Store
from tests.support.writes import show

T0 = datetime(2026, 11, 2, 9, 0)  # a Monday


def deploys(home: Path) -> None:
    """Two days, two hours each of a terminal and a browser, and a line the next morning."""
    with Store(home / "lifelog.duckdb").write() as w:
        for day in range(2):
            for hour in range(2):
                start = T0 + timedelta(days=day, hours=hour)
                k = day * 2 + hour
                show(w, start, "XTerm", "bash: api", [f"ERROR deploy {k} failed: database migration 00{k} timed out"])
                show(
                    w,
                    start + timedelta(minutes=20),
                    "firefox",
                    "Runbook",
                    [f"Runbook step {k}: raise the lock timeout"],
                )
        show(w, T0 + timedelta(days=2), "XTerm", "bash: api", ["$ make deploy"])
        w.close_spans(T0 + timedelta(days=2, minutes=1))
