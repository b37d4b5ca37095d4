"""``context --query``: full detail where the question is answered, the rest as an outline.

The timeline is ranked in *chunks*, one minute of one window seen or of one audio source heard
(``rank.py``).

Each ranked chunk goes in alone: the units seen that hold the lines the words matched, whole (a
chat message, a paragraph, a command with its output: :func:`units`), with their window's header
(a dense minute of one window costs up to ~4k tokens, its matches ~100), or one source's speech
in that minute; and after every four (per part of the
question) the next best is widened to its whole minute, every window and source, and two
minutes either side, so an answer spread over what was seen and heard around it comes along
(unless that alone would take over half the budget); stretches that overlap merge.

The window is then: an outline of the whole range (per hour when that takes at most a quarter
of the budget, else per day, else none), and as many of the best stretches at full detail as
fit, all in time order. The number of stretches is found on estimates (stored token counts)
and settled by exact counts of the rendered text, like the cut of a window without a query.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

import numpy as np

from lifelog.replay import render
from lifelog.replay.blocks import (
    SPEAKER_SEP,
    Block,
    build_blocks,
    event_blocks,
    merge_chronological,
    transcript_blocks,
)
from lifelog.replay.fit import ContextWindow, Lines, json_counted, smallest_fitting
from lifelog.replay.outline import coarsen, digest_lines, tally_rows
from lifelog.replay.rank import Ranked, asked_for, query_parts
from lifelog.replay.render import Omission, Weak
from lifelog.store import terms
from lifelog.store.rows import HeardInStretch, HeardRow, SeenInStretch, SeenRow

NEIGHBOURS = timedelta(minutes=2)
WIDEN_AFTER = 4  # minutes that go in alone before the next best one is widened
MINUTE = timedelta(minutes=1)
MATCH_CONTEXT = 2  # lines either side of a matched line in a unit too long to go in whole
UNIT_LINES = 24  # the longest unit that goes in whole with a line it holds
WIDEN_SHARE = 0.5  # the most of the budget one widened stretch may take
OUTLINE_SHARE = 0.1  # the most of the budget an outline of the range may take (evidence first)
JOIN_WITHIN = timedelta(minutes=15)  # stretches of one window this close in time share one header


def build_focused(
    reader,
    query: str,
    ranked: list[Ranked],
    *,
    since: datetime | None,
    until: datetime | None,
    budget: int,
    fmt: str,
    tok,
) -> ContextWindow:
    stretches, chunks, lines = _by_priority(ranked, since, until, WIDEN_AFTER * max(1, len(query_parts(query))))
    seen = _around_matches([r for r in reader.seen_rows_within(stretches) if _in_chunk(chunks[r.stretch], r)], lines)
    heard = [r for r in reader.heard_rows_within(stretches) if _in_chunk(chunks[r.stretch], r)]
    stretches, seen, heard, kept = _affordable(stretches, chunks, seen, heard, budget)
    merged = _union(stretches)
    events = [e for a, b in merged for e in reader.events_between(a, b)]
    per, outline, totals = _outline(reader, since, until, budget, tok)
    picker = _Picker(
        _Rows(seen, kept),
        _Rows(heard, kept),
        events,
        stretches,
        outline,
        totals,
        per,
        query,
        tok,
        budget,
        fmt,
        since,
        until,
    )
    n = len(stretches)
    k = n - smallest_fitting(lambda i: picker.estimate(n - i), lambda i: picker.count(n - i), 0, n, budget)
    return picker.window(k)


def _by_priority(
    ranked: list[Ranked], since, until, every: int = WIDEN_AFTER
) -> tuple[list[tuple[datetime, datetime]], list[tuple], list[frozenset]]:
    """The stretches in the order they go in as the budget allows, the chunk each is limited to
    (``()``: every window and source) and the lines it is limited to (empty: all): each ranked
    chunk alone, as the units holding the lines the words matched (or all its lines when none
    matched: speech, or a chunk found by meaning), and, after every
    ``every`` of them, the next best one widened to its minute's every window and source and
    its neighbours in time. A dense minute of one window costs up to ~4k tokens, of a whole
    screen and its neighbours 10-18k, so breadth first (many answers), with context for the
    best ones: for a question of several parts, every part brings WIDEN_AFTER chunks alone
    before a widening (``every`` = WIDEN_AFTER x the parts)."""
    keyed = []
    for i, r in enumerate(ranked):
        keyed.append((i, 0, _clip(r.minute, r.minute + MINUTE, since, until), r.chunk, r.lines))
        keyed.append(
            (
                every * (i + 1) - 1,
                1,
                _clip(r.minute - NEIGHBOURS, r.minute + MINUTE + NEIGHBOURS, since, until),
                (),
                frozenset(),
            )
        )
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [k[2] for k in keyed], [k[3] for k in keyed], [k[4] for k in keyed]


def _affordable(stretches, chunks, seen: list[SeenInStretch], heard: list[HeardInStretch], budget: int):
    """The stretches and their rows without the widenings that alone would take more than
    WIDEN_SHARE of the budget (they would leave room for little else, and stretches go in in
    order: one that does not fit keeps out all after it); each stretch's new number by its old."""
    cost = [0] * len(stretches)
    rows: list[SeenInStretch | HeardInStretch] = [*seen, *heard]
    for r in rows:
        cost[r.stretch] += (r.tokens or 0) + 1
    kept = {old: new for new, old in enumerate(i for i, c in enumerate(cost) if chunks[i] or c <= WIDEN_SHARE * budget)}
    return (
        [s for i, s in enumerate(stretches) if i in kept],
        [r for r in seen if r.stretch in kept],
        [r for r in heard if r.stretch in kept],
        kept,
    )


