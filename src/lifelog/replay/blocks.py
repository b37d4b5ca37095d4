"""Group text spans into blocks: what appeared in one window within a short stretch of time.

Spans already merge a line across identical consecutive frames. Blocks go further: a line
that was already shown for the same window earlier in the slice is not repeated (switching
back to a tab shows only what is new there), and lines are ordered as they appeared, top to
bottom within one moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lifelog.models import TextSpan, Transcript

BLOCK_GAP = timedelta(seconds=60)


@dataclass
class Block:
    ts: datetime
    monitor: int
    app: str
    window: str
    lines: list[str] = field(default_factory=list)
    kind: str = "seen"  # "seen" (screen text), "heard" (speech) or "event" (recording started/stopped)
    source: str = ""  # for heard blocks: mic, system or file

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.monitor, self.app, self.window)


def build_blocks(spans: list[TextSpan], since: datetime | None = None) -> list[Block]:
    """Spans (ordered by t_start, monitor, top, left) → blocks. Spans that began before
    ``since`` are placed at ``since``: they were on screen when the slice starts."""
    blocks: list[Block] = []
    shown: dict[tuple[int, str, str], set[str]] = {}
    current: Block | None = None
    for span in spans:
        ts = max(span.t_start, since) if since else span.t_start
        key = (span.monitor, span.app, span.window)
        seen = shown.setdefault(key, set())
        if span.text in seen:
            continue
        if current is None or current.key != key or ts - current.ts > BLOCK_GAP:
            current = Block(ts, span.monitor, span.app, span.window)
            blocks.append(current)
        current.lines.append(span.text)
        seen.add(span.text)
    return blocks


def transcript_blocks(transcripts: list[Transcript], since: datetime | None = None) -> list[Block]:
    """Speech, one line per cleaned Whisper segment, grouped by source while it keeps talking."""
    blocks: list[Block] = []
    for t in transcripts:
        ts = max(t.t_start, since) if since else t.t_start
        last = blocks[-1] if blocks else None
        if last is None or last.source != t.source or ts - last.ts > BLOCK_GAP:
            blocks.append(Block(ts, 0, "", "", [], kind="heard", source=t.source))
        blocks[-1].lines.append(t.text)
    return blocks


def event_blocks(events: list[dict]) -> list[Block]:
    """Recording starts and stops and gaps, so a window never pretends a silent hour was empty."""
    labels = {"record_start": "recording started", "record_stop": "recording stopped", "gap": "gap in capture",
              "import": "imported recording starts"}
    return [
        Block(e["ts"], 0, "", "", [labels[e["kind"]] + _gap_detail(e)], kind="event")
        for e in events
        if e["kind"] in labels
    ]


def _gap_detail(event: dict) -> str:
    """Why capture has a gap, from the event's detail (empty for other events)."""
    detail = event.get("detail") or {}
    if event["kind"] != "gap":
        return ""
    if detail.get("reason") == "ocr_behind":
        until, shed = str(detail.get("until", ""))[11:19], detail.get("frames_shed", 0)
        return (f" until {until}: {shed} screen change{'' if shed == 1 else 's'} not read "
                "(text recognition was behind)")
    if detail.get("reason") == "capture_failed":
        return f": screen capture stopped ({detail.get('error', 'unknown error')})"
    return ""


def merge_chronological(*streams: list[Block]) -> list[Block]:
    merged = [b for s in streams for b in s]
    merged.sort(key=lambda b: (b.ts, b.kind != "event", b.kind, b.monitor, b.app, b.window, b.source))
    return merged
