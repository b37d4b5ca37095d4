"""Build a context window: a chronological slice of the timeline (text seen on screen and
speech heard, interleaved by time) under an exact token budget.

Faithful first: when the slice fits, everything goes in. When it does not, the newest activity
(usually what a model needs next) stays at full detail and everything before it is
*represented* by an outline per hour (``outline.py``: where the time went, first lines, who
spoke, gaps), per day when even that does not fit; a marker at the top says what was cut, when
and roughly how many tokens it held. Only when no outline fits are the oldest lines left out
with the marker alone. The count reported is the tokenizer's count of the exact text emitted,
never an estimate, and never above the budget.

The cost follows the budget, not the range. Every line carries its o200k token count from
when it was stored, so the database says per hour what the range holds
(``Reader.token_costs``); only the newest hours worth a few budgets are read line by line (the
*tail*, ``tail.py``: numpy columns straight from DuckDB, read backwards until the lines shown
once exceed the budget), and the hours before them are outlined from aggregates the database
computes (``Reader.outline_rows``). Inside the tail the cut is found on estimates (stored
counts plus block headers, numpy over the lines; the outline at the older hours' measured
tokens per hour) and settled by a few exact counts of the rendered text.

Memory follows the budget too, so the budget has a ceiling: ``MAX_BUDGET`` (10M tokens, the
year a window is meant to hold; no model takes more). The facade refuses a larger budget before
reading anything (``check_budget``), whatever the range, and the owner admits windows by budget
(``api/admission.py``), which bounds what all the windows being built at once take.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

import numpy as np

from lifelog.errors import BudgetError, UsageError
from lifelog.replay import render
from lifelog.replay.blocks import Block, event_blocks
from lifelog.replay.fit import ContextWindow, json_counted, smallest_fitting
from lifelog.replay.outline import PERIOD, Outliner, Tally, bucket_start, coarsen, digest_lines, tally_rows
from lifelog.replay.tail import Tail, TailLines
from lifelog.store.rows import HourCost, Totals
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER, get_tokenizer

FORMATS = ("markdown", "json", "xml")
OUTLINES = ("hour", "day", "week", None)  # finest first; None: the marker alone
TAIL_BUDGETS = 1.3  # read lines worth this many budgets first (further back if repeats made them fit)
FURTHER_MARGIN = 1.08  # reading further back aims at this many budgets shown (a short one reads again)
MIN_OUTLINE_BLOCK = {"hour": 12, "day": 12, "week": 60}  # tokens: no outline block is smaller (a header
# alone takes 10-25; a week's names the week and its busiest windows)
OUTLINE_TOKENS = {
    "hour": 250,
    "day": 600,
    "week": 1500,
}  # a first guess at an outline block's tokens, when none is made yet
MAX_BUDGET = 10_000_000  # tokens: the largest window (its memory grows with the budget, not the range)


def build_context(
    reader,
    *,
    since: datetime | None,
    until: datetime | None,
    budget: int,
    fmt: str = "markdown",
    tokenizer: str = DEFAULT_TOKENIZER,
    query: str | None = None,
    semantic: bool = True,
) -> ContextWindow:
    """Read the slice from ``reader`` (a store Reader) and fit it to ``budget`` tokens. With
    ``query``, full detail goes to the stretches that answer it (``focus.py``; ``semantic``
    False ranks by BM25 alone)."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    tok = get_tokenizer(tokenizer)
    note = ""
    if query and query.strip():
        from lifelog.replay.focus import build_focused
        from lifelog.replay.rank import rank_minutes

        if sum(c.tokens for c in reader.token_costs(since, until)) <= budget:  # may all fit: then all goes in
            window = _build_recent(reader, since, until, budget, fmt, tok)
            if window.omitted is None:
                return window
        ranked = rank_minutes(reader, query, since=since, until=until, semantic=semantic)
        words_only = _words_only(semantic)
        if ranked:
            window = build_focused(reader, query, ranked, since=since, until=until, budget=budget, fmt=fmt, tok=tok)
            window.note = words_only
            return window
        note = " ".join(
            filter(
                None,
                (
                    f"Nothing in this range matches {query!r}: the window shows the newest activity "
                    "in full and the rest as an outline.",
                    words_only,
                ),
            )
        )
    window = _build_recent(reader, since, until, budget, fmt, tok)
    window.note = note
    return window