def _around_matches(rows: list[SeenInStretch], lines: list[frozenset]) -> list[SeenInStretch]:
    """Of seen rows in window order, for a stretch limited to matched lines, the whole units
    (:func:`units`) that hold them; a unit longer than UNIT_LINES keeps only MATCH_CONTEXT rows
    either side of each matched line in it."""
    at: dict[int, list[int]] = {}
    for p, r in enumerate(rows):
        at.setdefault(r.stretch, []).append(p)
    keep = []
    for stretch, positions in at.items():
        hit = [rows[p].id in lines[stretch] for p in positions]
        if not any(hit):
            keep += positions
            continue
        for start, end in units([rows[p] for p in positions]):
            hits = [j for j in range(start, end) if hit[j]]
            if not hits:
                continue
            if end - start <= UNIT_LINES:
                keep += positions[start:end]
            else:
                near = {j + d for j in hits for d in range(-MATCH_CONTEXT, MATCH_CONTEXT + 1)}
                keep += [positions[j] for j in range(start, end) if j in near]
    return [rows[p] for p in sorted(keep)]


def units(rows: Sequence[SeenInStretch]) -> list[tuple[int, int]]:
    """``[start, end)`` of each unit among rows of one stretch in window order: what a person
    reads as one thing, a chat message, a paragraph, a command with its output. The layout marks
    where one begins (a blank line before it: its text starts with a newline); a unit also ends
    where the window changes or where the next line appeared at another moment."""
    bounds = [
        j
        for j, r in enumerate(rows)
        if j == 0
        or r.text.startswith("\n")
        or (r.t, r.monitor, r.app, r.window)
        != (rows[j - 1].t, rows[j - 1].monitor, rows[j - 1].app, rows[j - 1].window)
    ]
    return list(zip(bounds, [*bounds[1:], len(rows)]))


def _in_chunk(chunk: tuple, row: SeenInStretch | HeardInStretch) -> bool:
    """Whether a row read for a stretch limited to ``chunk`` belongs to it."""
    if not chunk:
        return True
    kind, monitor, app, window, source = chunk
    if isinstance(row, SeenInStretch):
        return kind == "seen" and (row.monitor, row.app, row.window) == (monitor, app, window)
    # a row's source carries its speaker ("system · Dana"); a chunk's is where it was heard
    return kind == "heard" and row.source.partition(SPEAKER_SEP)[0] == source.partition(SPEAKER_SEP)[0]


