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
*tail*), and the hours before them are outlined from aggregates the database computes
(``Reader.outline_rows``). Inside the tail the cut is found on estimates (stored counts plus
block headers, numpy over the lines) and settled by a few exact counts of the rendered text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from lifelog.errors import BudgetError, UsageError
from lifelog.replay import render
from lifelog.replay.blocks import Block, build_blocks, event_blocks, merge_chronological, transcript_blocks
from lifelog.replay.outline import Outliner, Tally, join, tally_rows
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER, get_tokenizer

FORMATS = ("markdown", "json", "xml")
OUTLINES = ("hour", "day", None)  # finest first; None: the marker alone
TAIL_BUDGETS = 1.3  # read lines worth this many budgets first (further back if repeats made them fit)


@dataclass
class ContextWindow:
    text: str
    tokens: int
    budget: int
    tokenizer: str
    fmt: str
    blocks: int
    lines: int
    omitted: render.Omission | None
    note: str = ""  # said on stderr: e.g. that a query matched nothing


def build_context(reader, *, since: datetime | None, until: datetime | None, budget: int,
                  fmt: str = "markdown", tokenizer: str = DEFAULT_TOKENIZER, query: str | None = None,
                  semantic: bool = True) -> ContextWindow:
    """Read the slice from ``reader`` (a store Reader) and fit it to ``budget`` tokens. With
    ``query``, full detail goes to the stretches that answer it (``focus.py``; ``semantic``
    False ranks by BM25 alone)."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    tok = get_tokenizer(tokenizer)
    note = ""
    if query and query.strip():
        from lifelog.replay.focus import build_focused, rank_minutes

        if sum(n for _, n in reader.token_costs(since, until)) <= budget:  # may all fit: then all goes in
            window = _build_recent(reader, since, until, budget, fmt, tok)
            if window.omitted is None:
                return window
        ranked = rank_minutes(reader, query, since=since, until=until, semantic=semantic)
        words_only = _words_only(semantic)
        if ranked:
            window = build_focused(reader, query, ranked, since=since, until=until, budget=budget, fmt=fmt, tok=tok)
            window.note = words_only
            return window
        note = " ".join(filter(None, (
            f"Nothing in this range matches {query!r}: the window shows the newest activity "
            "in full and the rest as an outline.", words_only)))
    window = _build_recent(reader, since, until, budget, fmt, tok)
    window.note = note
    return window


def _words_only(semantic: bool) -> str:
    """Why --query ranked by words alone, when it did (no embedding model runs here)."""
    if not semantic:
        return ""
    from lifelog.replay.semantic import semantic_unavailable

    reason = semantic_unavailable()
    return f"--query ranked by words only (BM25): {reason}" if reason else ""


def _build_recent(reader, since, until, budget: int, fmt: str, tok) -> ContextWindow:
    costs = reader.token_costs(since, until)
    need = TAIL_BUDGETS * _limit(budget)
    while True:
        start_from = _tail_start(costs, need)
        lines = _Lines.read(reader, since, until, start_from, tok)
        counts = lines.floor_counts()
        floor = _cheap_floor(counts, budget)
        if start_from is None or floor > 0:
            break
        # everything read might fit (a line shown again costs nothing): read back as far again
        # as the share of lines shown once says it takes, with a margin
        shown_share = sum(counts) / max(1, int(lines.counts.sum()))
        need *= min(8.0, max(1.5, 1.3 / max(shown_share, 0.01)))
    older = _Older(reader, since, start_from) if start_from is not None else None
    return _Fitter(lines, older, tok, budget, fmt, since, until).fit(floor)


def _limit(budget: int) -> float:
    return budget * 1.1 + 50  # margin: joins can tokenise a little tighter than parts


def _tail_start(costs: list[tuple[datetime, int]], need: float) -> datetime | None:
    """The start of the newest hours whose stored tokens reach ``need``; None: all of them."""
    total = 0
    for i in range(len(costs) - 1, 0, -1):
        total += costs[i][1]
        if total >= need:
            return costs[i][0]
    return None


class _Lines:
    """The lines a window may show, one entry per line of each block, in window order: the
    granularity of cutting. ``repeats[i]`` is the index of the same line shown earlier for the
    same window, or -1; a repeat is left out only while that earlier showing is in the window."""

    def __init__(self, blocks: list[Block], stored: list[int | None] | None, tok) -> None:
        self.blocks = blocks
        block_of, text, repeats, rows = [], [], [], []
        last: dict[tuple, int] = {}
        for bi, b in enumerate(blocks):
            seen = b.kind == "seen"
            for j, line in enumerate(b.lines):
                i = len(text)
                if seen:
                    key = (b.monitor, b.app, b.window, line)
                    repeats.append(last.get(key, -1))
                    last[key] = i
                else:
                    repeats.append(-1)
                block_of.append(bi)
                text.append(line)
                ts = b.times[j] if b.times else b.ts
                rows.append((ts, b.kind, b.source if b.kind == "heard" else b.app, b.window, line, j == 0))
        self.text = text
        self.rows = rows  # what the outliner reads
        self.block_of = np.asarray(block_of, dtype=np.int64)
        self.repeats = np.asarray(repeats, dtype=np.int64)
        if stored is not None and tok.id == DEFAULT_TOKENIZER and all(n is not None for n in stored):
            counts = stored
        else:
            counts = tok.count_many(text)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.prefix = np.concatenate([[0], np.cumsum(self.counts)])
        self.latest = list(itertools.accumulate((r[0] for r in rows), max))  # latest time in rows[:i+1]
        self.header_tokens = np.asarray(tok.count_many([render.header(b) for b in blocks]), dtype=np.int64)

    @classmethod
    def read(cls, reader, since, until, start_from, tok) -> _Lines:
        clamp = since if start_from is None else None
        seen = reader.seen_rows(since, until, start_from=start_from)
        heard = reader.heard_rows(since, until, start_from=start_from)
        events = reader.events_between(start_from or since, until)
        seen_blocks, heard_blocks = build_blocks(seen, clamp), transcript_blocks(heard, clamp)
        blocks = merge_chronological(seen_blocks, heard_blocks, event_blocks(events))
        # stored counts in block order: merge_chronological keeps each stream's lines together
        stored = {id(b): n for b, n in _stored_counts(seen_blocks, seen) + _stored_counts(heard_blocks, heard, 3)}
        counts = [n for b in blocks for n in stored.get(id(b), [None] * len(b.lines))]
        return cls(blocks, counts, tok)

    def __len__(self) -> int:
        return len(self.text)

    def floor_counts(self) -> list[int]:
        return np.where(self.repeats < 0, self.counts, 0).tolist()

    def shown(self, start: int) -> np.ndarray:
        """Indices of the lines a window starting at ``start`` shows."""
        idx = np.arange(start, len(self.text))
        return idx[self.repeats[start:] < start]

    def regroup(self, shown: np.ndarray) -> list[Block]:
        """Blocks again from the shown lines; a block cut at its start keeps its header."""
        out: list[Block] = []
        source = -1
        for i in shown.tolist():
            bi = self.block_of[i]
            if bi != source:
                source = bi
                b = self.blocks[bi]
                out.append(Block(b.ts, b.monitor, b.app, b.window, [], b.kind, b.source))
            out[-1].lines.append(self.text[i])
        return out

    def estimate(self, start: int) -> int:
        """Tokens of the shown lines and their block headers from ``start`` on (no outline)."""
        mask = self.repeats[start:] < start
        lines = int(self.counts[start:][mask].sum())
        shown_blocks = self.block_of[start:][mask]
        if not len(shown_blocks):
            return lines
        runs = np.concatenate([[True], shown_blocks[1:] != shown_blocks[:-1]])
        return lines + int(self.header_tokens[shown_blocks[runs]].sum()) + int(mask.sum())


def _stored_counts(blocks: list[Block], rows: list[tuple], col: int = 5) -> list[tuple[Block, list]]:
    it = iter(r[col] for r in rows)
    return [(b, list(itertools.islice(it, len(b.lines)))) for b in blocks]


class _Older:
    """The hours before the tail: outlined from database aggregates, never read line by line."""

    def __init__(self, reader, since: datetime | None, upto: datetime) -> None:
        self.events = event_blocks(reader.events_between(since, upto))
        rows = reader.outline_rows(since, upto)
        self.hours: list[Tally] = tally_rows(rows, self.events)
        self._totals = rows["totals"]

    def totals(self) -> tuple[int, int, datetime | None, datetime | None]:
        """Lines (events included), stored tokens, first and last time."""
        lines, tokens, first, last = self._totals
        times = [t for t in (first, last, *(e.ts for e in self.events)) if t is not None]
        return lines + len(self.events), tokens, min(times, default=None), max(times, default=None)


class _Fitter:
    def __init__(self, lines: _Lines, older: _Older | None, tok, budget: int, fmt: str,
                 since: datetime | None, until: datetime | None) -> None:
        self.lines, self.older, self.tok = lines, older, tok
        self.budget, self.fmt, self.since, self.until = budget, fmt, since, until
        self.per: str | None = None
        self._outliner: Outliner | None = None  # made when an outline is first needed
        self._exact: dict[int, int] = {}  # start -> exact count, for the current outline kind

    def fit(self, floor: int) -> ContextWindow:
        n, budget = len(self.lines), self.budget
        if self.older is None and floor == 0 and self.count(0) <= budget:
            start = 0  # faithful: everything fits
        else:
            for per in OUTLINES:  # the finest outline whose whole-range form fits
                self.per = per
                self._exact = {}
                if per is None or self.count(n) <= budget:
                    break
            start = self.search(floor)
        text, omitted = self.render(start)
        tokens = self.tok.count(text)
        if tokens > budget:
            raise BudgetError(
                f"--budget {budget} is below the smallest possible window ({tokens} tokens for the "
                f"{self.fmt} frame alone). Raise --budget."
            )
        shown = self.lines.shown(start)
        return ContextWindow(
            text=text, tokens=tokens, budget=budget, tokenizer=self.tok.id, fmt=self.fmt,
            blocks=len(set(self.lines.block_of[shown].tolist())), lines=len(shown), omitted=omitted,
        )

    # -- rendering -------------------------------------------------------------------------
    def render(self, start: int) -> tuple[str, render.Omission | None]:
        kept = self.lines.regroup(self.lines.shown(start))
        omitted = self.omission(start)
        if self.per is not None and omitted is not None:
            kept = self.outline(start) + kept
        if self.fmt == "json":
            return _json_fixed_point(kept, omitted, self.tok, self.budget, self.since, self.until), omitted
        return (render.xml if self.fmt == "xml" else render.markdown)(kept, omitted), omitted

    def outline(self, start: int, *, estimate: bool = False) -> list[Block]:
        older = self.older.hours if self.older else []
        if self._outliner is None:
            self._outliner = Outliner(self.lines.rows)
        return join(older, self._outliner.prefix(start, estimate=estimate), self.per)

    def omission(self, start: int) -> render.Omission | None:
        lines, tokens, first, last = self.older.totals() if self.older else (0, 0, None, None)
        if start:
            rows = self.lines.rows
            lines += start
            tokens += int(self.lines.prefix[start])
            first = first or rows[0][0]
            last = max(t for t in (last, self.lines.latest[start - 1]) if t is not None)
        if not lines:
            return None
        return render.Omission(lines=lines, tokens=tokens + lines, start=first, end=last, outline=self.per or "")

    def count(self, start: int) -> int:
        if start not in self._exact:
            self._exact[start] = self.tok.count(self.render(start)[0])
        return self._exact[start]

    # -- the cut -----------------------------------------------------------------------------
    def estimate(self, start: int) -> int:
        outline = self.outline(start, estimate=True) if self.per is not None and (start or self.older) else []
        text = "\n".join(line for b in outline for line in b.lines)
        return self.lines.estimate(start) + (self.tok.count(text) + 12 * len(outline) if outline else 0)

    def search(self, floor: int) -> int:
        """The smallest start >= ``floor`` whose window fits (``len(lines)`` always does: it
        was checked when the outline was chosen)."""
        return smallest_fitting(self.estimate, self.count, floor, len(self.lines), self.budget)


def smallest_fitting(estimate, count, lo: int, hi: int, budget: int) -> int:
    """An i in [lo, hi] with ``count(i) <= budget`` and either within ``close_enough`` of it or
    the smallest such i, for counts that fall as i grows and ``count(hi)`` known to fit.
    ``estimate`` (cheap, a few percent off) finds the region; its error measured by each exact
    count (costly: a render and a tokenisation) corrects the next guess, which usually lands
    within a few lines. Settling for a window a few tokens under the budget instead of the very
    largest saves the exact counts a bisection of the last lines would take."""
    slack = close_enough(budget)
    fits, fails = {hi}, set()
    target = budget
    for _ in range(4):
        s = _first_at_most(estimate, lo, hi, target)
        if s in fits or s in fails:
            break
        exact = count(s)
        if exact <= budget:
            fits.add(s)
            if exact >= budget - slack:
                return s
        else:
            fails.add(s)
        target = budget - slack // 2 - (exact - estimate(s))
    best = min(fits)
    below = [f for f in fails if f < best]
    if below:
        low = max(below)
    else:  # gallop back until an i does not fit (or lo is reached)
        low, step = lo - 1, 1
        while best - step >= lo:
            if count(best - step) <= budget:
                best, step = best - step, step * 2
            else:
                low = best - step
                break
    while low + 1 < best:  # exact bisection in (low, best]
        mid = (low + best) // 2
        if count(mid) <= budget:
            best = mid
        else:
            low = mid
    return best


def close_enough(budget: int) -> int:
    """How far under the budget a window may stop: 0.2 %, at least 16 tokens."""
    return max(16, budget // 500)


def _first_at_most(f, lo: int, hi: int, target: float) -> int:
    """The smallest i in [lo, hi] with f(i) <= target, for f falling (roughly) as i grows."""
    while lo < hi:
        mid = (lo + hi) // 2
        if f(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _cheap_floor(counts: list[int], budget: int) -> int:
    """Lines before this index cannot fit: the lines after it alone already exceed the budget
    (a line costs at least its own tokens in any format)."""
    suffix = np.cumsum(np.asarray(counts[::-1], dtype=np.int64))  # suffix[k]: the last k+1 lines
    over = np.nonzero(suffix > _limit(budget))[0]
    return len(counts) - int(over[0]) if len(over) else 0


def _json_fixed_point(blocks, omitted, tok, budget, since, until) -> str:
    """JSON carries its own token count, which changes the text it counts: iterate until the
    number written is the count of the text it is written in (converges in 2–3 rounds)."""
    meta = {
        "tokenizer": tok.id, "budget": budget, "tokens": 0,
        "since": since.isoformat() + "Z" if since else None,
        "until": until.isoformat() + "Z" if until else None,
    }
    for _ in range(8):
        text = render.as_json(blocks, omitted, meta)
        n = tok.count(text)
        if n == meta["tokens"]:
            return text
        meta["tokens"] = n
    return text
