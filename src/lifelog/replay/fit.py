"""What a window is and how it is fitted, shared by a window of the newest activity
(``context.py``) and a focused one (``focus.py``): the result (``ContextWindow``), lines of
blocks held in memory (``Lines``), the search for the largest window under the budget
(``smallest_fitting``) and a JSON window's own count (``json_counted``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifelog.replay import render
from lifelog.replay.blocks import Block
from lifelog.replay.tail import Cuts

JSON_COUNT = '\n "tokens": {},'  # a JSON window's own count, as json.dumps(indent=1) writes it


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


class Lines(Cuts):
    """Lines of blocks held in memory, one entry per line of each block, in window order (a
    focused window's few stretches; a window's tail is ``tail.TailLines``, columnar).
    ``repeats[i]`` is the index of the same line shown earlier for the same window, or -1; a
    repeat is left out only while that earlier showing is in the window."""

    def __init__(self, blocks: list[Block], tok) -> None:
        self.blocks = blocks
        block_of: list[int] = []
        text: list[str] = []
        repeats: list[int] = []
        last: dict[tuple, int] = {}
        for bi, b in enumerate(blocks):
            seen = b.kind == "seen"
            for line in b.lines:
                i = len(text)
                if seen:  # the same line, with or without the blank line before it
                    key = (b.monitor, b.app, b.window, line.lstrip("\n"))
                    repeats.append(last.get(key, -1))
                    last[key] = i
                else:
                    repeats.append(-1)
                block_of.append(bi)
                text.append(line)
        self.text = text
        self.block_of = np.asarray(block_of, dtype=np.int64)
        self.repeats = np.asarray(repeats, dtype=np.int64)
        self.counts = np.asarray(tok.count_many(text), dtype=np.int64)
        self.header_tokens = np.asarray(tok.count_many([render.header(b) for b in blocks]), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.text)

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


def json_counted(blocks, omitted, tok, budget, since, until) -> tuple[str, int]:
    """JSON carries its own token count, which changes the text it counts: iterate until the
    number written is the count of the text it is written in (converges in 2–3 rounds). The
    document is rendered once and only its count is rewritten between rounds: ``json.dumps``
    with an indent is pure Python (0.8 s a render at 2M tokens, 15 renders a window)."""
    meta = {
        "tokenizer": tok.id,
        "budget": budget,
        "tokens": 0,
        "since": since.isoformat() + "Z" if since else None,
        "until": until.isoformat() + "Z" if until else None,
    }
    head, tail = render.as_json(blocks, omitted, meta).split(JSON_COUNT.format(0), 1)  # meta comes first
    n = 0
    for _ in range(8):
        text = head + JSON_COUNT.format(n) + tail
        counted = tok.count(text)
        if counted == n:
            return text, n
        n = counted
    return text, n