_Row = TypeVar("_Row", SeenRow, HeardRow, covariant=True)


class _InStretch(Protocol[_Row]):
    """A row read for a stretch (``SeenInStretch``, ``HeardInStretch``)."""

    @property
    def stretch(self) -> int: ...
    @property
    def id(self) -> int: ...
    @property
    def tokens(self) -> int | None: ...
    def row(self) -> _Row: ...


class _Rows(Generic[_Row]):
    """Rows read for the candidate stretches (seen or heard): those of the best ``k``
    stretches, each row once (at its earliest time among them). ``stretch`` holds each row's
    stretch by its number in ``numbers`` (the rows keep the number they were read with)."""

    def __init__(self, rows: Sequence[_InStretch[_Row]], numbers: dict[int, int]) -> None:
        self.rows: Sequence[_InStretch[_Row]] = rows
        self.stretch = np.asarray([numbers[r.stretch] for r in rows], dtype=np.int64)
        self.ids = np.asarray([r.id for r in rows], dtype=np.int64)
        self.tokens = np.asarray([(r.tokens or 0) + 1 for r in rows], dtype=np.int64)

    def chosen(self, k: int) -> np.ndarray:
        """Indices (in time order) of the rows of stretches ``< k``, first copy of each row."""
        idx = np.nonzero(self.stretch < k)[0]
        _, first = np.unique(self.ids[idx], return_index=True)
        return np.sort(idx[first])

    def take(self, k: int) -> list[_Row]:
        """The chosen rows without their stretch and id."""
        return [self.rows[i].row() for i in self.chosen(k).tolist()]


def _outline(reader, since, until, budget: int, tok):
    """The finest outline of the whole range that takes at most OUTLINE_SHARE of the budget."""
    rows = reader.outline_rows(since, until)
    totals = rows["totals"]
    hours = tally_rows(rows, event_blocks(reader.events_between(since, until)))
    digests = digest_lines(reader, since, until)
    for per in ("hour", "day", "week"):
        blocks = [t.block() for t in coarsen(hours, per, digests)]
        if tok.count(render.markdown(blocks, None)) <= OUTLINE_SHARE * budget:
            return per, blocks, totals
    return None, [], totals


