"""Outlines: what does not fit at full detail is represented, not dropped in silence.

An outline block stands for one hour (or, coarser, one day) of activity: the windows where the
time went (a window counts from each change it showed until the next change anywhere, at most
five minutes), how many lines it showed and the first line shown
there (usually a heading or the start of a new document); who spoke and for how long; gaps and
recording starts and stops. It reads like a person's own notes of the day, at a few dozen
tokens an hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from lifelog.replay.blocks import HEARD_FROM, Block

TOP_WINDOWS = 6  # windows named per outline block; the rest are counted
FOCUS_CAP = timedelta(minutes=5)  # a window counts as in use until the next change, at most this long
FIRST_LINE_CHARS = 60


def bucket_start(ts: datetime, per: str) -> datetime:
    if per == "day":
        return ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return ts.replace(minute=0, second=0, microsecond=0)


class Outliner:
    """The outline of any leading part of ``blocks`` (time order), by hour or by day. Whole
    hours are summarised once and kept, so outlining a prefix costs the hours it spans plus
    the one it cuts: cheap enough to try at every step of the budget search."""

    def __init__(self, blocks: list[Block], per: str) -> None:
        self.per = per
        self.blocks = blocks
        self.bucket: list[int] = []  # bucket index of each block
        self.starts: list[datetime] = []
        self.first: list[int] = []  # index of each bucket's first block
        for i, b in enumerate(blocks):
            start = bucket_start(b.ts, per)
            if not self.starts or self.starts[-1] != start:
                self.starts.append(start)
                self.first.append(i)
            self.bucket.append(len(self.starts) - 1)
        self._whole: dict[int, Block] = {}

    def prefix(self, whole_blocks: int, partial: Block | None = None) -> list[Block]:
        """The outline of ``blocks[:whole_blocks]`` plus the head of the next (``partial``)."""
        if whole_blocks == 0 and partial is None:
            return []
        last = self.bucket[whole_blocks] if partial is not None else self.bucket[whole_blocks - 1]
        out = [self._summary(i) for i in range(last)]
        members = self.blocks[self.first[last]:whole_blocks] + ([partial] if partial is not None else [])
        ends_bucket = partial is None and (whole_blocks == len(self.blocks) or self.bucket[whole_blocks] != last)
        out.append(self._summary(last) if ends_bucket else summarise(self.starts[last], members, self.per))
        return out

    def _summary(self, i: int) -> Block:
        if i not in self._whole:
            end = self.first[i + 1] if i + 1 < len(self.first) else len(self.blocks)
            self._whole[i] = summarise(self.starts[i], self.blocks[self.first[i]:end], self.per)
        return self._whole[i]


def summarise(start: datetime, blocks: list[Block], per: str) -> Block:
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    lines: dict[tuple[str, str], int] = defaultdict(int)
    first: dict[tuple[str, str], str] = {}
    heard: dict[str, set[datetime]] = defaultdict(set)
    events: list[str] = []
    end = start + (timedelta(days=1) if per == "day" else timedelta(hours=1))
    for i, b in enumerate(blocks):
        if b.kind == "seen":
            key = (b.app, b.window)
            upto = blocks[i + 1].ts if i + 1 < len(blocks) else end  # on screen until the next thing happened
            seconds[key] += max(1.0, min((upto - b.ts).total_seconds(), FOCUS_CAP.total_seconds()))
            lines[key] += len(b.lines)
            first.setdefault(key, b.lines[0] if b.lines else "")
        elif b.kind == "heard":
            heard[b.source].add(b.ts.replace(second=0, microsecond=0))
        elif b.lines and b.lines[0] not in events:
            events.append(b.lines[0])
    ranked = sorted(seconds, key=lambda k: (-seconds[k], k))
    parts = [f"{_where(k)} {_minutes(seconds[k])}, {lines[k]} lines: {_clip(first[k])}" for k in ranked[:TOP_WINDOWS]]
    if len(ranked) > TOP_WINDOWS:
        parts.append(f"{len(ranked) - TOP_WINDOWS} more windows, {sum(lines[k] for k in ranked[TOP_WINDOWS:])} lines")
    parts += [f"heard ({HEARD_FROM.get(src, src)}) in {len(m)} min" for src, m in sorted(heard.items())]
    parts += events
    return Block(start, 0, "", "", ["; ".join(parts) or "nothing shown"], kind="outline", source=per)


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _where(key: tuple[str, str]) -> str:
    return " — ".join(p for p in key if p) or "unknown window"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= FIRST_LINE_CHARS else f'"{text[:FIRST_LINE_CHARS - 1]}…"'
