"""Group text spans into blocks: what appeared in one window within a short stretch of time.

Spans already merge a line across identical consecutive frames. Blocks keep every line, ordered
as they appeared, top to bottom within one moment; the context builder then leaves out a line
already shown for the same window earlier *in the window it emits* (switching back to a tab
shows only what is new there), so a repeat is dropped only while its first showing is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lifelog.store.rows import HeardRow, SeenRow

BLOCK_GAP = timedelta(seconds=60)
HEARD_FROM = {"mic": "microphone", "system": "system audio", "file": "imported recording"}
SPEAKER_SEP = " · "  # a heard row's source as read for a window: "system · Dana" (``store/voices.py``)


def heard_from(source: str, speaker: str = "") -> str:
    """Where speech came from, for people: ``system audio · Dana``; ``source`` may carry the
    speaker already (``system · Dana``, as windows read it)."""
    source, _, told = source.partition(SPEAKER_SEP)
    speaker = speaker or told
    where = HEARD_FROM.get(source, source)
    return f"{where}{SPEAKER_SEP}{speaker}" if speaker else where


@dataclass
class Block:
    ts: datetime
    monitor: int
    app: str
    window: str
    lines: list[str] = field(default_factory=list)
    kind: str = "seen"  # "seen" (screen text), "heard" (speech), "event", "asked" (a model) or "outline"
    source: str = ""  # heard: mic, system or file; outline: hour or day; asked: the model
    times: list[datetime] = field(default_factory=list)  # when each line appeared (empty: ``ts``)

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.monitor, self.app, self.window)


def build_blocks(spans: Iterable[SeenRow], since: datetime | None = None) -> list[Block]:
    """Seen rows in reading order (start, monitor, then their order on screen) → blocks, every line kept (the context builder decides which
    repeats to leave out, after it has cut to the budget). Spans that began before ``since`` are
    placed at ``since``: they were on screen when the slice starts. A line's text may begin with
    what goes before it when shown (``text_spans.lead``): a newline, kept inside a block as the
    blank line between paragraphs or columns, is dropped at a block's start."""
    blocks: list[Block] = []
    current: Block | None = None
    for t_start, monitor, app, window, text, _ in spans:
        ts = max(t_start, since) if since else t_start
        if (
            current is None
            or current.monitor != monitor
            or current.app != app
            or current.window != window
            or ts - current.ts > BLOCK_GAP
        ):
            current = Block(ts, monitor, app, window)
            blocks.append(current)
        current.lines.append(text if current.lines else text.lstrip("\n"))
        current.times.append(ts)
    return blocks


def transcript_blocks(transcripts: Iterable[HeardRow], since: datetime | None = None) -> list[Block]:
    """Heard rows, one line per cleaned Whisper segment, grouped by source while it keeps
    talking."""
    blocks: list[Block] = []
    for t_start, source, text, _ in transcripts:
        ts = max(t_start, since) if since else t_start
        last = blocks[-1] if blocks else None
        if last is None or last.source != source or ts - last.ts > BLOCK_GAP:
            blocks.append(Block(ts, 0, "", "", [], kind="heard", source=source))
        blocks[-1].lines.append(text)
        blocks[-1].times.append(ts)
    return blocks


def event_blocks(events: list[dict]) -> list[Block]:
    """Recording starts and stops and gaps, so a window never pretends a silent hour was empty."""
    labels = {
        "record_start": "recording started",
        "record_stop": "recording stopped",
        "import": "imported recording starts",
    }
    out = []
    for e in events:
        if e["kind"] == "ask":  # a question put to a model about this timeline, and its answer
            detail = e.get("detail") or {}
            lines = [f"Q: {detail.get('question', '')}", *f"A: {detail.get('answer', '')}".splitlines()]
            out.append(Block(e["ts"], 0, "", "", lines, kind="asked", source=detail.get("model", "")))
        elif e["kind"] == "call":
            out.append(Block(e["ts"], 0, "", "", [call_label(e)], kind="event"))
        elif e["kind"] in labels or e["kind"] == "gap":
            out.append(
                Block(e["ts"], 0, "", "", [gap_label(e) if e["kind"] == "gap" else labels[e["kind"]]], kind="event")
            )
    return out


def call_label(event: dict) -> str:
    """``call with Dana and Speaker 3 (14:02–14:47, 45 min, system audio)``: a stretch of
    speech in which two or more voices spoke (``store/voices.py``)."""
    detail = event.get("detail") or {}
    speakers = list(detail.get("speakers") or ["unknown voices"])
    who = ", ".join(speakers[:-1]) + " and " + speakers[-1] if len(speakers) > 1 else speakers[0]
    until = str(detail.get("until") or "")[11:16]
    try:
        minutes = round(
            (datetime.fromisoformat(str(detail["until"]).replace("Z", "")) - event["ts"]).total_seconds() / 60
        )
    except (KeyError, ValueError, TypeError):
        minutes = 0
    where = HEARD_FROM.get(detail.get("source", ""), detail.get("source", ""))
    return f"call with {who} ({event['ts']:%H:%M}–{until}, {minutes} min, {where})"


def gap_label(event: dict) -> str:
    """``[gap 10:02:00–10:31:00 · paused]``: when capture had a gap, and why."""
    detail = event.get("detail") or {}
    until = str(detail.get("until") or "")[11:19]
    span = f"{event['ts']:%H:%M:%S}–{until}" if until else f"from {event['ts']:%H:%M:%S}"
    reason = detail.get("reason", "")
    if reason == "ocr_behind":
        shed = detail.get("frames_shed", 0)
        reason = f"{shed} screen change{'' if shed == 1 else 's'} not read: text recognition was behind"
    elif reason == "excluded":  # capture/exclude.py: no title is ever stored
        reason = "sound not kept: excluded window focused" if detail.get("sound") else "excluded window"
    elif reason == "capture_failed":
        reason = f"screen capture stopped: {detail.get('error', 'unknown error')}"
    return f"[gap {span} · {reason or 'not recorded'}]"


def merge_chronological(*streams: list[Block]) -> list[Block]:
    """Blocks of every stream by time; at one moment events first, then by kind and monitor,
    and blocks of one stream keep their order (windows seen at once stay in reading order)."""
    merged = [b for s in streams for b in s]
    merged.sort(key=lambda b: (b.ts, b.kind != "event", b.kind, b.monitor, b.source))
    return merged