def check_budget(budget: int) -> None:
    """UsageError for a budget no window may have: a window is assembled in memory, which grows
    with its budget, so above ``MAX_BUDGET`` it is refused rather than tried."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise UsageError(f"Bad budget {budget!r}: give a whole number of tokens from 1 to {MAX_BUDGET:,}.")
    if budget > MAX_BUDGET:
        raise UsageError(
            f"A budget of {budget:,} tokens is over the largest window lifelog builds "
            f"({MAX_BUDGET:,}). Lower --budget (or the budget in config)."
        )


def _words_only(semantic: bool) -> str:
    """Why --query ranked by words alone, when it did (no embedding model runs here)."""
    if not semantic:
        return ""
    from lifelog.replay.semantic import semantic_unavailable

    reason = semantic_unavailable()
    return f"--query ranked by words only (BM25): {reason}" if reason else ""


def _build_recent(reader, since, until, budget: int, fmt: str, tok) -> ContextWindow:
    costs = reader.token_costs(since, until)
    limit = _limit(budget)
    tail = Tail(reader, since, until, tok)
    start = _tail_start(costs, TAIL_BUDGETS * limit)
    tail.read_back(start)
    while True:
        if start is not None:
            shown, stored = tail.shown_once()
            if shown <= limit:  # everything read might fit (a line shown again costs nothing)
                start = _read_further(tail, costs, start, limit, shown, stored)
                continue
        lines = tail.lines()
        floor = _cheap_floor(lines.floor_counts(), budget)
        if start is None or floor > 0:
            break
        start = _read_further(tail, costs, start, limit, *tail.shown_once())
    older = _Older(reader, since, start) if start is not None else None
    units = {
        "hour": len(costs),
        "day": len({c.hour.date() for c in costs}),
        "week": len({bucket_start(c.hour, "week") for c in costs}),
    }
    digests = lambda: digest_lines(reader, since, until)  # noqa: E731 (read only when an outline is made)
    return _Fitter(lines, older, tok, budget, fmt, since, until, units, digests).fit(floor)


def _read_further(tail: Tail, costs, start: datetime, limit: float, shown: int, stored: int) -> datetime | None:
    """Read back as far again as the share of lines shown once so far says the budget still
    needs, with a margin; returns the new start (None: from the range's start)."""
    share = max(0.05, shown / max(1, stored))
    need = max(FURTHER_MARGIN * limit - shown, 0.05 * limit) / share
    further = _tail_start([c for c in costs if c.hour < start], need)
    tail.read_back(further)
    return further


def _limit(budget: int) -> float:
    return budget * 1.1 + 50  # margin: joins can tokenise a little tighter than parts


def _tail_start(costs: list[HourCost], need: float) -> datetime | None:
    """The start of the newest hours whose stored tokens reach ``need``; None: all of them."""
    total = 0
    for i in range(len(costs) - 1, 0, -1):
        total += costs[i].tokens
        if total >= need:
            return costs[i].hour
    return None


class _Older:
    """The hours before the tail: outlined from database aggregates, never read line by line."""

    def __init__(self, reader, since: datetime | None, upto: datetime) -> None:
        self.reader, self.since, self.upto = reader, since, upto
        self.events = event_blocks(reader.events_between(since, upto))
        self._hours: list[Tally] | None = None
        self._totals: Totals | None = None

    @property
    def hours(self) -> list[Tally]:
        """Hour tallies, read when an outline is first wanted (a window too small for any
        outline of a year needs only the totals)."""
        if self._hours is None:
            rows = self.reader.outline_rows(self.since, self.upto)
            self._hours, self._totals = tally_rows(rows, self.events), rows["totals"]
        return self._hours

    def totals(self) -> tuple[int, int, datetime | None, datetime | None]:
        """Lines (events included), stored tokens, first and last time."""
        if self._totals is None:
            self._totals = self.reader.outline_totals(self.since, self.upto)
        lines, tokens, first, last = self._totals
        times = [t for t in (first, last, *(e.ts for e in self.events)) if t is not None]
        return lines + len(self.events), tokens, min(times, default=None), max(times, default=None)


class _Fitter:
    def __init__(
        self,
        lines: TailLines,
        older: _Older | None,
        tok,
        budget: int,
        fmt: str,
        since: datetime | None,
        until: datetime | None,
        units: dict[str, int],
        digests: Callable[[], dict],
    ) -> None:
        self.lines, self.older, self.tok = lines, older, tok
        self.budget, self.fmt, self.since, self.until = budget, fmt, since, until
        self.per: str | None = None
        self._outliner: Outliner | None = None  # made when an outline is first needed
        self.units = units  # hours and days with activity: an outline has a block each
        self._read_digests = digests  # (level, start) -> lines, of the periods that lie whole in the range
        self._digests: dict | None = None
        self._older: dict[str | None, tuple] = {}  # per outline kind: tallies, blocks, tokens
        self._last: tuple | None = None  # (start, text, omitted, tokens) of the last window made
        self._blocks: dict[tuple[int, bool], tuple[Tally, Block]] = {}  # id -> (tally, its outline block)
        self._exact: dict[int, int] = {}  # start -> exact count, for the current outline kind

    def fit(self, floor: int) -> ContextWindow:
        n, budget = len(self.lines), self.budget
        if self.older is None and floor == 0 and self.count(0) <= budget:
            start = 0  # faithful: everything fits
        else:
            for per in OUTLINES:  # the finest outline whose whole-range form fits
                self.per = per
                self._exact, self._last = {}, None
                if per is None or (
                    MIN_OUTLINE_BLOCK[per] * self.units.get(per, 0) <= budget and self.count(n) <= budget
                ):
                    break
            start = self.search(floor)
        text, omitted, tokens = self.counted(start)
        if tokens > budget:
            raise BudgetError(
                f"--budget {budget} is below the smallest possible window ({tokens} tokens for the "
                f"{self.fmt} frame alone). Raise --budget."
            )
        shown = self.lines.shown(start)
        return ContextWindow(
            text=text,
            tokens=tokens,
            budget=budget,
            tokenizer=self.tok.id,
            fmt=self.fmt,
            blocks=len(set(self.lines.block_of[shown].tolist())),
            lines=len(shown),
            omitted=omitted,
        )

    # -- rendering -------------------------------------------------------------------------
    def counted(self, start: int) -> tuple[str, render.Omission | None, int]:
        """The window starting at ``start``, what it leaves out and its exact count; the
        last one made is kept (the search's last probe is usually the window returned)."""
        if self._last is not None and self._last[0] == start:
            return self._last[1:]
        kept = self.lines.regroup(self.lines.shown(start))
        omitted = self.omission(start)
        if self.per is not None and omitted is not None:
            outline = self.outline(start)
            omitted = dataclasses.replace(omitted, digests=any(b.kind == "digest" for b in outline))
            kept = outline + kept
        if self.fmt == "json":
            text, tokens = json_counted(kept, omitted, self.tok, self.budget, self.since, self.until)
        else:
            text = (render.xml if self.fmt == "xml" else render.markdown)(kept, omitted)
            tokens = self.tok.count(text)
        self._last = (start, text, omitted, tokens)
        return text, omitted, tokens

    def outline(self, start: int) -> list[Block]:
        """Outline blocks of the older hours and of the tail's first ``start`` lines (an hour or
        day both touch is one): the older part is made once per outline kind."""
        older, older_blocks = self._older_outline()
        if self._outliner is None:
            self._outliner = self.lines.outliner()
        recent = coarsen(self._outliner.prefix(start), self.per, self._digests_before(self.lines.earliest_from(start)))
        if older and recent and older[-1].start == recent[0].start:
            return [*older_blocks[:-1], older[-1].merge(recent[0]).block(), *map(self._block, recent[1:])]
        return [*older_blocks, *map(self._block, recent)]

    def _digests_before(self, cut: datetime | None) -> dict:
        """The digests of the periods that end by ``cut`` (None: all of them)."""
        if self._digests is None:
            self._digests = self._read_digests()
        return {k: v for k, v in self._digests.items() if cut is None or k[1] + PERIOD[k[0]] <= cut}

    def _block(self, tally: Tally) -> Block:
        """A tally's outline block; a whole hour's tally is the same object each time (the
        outliner keeps it), so its block is made once (twice when a digest covers it in some
        windows: the digest's block, or the counts')."""
        key = (id(tally), tally.digest is not None)
        if key not in self._blocks or self._blocks[key][0] is not tally:
            self._blocks[key] = (tally, tally.block())
        return self._blocks[key][1]

    def _older_outline(self) -> tuple[list[Tally], list[Block]]:
        if self.per not in self._older:
            tallies = coarsen(self.older.hours, self.per, self._digests_before(self.older.upto)) if self.older else []
            blocks = [t.block() for t in tallies]
            tokens = self.tok.count("\n".join(line for b in blocks for line in b.lines)) + 12 * len(blocks)
            self._older[self.per] = (tallies, blocks, tokens)
        tallies, blocks, _ = self._older[self.per]
        return tallies, blocks

    def omission(self, start: int) -> render.Omission | None:
        lines, tokens, first, last = self.older.totals() if self.older else (0, 0, None, None)
        if start:
            lines += start
            tokens += int(self.lines.prefix[start])
            first = first or self.lines.first_time()
            last = max(t for t in (last, self.lines.latest_before(start)) if t is not None)
        if not lines or first is None or last is None:  # (stored lines all have times)
            return None
        return render.Omission(lines=lines, tokens=tokens + lines, start=first, end=last, outline=self.per or "")

    def count(self, start: int) -> int:
        if start not in self._exact:
            self._exact[start] = self.counted(start)[2]
        return self._exact[start]

    # -- the cut -----------------------------------------------------------------------------
    def estimate(self, start: int) -> int:
        """Shown lines and headers from the tail, plus the outline: the older part's exact
        tokens and, for the tail's hours (or days) cut, as many again as an older one takes on
        average (exact counts correct the rest)."""
        estimate = self.lines.estimate(start)
        if self.per is None or not (start or self.older):
            return estimate
        self._older_outline()
        tallies, _, tokens = self._older[self.per]
        each = tokens / len(tallies) if tallies else OUTLINE_TOKENS[self.per]
        return estimate + tokens + int(each * self.lines.units_before(start, self.per))

    def search(self, floor: int) -> int:
        """The smallest start >= ``floor`` whose window fits (``len(lines)`` always does: it
        was checked when the outline was chosen)."""
        return smallest_fitting(self.estimate, self.count, floor, len(self.lines), self.budget)


def _cheap_floor(counts: list[int], budget: int) -> int:
    """Lines before this index cannot fit: the lines after it alone already exceed the budget
    (a line costs at least its own tokens in any format)."""
    suffix = np.cumsum(np.asarray(counts[::-1], dtype=np.int64))  # suffix[k]: the last k+1 lines
    over = np.nonzero(suffix > _limit(budget))[0]
    return len(counts) - int(over[0]) if len(over) else 0
