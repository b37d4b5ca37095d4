"""Lifelog JSONL files written for tests through the format's own writer (``lifelog.api.jsonl``),
as ``lifelog export`` would write them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from lifelog.api import jsonl

DAY = datetime(2026, 1, 5, 9, 0)  # the exported day, long before the rows the tests write "live"
NOW = datetime(2026, 3, 2, 9, 0)  # when it was exported


def write_export(path: Path, spans: int, *, word: str = "imported") -> dict[str, int]:
    """A lifelog JSONL file of ``spans`` spans (one second apart), a transcript per 100, an event."""
    rows = []
    for i in range(spans):
        t = DAY + timedelta(seconds=i)
        rows.append(
            (
                "seen",
                (t, t + timedelta(seconds=1), 0, "Code", "notes.md", f"{word} line {i} of the file", 10 * (i % 50), 0),
            )
        )
        if i % 100 == 0:
            rows.append(("heard", (t, t + timedelta(seconds=2), "mic", "faster-whisper", f"{word} words {i}")))
    rows.append(("event", (DAY, "record_start", None)))
    counts = {k: sum(kind == k for kind, _ in rows) for k in jsonl.KINDS}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(jsonl.header_line(counts, None, None, NOW))
        fh.writelines(jsonl.row_line(kind, row) for kind, row in rows)
    return counts
