"""The last hour of a fresh timeline filled with text, for the benches that time an owner
(``owner_latency.py``, ``owner_load.py``): ``n`` spans of invoice-like lines spread over the
last 58 minutes, written as a lifelog JSONL file and merged by the import ``lifelog import``
uses, so they are stored, counted and indexed for search as any imported line is."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifelog.api import jsonl
from lifelog.api.timeline_file import import_jsonl
from lifelog.store import Store


def line(i: int) -> str:
    return (
        f"line {i} alpha{i % 97} beta{i % 1013} gamma{i % 7919} invoice {i % 10000} settled for account "
        f"{hashlib.md5(str(i).encode()).hexdigest()[:12]} of the quarterly report"
    )


def seed(db: Path, n: int) -> None:
    """``n`` text spans over the last 58 minutes of the timeline at ``db`` (created if new)."""
    store = Store(db)
    store.migrate()
    if not n:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    t0, step = now - timedelta(minutes=58), 3480 / n
    with tempfile.TemporaryDirectory(prefix="seeded-hour-") as folder:
        path = Path(folder) / "seed.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(jsonl.header_line({"seen": n, "heard": 0, "event": 0}, None, None, now))
            for i in range(n):
                start = t0 + timedelta(seconds=i * step)
                row = (start, start + timedelta(seconds=3), 0, "Firefox", "seeded", line(i), (i % 40) * 25, 0)
                fh.write(jsonl.row_line("seen", row))
        import_jsonl(store, path, name="seed.jsonl")
