"""``lifelog export --format markdown``: a day log a person reads, from the export stream every
client gets (``timeline.export_jsonl``, through the owner or from the file).

Per UTC day and hour, in time order: each stay in a window (app and title) with the lines read
there that the day had not shown yet (a line on screen for an hour, or seen again after a
switch, is listed once; at most ``MAX_LINES`` per stay), what was heard and from where (a source
that keeps talking is one entry), and the events: recording started or stopped, gaps and why
(paused, excluded window, recorder down), questions asked. Times are UTC, like every rendering
of the timeline (``replay/render.py``). The format is described in docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lifelog.api.export_days import lines as stream_lines
from lifelog.api.jsonl import KINDS, parse_row
from lifelog.errors import BadLine, LifelogError
from lifelog.replay.blocks import BLOCK_GAP, SPEAKER_SEP, gap_label, heard_from

TITLE = "# Day log (lifelog; times UTC)"
MAX_LINES = 20  # new lines listed per stay in a window; the rest are counted
EVENT_LABELS = {"record_start": "recording started", "record_stop": "recording stopped", "import": "imported recording"}
_decode = json.JSONDecoder().decode
_MARKUP_START = re.compile(r"^(?:[#>+*|-]|\d+[.)])")


@dataclass
class Entry:
    """One item of an hour: a stay in a window, a stretch heard, or an event."""

    ts: datetime
    kind: str  # seen, heard, event
    title: str
    lines: list[str] = field(default_factory=list)
    more: int = 0  # new lines not listed (over MAX_LINES)
    key: tuple = ()
    last: datetime | None = None


@dataclass
class DayLog:
    since: datetime | None = None
    entries: list[Entry] = field(default_factory=list)
    shown: set[tuple] = field(default_factory=set)  # (day, text) of lines already listed

    def add(self, kind: str, row: tuple) -> None:
        ts = max(row[0], self.since) if self.since else row[0]
        if kind == "seen":
            self._seen(ts, row)
        elif kind == "heard":
            self._heard(ts, row)
        else:
            self.entries.append(Entry(ts, "event", event_label(ts, row[1], row[2])))

    def _seen(self, ts: datetime, row: tuple) -> None:
        app, window, text = row[3], row[4], row[5]
        key = ("seen", ts.date(), ts.hour, app, window)
        last = self.entries[-1] if self.entries else None
        if last is None or last.key != key:
            title = f"**{plain(app) or 'unknown app'}**" + (f" · {plain(window)}" if window else "")
            last = Entry(ts, "seen", title, key=key)
            self.entries.append(last)
        text = " ".join(text.split())
        if not text or (ts.date(), text) in self.shown:
            return
        self.shown.add((ts.date(), text))
        if len(last.lines) < MAX_LINES:
            last.lines.append(plain(text))
        else:
            last.more += 1

    def _heard(self, ts: datetime, row: tuple) -> None:
        source, text = row[2], " ".join(row[4].split())
        if len(row) > 6 and row[6]:
            source = f"{source}{SPEAKER_SEP}{row[6]}"
        key = ("heard", ts.date(), ts.hour, source)
        last = self.entries[-1] if self.entries else None
        if last is None or last.key != key or last.last is None or ts - last.last > BLOCK_GAP:
            last = Entry(ts, "heard", f"heard ({plain(heard_from(source))})", key=key)
            self.entries.append(last)
        last.last = ts
        if text:
            last.lines.append(plain(text))

    def render(self) -> str:
        out = [TITLE]
        day = hour = None
        for e in self.entries:
            if e.ts.date() != day:
                day, hour = e.ts.date(), None
                out.append(f"\n## {e.ts:%Y-%m-%d, %A}")
            if e.ts.hour != hour:
                hour = e.ts.hour
                out.append(f"\n### {e.ts:%H}:00–{(e.ts + timedelta(hours=1)):%H}:00\n")
            out.append(render_entry(e))
        return "\n".join(out) + "\n"


def render_entry(e: Entry) -> str:
    if e.kind == "heard":
        return f"- {e.ts:%H:%M} {e.title}: " + " ".join(e.lines)
    out = [f"- {e.ts:%H:%M} {e.title}"]
    out.extend(f"  - {text}" for text in e.lines)
    if e.more:
        out.append(f"  - … {e.more:,} more line{'' if e.more == 1 else 's'} (`lifelog context` shows them all)")
    return "\n".join(out)


def event_label(ts: datetime, kind: str, detail: str | None) -> str:
    """What an event says in a day log: ``gap 10:02:00–10:31:00 · paused``."""
    data = json.loads(detail) if detail else {}
    if kind == "gap":
        return gap_label({"ts": ts, "kind": kind, "detail": data}).strip("[]")
    if kind == "ask":
        return f"asked {plain(str(data.get('model') or 'a model'))}: {plain(str(data.get('question', '')))}"
    if kind in EVENT_LABELS:
        return EVENT_LABELS[kind]
    compact = json.dumps(data, ensure_ascii=False, separators=(", ", ": ")) if data else ""
    return plain(f"{kind} {compact if len(compact) <= 80 else compact[:79] + '…'}".strip())


def plain(text: str) -> str:
    """``text`` on one line, shown as itself in Markdown: no heading, quote, list or HTML."""
    text = " ".join(text.split()).replace("<", "&lt;")
    return "\\" + text if _MARKUP_START.match(text) else text


def day_log(chunks: Iterable[bytes], since: datetime | None = None) -> tuple[str, int]:
    """The Markdown day log of an export stream and how many entries it holds; rows that began
    before ``since`` are placed at ``since`` (they were on screen when the range starts)."""
    log = DayLog(since=since)
    for line in stream_lines(chunks):
        kind, row = _row(line)
        if kind in KINDS:  # (digests and lessons are no part of a day log)
            log.add(kind, row)
    return log.render(), len(log.entries)


def _row(line: bytes) -> tuple[str, tuple]:
    """A line as ``(kind, row)`` (``store.exchange``'s tuple, as far as the day log reads it): a
    seen or heard line as lifelog writes it read directly, any other through the format's own
    reader; a span stored ending before it starts (which an import would refuse) is shown at its
    start."""
    try:
        obj = _decode(line.decode("utf-8"))
        kind = obj["type"]
        if kind == "seen" and _texts(obj.get("app", ""), obj.get("window", ""), obj["text"]):
            return kind, (_utc(obj["t_start"]), None, 0, obj.get("app", ""), obj.get("window", ""), obj["text"])
        if kind == "heard" and _texts(obj["source"], obj["text"]):
            return kind, (_utc(obj["t_start"]), None, obj["source"], "", obj["text"])
    except (KeyError, TypeError, ValueError):
        pass
    return _checked_row(line)


def _texts(*values) -> bool:
    return all(type(v) is str for v in values)


def _utc(value: str) -> datetime:
    """``2026-11-29T10:00:00.5Z`` (how lifelog writes times) as naive UTC; ValueError otherwise."""
    ts = datetime.fromisoformat(value[:-1]) if value.endswith("Z") else None
    if ts is None or ts.tzinfo is not None:
        raise ValueError(value)
    return ts


def _checked_row(line: bytes) -> tuple[str, tuple]:
    try:
        obj = json.loads(line)
        try:
            return parse_row(obj)
        except BadLine:
            if not isinstance(obj, dict) or "t_start" not in obj:
                raise
            return parse_row({**obj, "t_end": obj["t_start"]})
    except (BadLine, ValueError) as exc:
        raise LifelogError(f"The export stream holds a bad row: {exc}.") from None
