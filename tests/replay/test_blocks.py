"""Blocks show lines as they were laid out: windows apart, columns one after the other, code
indented, a blank line between paragraphs and a heading marked; through a real timeline."""

from __future__ import annotations

from datetime import datetime

from lifelog.models import OcrLine
from lifelog.replay.blocks import build_blocks
from lifelog.replay.context import build_context
from lifelog.store import Store
from tests.support.rows import seen_rows
from tests.support.writes import show

T0 = datetime(2026, 11, 24, 9, 0, 0)


def test_a_frame_read_in_layout_order_renders_as_shown(tmp_path):
    store = Store(tmp_path / "t.duckdb")
    store.migrate()
    read = [  # as the layout step hands them over: reading order, leads, windows
        ("Release notes", "# ", "firefox", "Notes"),
        ("Faster startup on older phones.", "\n", "firefox", "Notes"),
        ("Three crashes fixed.", "\n", "firefox", "Notes"),
        ("def load(self):", "", "XTerm", "ledger.py"),
        ("rows = []", "    ", "XTerm", "ledger.py"),
        ("return rows", "\n    ", "XTerm", "ledger.py"),
    ]
    lines = [
        OcrLine(
            text,
            (900 if app == "XTerm" else 10, 30 * (5 - i), 1800, 30 * (5 - i) + 20),
            ord=i,
            lead=lead,
            app=app,
            window=title,
        )
        for i, (text, lead, app, title) in enumerate(read)
    ]
    with store.write() as w:
        show(w, T0, "XTerm", "ledger.py", lines)
    with store.read() as r:
        blocks = build_blocks(seen_rows(r, None, None))
        window = build_context(r, since=None, until=None, budget=4000).text
    assert [(b.app, b.window, b.lines) for b in blocks] == [
        ("firefox", "Notes", ["# Release notes", "\nFaster startup on older phones.", "\nThree crashes fixed."]),
        ("XTerm", "ledger.py", ["def load(self):", "    rows = []", "\n    return rows"]),
    ]
    assert (
        "· seen · firefox — Notes\n# Release notes\n\nFaster startup on older phones.\n\nThree crashes fixed.\n\n"
        "### 09:00:00 · seen · XTerm — ledger.py\ndef load(self):\n    rows = []\n\n    return rows\n"
    ) in window