class _Picker:
    """Windows made of the outline and the best ``k`` stretches."""

    def __init__(
        self,
        seen: _Rows[SeenRow],
        heard: _Rows[HeardRow],
        events,
        stretches,
        outline,
        totals,
        per,
        query,
        tok,
        budget,
        fmt,
        since,
        until,
    ) -> None:
        self.seen, self.heard, self.events = seen, heard, events
        self.stretches, self.outline, self.totals, self.per = stretches, outline, totals, per
        self.query, self.tok, self.budget, self.fmt = query, tok, budget, fmt
        self.since, self.until = since, until
        self.outline_tokens = tok.count(render.markdown(outline, None)) if outline else 0
        self._exact: dict[int, int] = {}

    def estimate(self, k: int) -> int:
        lines = int(self.seen.tokens[self.seen.chosen(k)].sum() + self.heard.tokens[self.heard.chosen(k)].sum())
        return self.outline_tokens + lines + 12 * len(_union(self.stretches[:k])) + 40

    def count(self, k: int) -> int:
        if k not in self._exact:
            self._exact[k] = self.tok.count(self.render(k)[0])
        return self._exact[k]

    def render(self, k: int) -> tuple[str, Omission | None, Lines]:
        seen_rows, heard_rows = self.seen.take(k), self.heard.take(k)
        chosen = _union(self.stretches[:k])
        events = [e for e in self.events if _within(e["ts"], chosen)]
        detail = merge_chronological(
            join_stretches(build_blocks(seen_rows)), transcript_blocks(heard_rows), event_blocks(events)
        )
        lines = Lines(detail, self.tok)
        blocks = sorted(self.outline + lines.regroup(lines.shown(0)), key=lambda b: (b.ts, b.kind != "outline"))
        omitted = self._omission(seen_rows, heard_rows, len(chosen))
        if omitted is not None:
            omitted = dataclasses.replace(omitted, weak=weak_evidence(self.query, detail))
        if self.fmt == "json":
            text = json_counted(blocks, omitted, self.tok, self.budget, self.since, self.until)[0]
        else:
            text = (render.xml if self.fmt == "xml" else render.markdown)(blocks, omitted)
        return text, omitted, lines

    def _omission(self, seen_rows, heard_rows, stretches: int) -> Omission | None:
        total_lines, total_tokens, first, last = self.totals
        shown = len(seen_rows) + len(heard_rows)
        tokens = sum(r.tokens or 0 for r in (*seen_rows, *heard_rows))
        if first is None or shown >= total_lines:
            return None
        return render.Omission(
            lines=total_lines - shown,
            tokens=max(0, total_tokens - tokens) + total_lines - shown,
            start=first,
            end=last,
            outline=self.per or "",
            focus=self.query,
            stretches=stretches,
        )

    def window(self, k: int) -> ContextWindow:
        text, omitted, lines = self.render(k)
        shown = lines.shown(0)
        return ContextWindow(
            text=text,
            tokens=self.tok.count(text),
            budget=self.budget,
            tokenizer=self.tok.id,
            fmt=self.fmt,
            blocks=len(set(lines.block_of[shown].tolist())),
            lines=len(shown),
            omitted=omitted,
        )


def join_stretches(blocks: list[Block]) -> list[Block]:
    """Blocks seen in one window on one day, each begun within JOIN_WITHIN of the one before,
    as one block: its header once, and a line "… HH:MM:SS" where the next began (what lay
    between is not shown; ~4 tokens instead of a header's ~10). A focused window is many short
    stretches, messages and paragraphs of a few lines; a header for each took a fifth of a 2k
    window of chat."""
    out: list[Block] = []
    for b in blocks:
        last = out[-1] if out else None
        if (
            last is not None
            and last.key == b.key
            and last.ts.date() == b.ts.date()
            and b.ts - last.times[-1] <= JOIN_WITHIN
        ):
            first = b.lines[0] if b.lines[0].startswith("\n") else "\n" + b.lines[0]
            last.lines += [f"… {b.ts:%H:%M:%S}", first, *b.lines[1:]]
            last.times += [b.ts, *(b.times or [b.ts] * len(b.lines))]
            continue
        out.append(dataclasses.replace(b, lines=list(b.lines), times=list(b.times or [b.ts] * len(b.lines))))
    return out


def weak_evidence(query: str, blocks: list[Block]) -> Weak | None:
    """Whether the blocks shown in full answer ``query`` weakly: the best of them holds fewer
    than half of the words it asks about (``rank.asked_for``; at least one when it asks about
    one), and which of those words none holds; None when the evidence is not weak."""
    words = [(w, set(terms.terms(w))) for w in dict.fromkeys(asked_for(query).split())]
    words = [(w, t) for w, t in words if t]
    if not words:
        return None
    held = [set(terms.terms("\n".join(b.lines))) for b in blocks if b.kind in ("seen", "heard")]
    best = max((sum(bool(t & h) for _, t in words) for h in held), default=0)
    if 2 * best >= len(words) and best > 0:
        return None
    everywhere = set().union(*held) if held else set()
    missing = tuple(w.strip("?!.,;:'\"()") for w, t in words if not t & everywhere)
    return Weak(best, len(words), missing)


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def _clip(a: datetime, b: datetime, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    return (max(a, since) if since else a, min(b, until) if until else b)


def _union(stretches: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[list[datetime]] = []
    for a, b in sorted(stretches):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _within(ts: datetime, chosen: list[tuple[datetime, datetime]]) -> bool:
    return any(a <= ts < b for a, b in chosen)
