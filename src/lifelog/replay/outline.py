"""Outlines: what does not fit at full detail is represented, not dropped in silence.

An outline block stands for one hour (or, coarser, one day or week) of activity: the windows where the
time went, how many lines each showed and the first line shown there (usually a heading or the
start of a new document); who spoke and for how long; gaps and recording starts and stops. It
reads like a person's own notes of the day, at a few dozen tokens an hour. Where a digest
covers an hour, day or week whole (``replay/digest.py``: where the time went, who spoke and the
most salient lines, with their times), the block is that digest instead: what happened, not
only where.

A window's time counts from each moment it showed a change until the next change anywhere in
the hour, at least one second and at most five minutes; a day is the sum of its hours. The same figures come from two
places that must agree: lines held in memory (the stretch a window cuts into, :class:`Outliner`)
and the database's aggregates for the stretch before it (``Reader.outline_rows``, so a month of
history is outlined without being read line by line); ``tests/replay/test_outline.py`` holds
them to each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lifelog.replay.blocks import Block, heard_from
from lifelog.store.digests import SPAN, start_of

TOP_WINDOWS = 6  # windows named per outline block; the rest are counted
FOCUS_CAP = 300.0  # seconds: a window counts as in use until the next change, at most this long
FIRST_LINE_CHARS = 60
PERIOD = SPAN  # an hour, a day, a week: the periods digests cover too
bucket_start = start_of  # the start of the hour, day or week (Monday) holding a time


@dataclass
class Tally:
    """What one hour or day held, before it is written as an outline block."""

    start: datetime
    per: str
    seconds: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    lines: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    first: dict[tuple[str, str], str] = field(default_factory=dict)
    heard: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # source -> minutes
    events: list[str] = field(default_factory=list)
    digest: list[str] | None = None  # its digest's lines (``replay/digest.py``), when one covers it whole

    def merge(self, later: Tally, per: str | None = None) -> Tally:
        """This tally followed by ``later`` (of the same hour, or the next hours of a day)."""
        out = Tally(self.start, per or self.per)
        for t in (self, later):
            for place, seconds in t.seconds.items():
                out.seconds[place] += seconds
            for place, n in t.lines.items():
                out.lines[place] += n
            for place, text in t.first.items():
                out.first.setdefault(place, text)
            for source, n in t.heard.items():
                out.heard[source] += n
            out.events += [e for e in t.events if e not in out.events]
        return out

    def block(self) -> Block:
        if self.digest:
            return Block(self.start, 0, "", "", [*self.digest, *self.events], kind="digest", source=self.per)
        ranked = sorted(self.seconds, key=lambda k: (-self.seconds[k], k))
        parts = [
            f"{_where(k)} {_minutes(self.seconds[k])}, {self.lines[k]} lines: {_clip(self.first[k])}"
            for k in ranked[:TOP_WINDOWS]
        ]
        if len(ranked) > TOP_WINDOWS:
            rest = sum(self.lines[k] for k in ranked[TOP_WINDOWS:])
            parts.append(f"{len(ranked) - TOP_WINDOWS} more windows, {rest} lines")
        parts += [f"heard ({heard_from(src)}) in {n} min" for src, n in sorted(self.heard.items())]
        parts += self.events
        return Block(self.start, 0, "", "", ["; ".join(parts) or "nothing shown"], kind="outline", source=self.per)


def tally_lines(start: datetime, lines: list[tuple]) -> Tally:
    """The tally of one hour from lines held in memory: ``(ts, kind, app, window, text,
    first_of_block)`` in the order the window shows them."""
    t = Tally(start, "hour")
    instants = sorted({(ts, app, window) for ts, kind, app, window, *_ in lines if kind == "seen"})
    end = start + PERIOD["hour"]
    for i, (ts, app, window) in enumerate(instants):
        upto = instants[i + 1][0] if i + 1 < len(instants) else end
        t.seconds[(app, window)] += min(FOCUS_CAP, max(1.0, (upto - ts).total_seconds()))
    minutes: dict[str, set[datetime]] = defaultdict(set)
    for ts, kind, app, window, text, first in lines:
        if kind == "seen":
            t.lines[(app, window)] += 1
            t.first.setdefault((app, window), text)
        elif kind == "heard":
            minutes[app].add(ts.replace(second=0, microsecond=0))
        elif first and text not in t.events:
            t.events.append(text)
    t.heard.update({src: len(m) for src, m in minutes.items()})
    return t


def tally_rows(rows: dict, events: list[Block]) -> list[Tally]:
    """Hour tallies from the database's aggregates (``Reader.outline_rows``) and the event
    blocks of the same stretch, in time order."""
    by: dict[datetime, Tally] = {}

    def get(b: datetime) -> Tally:
        return by.setdefault(b, Tally(b, "hour"))

    for b, app, window, seconds, lines, first in rows["seen"]:
        t = get(b)
        t.seconds[(app, window)] += float(seconds)
        t.lines[(app, window)] += int(lines)
        t.first.setdefault((app, window), first)
    for b, source, minutes in rows["heard"]:
        get(b).heard[source] += int(minutes)
    for e in events:
        t = get(bucket_start(e.ts, "hour"))
        if e.lines and e.lines[0] not in t.events:
            t.events.append(e.lines[0])
    return [by[b] for b in sorted(by)]


def per_period(hours: list[Tally], per: str = "day") -> list[Tally]:
    """Hour tallies (time order) summed into day (or week) tallies."""
    out: list[Tally] = []
    for t in hours:
        start = bucket_start(t.start, per)
        if out and out[-1].start == start:
            out[-1] = out[-1].merge(t, per)
        else:
            out.append(Tally(start, per).merge(t, per))
    return out


def coarsen(hours: list[Tally], per: str | None, digests: dict | None = None) -> list[Tally]:
    """The tallies by ``per`` (hour, day or week); with ``digests`` (``{(level, start): lines}``,
    only of hours, days and weeks that lie whole in the range read), each tally a digest covers
    is shown as that digest."""
    tallies = per_period(hours, per) if per in ("day", "week") else hours
    if digests is not None:
        for t in tallies:
            t.digest = digests.get((t.per, t.start))
    return tallies


class Outliner:
    """Hour tallies of any leading part of a window's lines. ``lines`` are ``(ts, kind, app,
    window, text, first_of_block)`` in window order; an hour's lines need not be contiguous (a
    block begun at 10:59 may run past 11:00). Whole hours are tallied once and kept, so
    outlining a prefix costs the one or two hours it cuts; ``estimate=True`` counts a cut hour
    whole, which is close and free: enough for the budget search's estimates."""

    def __init__(self, lines: list[tuple]) -> None:
        self.lines: list[tuple] | None = lines
        self._tally: Callable[[datetime, list[int]], Tally] = self._tally_lines
        self.members: dict[datetime, list[int]] = defaultdict(list)
        hour = end = None
        for i, line in enumerate(lines):
            if hour is None or not hour <= line[0] < end:  # lines mostly come in time order
                hour = bucket_start(line[0], "hour")
                end = hour + PERIOD["hour"]
            self.members[hour].append(i)
        self.hours = sorted(self.members)
        self._whole: dict[datetime, Tally] = {}

    @classmethod
    def grouped(cls, members: dict[datetime, list[int]], tally) -> Outliner:
        """An outliner of lines held elsewhere, already grouped by hour: ``members`` maps each
        hour to the indices of its lines, ascending, and ``tally(hour, indices)`` gives what
        ``tally_lines`` would for those lines."""
        self = cls.__new__(cls)
        self.lines, self.members, self._tally = None, members, tally
        self.hours = sorted(members)
        self._whole = {}
        return self

    def _tally_lines(self, hour: datetime, idx: list[int]) -> Tally:
        lines = self.lines or []  # (set whenever this tallies: grouped() gives its own)
        return tally_lines(hour, [lines[i] for i in idx])

    def prefix(self, n: int, *, estimate: bool = False) -> list[Tally]:
        """Hour tallies of ``lines[:n]``, one per hour it touches, in time order."""
        out = []
        for b in self.hours:
            idx = self.members[b]
            if idx[0] >= n:
                continue
            if idx[-1] < n or estimate:
                if b not in self._whole:
                    self._whole[b] = self._tally(b, idx)
                out.append(self._whole[b])
            else:
                out.append(self._tally(b, [i for i in idx if i < n]))
        return out


