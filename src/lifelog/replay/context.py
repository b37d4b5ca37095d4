"""Build a context window: a chronological slice of the timeline (text seen on screen and
speech heard, interleaved by time) under an exact token budget.

Faithful first: when the slice fits, everything goes in. When it does not, the newest activity
(usually what a model needs next) stays at full detail and everything before it is
*represented* by an outline per hour (``outline.py``: where the time went, first lines, who
spoke, gaps), per day when even that does not fit; a marker at the top says what was cut, when
and roughly how many tokens it held. Only when no outline fits are the oldest lines left out
with the marker alone. The count reported is the tokenizer's count of the exact text emitted,
never an estimate, and never above the budget.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from lifelog.errors import BudgetError, UsageError
from lifelog.replay import render
from lifelog.replay.blocks import Block, build_blocks, event_blocks, merge_chronological, transcript_blocks
from lifelog.replay.outline import Outliner
from lifelog.tokenize_media.tokenizers import get_tokenizer

FORMATS = ("markdown", "json", "xml")


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


def build_context(reader, *, since: datetime | None, until: datetime | None, budget: int,
                  fmt: str = "markdown", tokenizer: str = "o200k") -> ContextWindow:
    """Read the slice from ``reader`` (a store Reader) and fit it to ``budget`` tokens."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    spans = reader.spans_between(since, until)
    heard = reader.transcripts_between(since, until)
    events = reader.events_between(since, until)
    blocks = merge_chronological(build_blocks(spans, since), transcript_blocks(heard, since), event_blocks(events))
    return fit(blocks, budget=budget, fmt=fmt, tokenizer=tokenizer, since=since, until=until)


def fit(blocks: list[Block], *, budget: int, fmt: str, tokenizer: str,
        since: datetime | None = None, until: datetime | None = None) -> ContextWindow:
    tok = get_tokenizer(tokenizer)
    units = _units(blocks)
    counts = tok.count_many([u.line for u in units])
    prefix = [0, *itertools.accumulate(counts)]  # tokens of units[:i], for the omission note
    index = {id(b): i for i, b in enumerate(blocks)}

    def renderer(outliner: Outliner | None):
        def render_from(start: int) -> tuple[str, render.Omission | None]:
            kept = _regroup(_shown(units, start))
            omitted = None
            if start:
                omitted = _omission(units[:start], prefix[start], outliner.per if outliner else "")
                if outliner is not None:
                    kept = _outline_before(outliner, units, start, index) + kept
            if fmt == "json":
                return _json_fixed_point(kept, omitted, tok, budget, since, until), omitted
            return (render.xml if fmt == "xml" else render.markdown)(kept, omitted), omitted
        return render_from

    floor = _cheap_floor([n if u.repeats < 0 else 0 for u, n in zip(units, counts)], budget)
    render_from = renderer(None)
    if floor == 0 and tok.count(render_from(0)[0]) <= budget:
        start = 0  # faithful: everything fits
    else:
        for per in ("hour", "day", None):  # the finest outline whose whole-range form fits
            render_from = renderer(Outliner(blocks, per) if per else None)
            if per is None or tok.count(render_from(len(units))[0]) <= budget:
                break
        probe = lambda i: tok.count(render_from(floor + i)[0])  # noqa: E731
        start = floor + _smallest_fitting_start(len(units) - floor, probe, budget)
    text, omitted = render_from(start)
    tokens = tok.count(text)
    if tokens > budget:
        raise BudgetError(
            f"--budget {budget} is below the smallest possible window ({tokens} tokens for the "
            f"{fmt} frame alone). Raise --budget."
        )
    kept_units = _shown(units, start)
    return ContextWindow(
        text=text, tokens=tokens, budget=budget, tokenizer=tok.id, fmt=fmt,
        blocks=len({id(u.block) for u in kept_units}), lines=len(kept_units), omitted=omitted,
    )


def _outline_before(outliner: Outliner, units: list[Unit], start: int, index: dict[int, int]) -> list[Block]:
    """The outline of everything before ``units[start]``, the cut block's head included."""
    if start >= len(units):
        return outliner.prefix(len(outliner.blocks))
    cut = units[start].block
    head = [u.line for u in units[:start] if u.block is cut]
    partial = Block(cut.ts, cut.monitor, cut.app, cut.window, head, cut.kind, cut.source) if head else None
    return outliner.prefix(index[id(cut)], partial)


@dataclass(frozen=True)
class Unit:
    """One line of one block (an event is one unit): the granularity of cutting. ``repeats``
    is the index of the same line shown earlier for the same window, or -1."""

    block: Block
    line: str
    repeats: int = -1


def _units(blocks: list[Block]) -> list[Unit]:
    units: list[Unit] = []
    last: dict[tuple, int] = {}  # (window key, text) -> index of its latest unit
    for b in blocks:
        for line in b.lines:
            key = (b.kind, b.key, line)
            units.append(Unit(b, line, last.get(key, -1) if b.kind == "seen" else -1))
            last[key] = len(units) - 1
    return units


def _shown(units: list[Unit], start: int) -> list[Unit]:
    """The units a window starting at ``start`` shows: a line seen again in the same window is
    left out only while an earlier showing of it is in the window too."""
    return [u for u in units[start:] if u.repeats < start]


def _regroup(units: list[Unit]) -> list[Block]:
    """Blocks again from a run of units; a block cut at its start keeps its header."""
    out: list[Block] = []
    source = None
    for u in units:
        if u.block is not source:
            source = u.block
            out.append(Block(u.block.ts, u.block.monitor, u.block.app, u.block.window, [], u.block.kind, u.block.source))
        out[-1].lines.append(u.line)
    return out


def _omission(units: list[Unit], line_tokens: int, outline: str = "") -> render.Omission:
    blocks = {id(u.block) for u in units}
    approx = line_tokens + 8 * len(blocks)  # lines plus roughly a header per block
    return render.Omission(
        lines=len(units), blocks=len(blocks), tokens=approx,
        start=units[0].block.ts, end=units[-1].block.ts, outline=outline,
    )


def _cheap_floor(counts: list[int], budget: int) -> int:
    """Units before this index cannot fit: the lines after it alone already exceed the budget
    (a line costs at least its own tokens in any format). Lets months of history be fitted
    by counting each line once instead of rendering everything at every probe."""
    total, limit = 0, budget * 1.1 + 50  # margin: joins can tokenise a little tighter than parts
    for i in range(len(counts) - 1, -1, -1):
        total += counts[i]
        if total > limit:
            return i + 1
    return 0


def _smallest_fitting_start(n: int, count_from, budget: int) -> int:
    """The smallest i such that the window built from units[i:] fits. Counts shrink as i
    grows (fewer lines), so binary search; each probe counts the exact rendered text."""
    if n == 0 or count_from(0) <= budget:
        return 0
    lo, hi = 1, n  # hi: everything omitted, the smallest window
    while lo < hi:
        mid = (lo + hi) // 2
        if count_from(mid) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return lo


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