def digest_lines(reader, since: datetime | None, upto: datetime | None) -> dict:
    """``{(level, start): lines}`` of the digests that cover only time in [since, upto): one
    that begins before ``since`` counts when nothing was recorded between its start and
    ``since`` (a day digest for a range that starts at 09:00, the day's first line)."""
    found = reader.digests(None if since is None else since - PERIOD["week"], upto)
    quiet: dict[datetime, bool] = {}
    out = {}
    for d in found:
        if upto is not None and d.end > upto or since is not None and d.end <= since:
            continue
        if since is not None and d.start < since:
            if d.start not in quiet:
                quiet[d.start] = reader.outline_totals(d.start, since)[0] == 0
            if not quiet[d.start]:
                continue
        out[(d.level, d.start)] = d.text.split("\n")
    return out


def join(older: list[Tally], recent: list[Tally], per: str) -> list[Block]:
    """Outline blocks by ``per`` of two stretches of hours, one after the other (an hour both
    touch is one)."""
    if older and recent and older[-1].start == recent[0].start:
        older = [*older[:-1], older[-1].merge(recent[0])]
        recent = recent[1:]
    return [t.block() for t in coarsen([*older, *recent], per)]


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _where(key: tuple[str, str]) -> str:
    return " — ".join(p for p in key if p) or "unknown window"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= FIRST_LINE_CHARS else f'"{text[: FIRST_LINE_CHARS - 1]}…"'
