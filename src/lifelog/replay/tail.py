"""The newest stretch of a context window's range, read line by line as numpy columns.

A window is cut at line granularity, so the stretch it cuts into (the *tail*) is read line by
line; everything before it is outlined from aggregates (``context.py``). The tail of a
million-token window holds a couple of hundred thousand lines, so it is held as columns (times,
token counts, a repeat key per line) straight from DuckDB, with blocks as index ranges: no
Python object per line until the lines actually shown are rendered.

It is read backwards from the end of the range in stretches of whole hours until the lines
shown once (a line shown again for the same window costs nothing while its first showing is
in) exceed the budget, each stretch sized by the share of lines shown once so far.

The result means exactly what ``blocks.build_blocks`` / ``merge_chronological`` and
``fit.Lines`` mean for the same rows (``tests/replay/test_tail.py`` holds them to each
other); ``Lines`` stays for the few lines of a focused window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lifelog.replay import render
from lifelog.replay.blocks import BLOCK_GAP, Block, event_blocks, transcript_blocks
from lifelog.replay.outline import FOCUS_CAP, Outliner, Tally
from lifelog.store.rows import HeardRow
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER

EPOCH = datetime(1970, 1, 1)
GAP_US = int(BLOCK_GAP / timedelta(microseconds=1))
HOUR_US = 3_600_000_000
KIND_RANK = {"event": 0, "asked": 1, "heard": 2, "seen": 3}  # merge_chronological's order at one moment


def to_us(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


class Tail:
    """Reads the tail backwards: ``read_back(start)`` adds the lines that began in [start, the
    start of what was read) (``start`` None: from ``since`` on, lines begun before it placed at
    it); ``lines()`` arranges everything read in window order."""

    def __init__(self, reader, since: datetime | None, until: datetime | None, tok) -> None:
        self.reader, self.since, self.until, self.tok = reader, since, until, tok
        self.start: datetime | None = None
        self.seen: list[dict] = []  # column stretches, oldest first
        self.heard: list[HeardRow] = []

    def read_back(self, start: datetime | None) -> None:
        before = self.start if self.seen else None  # the first read ends at ``until``
        seen = self.reader.seen_columns(self.since, self.until, start_from=start, before=before)
        heard = self.reader.heard_columns(self.since, self.until, start_from=start, before=before)
        self.seen.insert(0, seen)
        self.heard = heard + self.heard
        self.start = start

    def shown_once(self) -> tuple[int, int]:
        """Stored tokens of the lines read that are not repeats (near enough: first copies by
        key, in time order), and of all lines read: the floor ``context`` tests, estimated."""
        key = np.concatenate([s["rows"]["key"] for s in self.seen]) if self.seen else np.zeros(0, np.uint64)
        tokens = (
            _stored(np.concatenate([s["rows"]["tokens"] for s in self.seen])) if self.seen else np.zeros(0, np.int64)
        )
        heard = sum(r.tokens or 0 for r in self.heard)
        _, first = np.unique(key, return_index=True)
        return int(tokens[first].sum()) + heard, int(tokens.sum()) + heard

    def lines(self) -> TailLines:
        return TailLines(self)


def _stored(tokens) -> np.ndarray:
    """Stored counts, 0 where none was stored (estimates only)."""
    if np.ma.isMaskedArray(tokens):
        return np.ma.filled(tokens, 0).astype(np.int64)
    return np.asarray(tokens, dtype=np.int64)


class Cuts:
    """What cutting a window's lines at a start index needs, on arrays held by the subclass:
    ``repeats``, ``block_of``, ``counts`` and ``header_tokens`` (per block)."""

    repeats: np.ndarray
    block_of: np.ndarray
    counts: np.ndarray
    header_tokens: np.ndarray

    def shown(self, start: int) -> np.ndarray:
        """Indices of the lines a window starting at ``start`` shows."""
        idx = np.arange(start, len(self.repeats))
        return idx[self.repeats[start:] < start]

    def estimate(self, start: int) -> int:
        """Tokens of the shown lines and their block headers from ``start`` on (a newline
        each)."""
        mask = self.repeats[start:] < start
        lines = int(self.counts[start:][mask].sum())
        shown_blocks = self.block_of[start:][mask]
        if not len(shown_blocks):
            return lines
        runs = np.concatenate([[True], shown_blocks[1:] != shown_blocks[:-1]])
        return lines + int(self.header_tokens[shown_blocks[runs]].sum()) + int(mask.sum())


class TailLines(Cuts):
    """The tail's lines in window order: ``repeats[i]`` is the index of the same line shown
    earlier for the same window, or -1 (a repeat is left out while that earlier showing is
    in); ``block_of[i]`` its block, of which ``meta`` holds kind, time, monitor, app, window
    and source. The interface ``context._Fitter`` cuts."""

    def __init__(self, tail: Tail) -> None:
        cols = _concat([s["rows"] for s in tail.seen])
        self._texts = _dictionary([s["texts"] for s in tail.seen], "text", ("shown",))
        self._windows = _dictionary([s["places"] for s in tail.seen], "place", ("app", "window"))
        t = cols["t"].astype("datetime64[us]").astype(np.int64)
        self.n_seen = len(t)
        starts = _seen_block_starts(t, cols["monitor"], cols["place"])
        self._text_key = cols["text"]
        self._block_start = np.zeros(self.n_seen, dtype=bool)
        self._block_start[starts] = True  # a block's first line loses its leading blank lines
        clamp = tail.since if tail.start is None else None
        events = event_blocks(tail.reader.events_between(tail.start or tail.since, tail.until))
        other = transcript_blocks(tail.heard, clamp) + events
        firsts, first_other = self._lay_out(t, cols["monitor"], starts, other)
        self._count(tail, cols["tokens"], events)
        self._find_repeats(cols)
        self._describe(cols, t, starts, dict(zip(first_other.tolist(), other)), firsts, tail.tok)
        self._firsts: dict[str, np.ndarray] = {}
        self._earliest: np.ndarray | None = None

    def _lay_out(
        self, t: np.ndarray, monitors: np.ndarray, starts: np.ndarray, other: list[Block]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Blocks in merge_chronological's order (time, events first, kind, monitor, source, then
        the order of the streams, seen, heard, events, and within them) and their lines as
        ``perm``, indices into the pool of lines (seen rows, then the other blocks' lines).
        Returns each block's first line in the pool, in window order, and each other block's."""
        n_seen = self.n_seen
        ends = np.append(starts[1:], n_seen).astype(np.int64)
        n_blocks = len(starts) + len(other)
        rank = {s: i for i, s in enumerate(sorted({b.source for b in other} | {""}))}
        block_ts = np.concatenate([t[starts], np.asarray([to_us(b.ts) for b in other], dtype=np.int64)])
        kind = np.concatenate(
            [np.full(len(starts), KIND_RANK["seen"]), np.asarray([KIND_RANK[b.kind] for b in other], dtype=np.int64)]
        )
        monitor = np.concatenate(
            [monitors[starts].astype(np.int64), np.asarray([b.monitor for b in other], dtype=np.int64)]
        )
        source = np.concatenate(
            [np.zeros(len(starts), np.int64), np.asarray([rank[b.source] for b in other], dtype=np.int64)]
        )
        order = np.lexsort((np.arange(n_blocks), source, monitor, kind, block_ts))

        other_t = [to_us(ts) for b in other for ts in (b.times or [b.ts] * len(b.lines))]
        self._other_text = np.asarray([line for b in other for line in b.lines], dtype=object)
        sizes_other = [len(b.lines) for b in other]
        first_other = n_seen + np.concatenate([[0], np.cumsum(sizes_other)]).astype(np.int64)[:-1]
        block_first = np.concatenate([starts, first_other]).astype(np.int64)
        block_size = np.concatenate([ends - starts, np.asarray(sizes_other, dtype=np.int64)]).astype(np.int64)

        sizes = block_size[order]
        self.block_of = np.repeat(np.arange(n_blocks, dtype=np.int64), sizes)
        offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1]
        within = np.arange(len(self.block_of), dtype=np.int64) - np.repeat(offsets, sizes)
        self.perm = np.repeat(block_first[order], sizes) + within
        self.times = np.concatenate([t, np.asarray(other_t, dtype=np.int64)])[self.perm]
        return block_first[order], first_other

    def _count(self, tail: Tail, stored_seen, events: list[Block]) -> None:
        """Every line's tokens: the stored counts when the tokenizer is the stored one and every
        line has one (events are counted), else counted now."""
        heard_counts = [r.tokens for r in tail.heard]
        have_stored = (
            tail.tok.id == DEFAULT_TOKENIZER
            and not (np.ma.isMaskedArray(stored_seen) and stored_seen.mask.any())
            and all(c is not None for c in heard_counts)
        )
        if have_stored:
            event_counts = tail.tok.count_many([line for b in events for line in b.lines])
            pool_counts = np.concatenate(
                [np.asarray(stored_seen, dtype=np.int64), np.asarray(heard_counts + event_counts, dtype=np.int64)]
            )
            self.counts = pool_counts[self.perm]
        else:
            self.counts = np.asarray(tail.tok.count_many(self.text.tolist()), dtype=np.int64)
        self.prefix = np.concatenate([[0], np.cumsum(self.counts)])
        self.latest = np.maximum.accumulate(self.times) if len(self.times) else self.times

    def _find_repeats(self, cols: dict) -> None:
        """``repeats``: seen lines with the same key (checked: same window and text)."""
        perm = self.perm
        self.repeats = np.full(len(perm), -1, dtype=np.int64)
        pos = np.flatnonzero(perm < self.n_seen)
        if len(pos):
            keys = cols["key"][perm[pos]]
            by = np.argsort(keys, kind="stable")  # by key, then position (pos ascends)
            same = keys[by[1:]] == keys[by[:-1]]
            later, earlier = pos[by[1:][same]], pos[by[:-1][same]]
            ok = _same_line(cols, perm[later], perm[earlier])
            self.repeats[later[ok]] = earlier[ok]

    def _describe(
        self, cols: dict, t: np.ndarray, starts: np.ndarray, other_of: dict[int, Block], firsts: np.ndarray, tok
    ) -> None:
        """The blocks' descriptions in window order (``meta``; ``other_of``: a block not seen by
        its first line in the pool), each line's kind and place, and the blocks' header tokens."""
        n_seen, perm = self.n_seen, self.perm
        app, window = self._windows.lookup(cols["place"][starts])
        seen_block = {first: i for i, first in enumerate(starts.tolist())}
        meta: list[tuple] = []
        for first in firsts.tolist():
            if first < n_seen:
                i = seen_block[first]
                meta.append(("seen", from_us(t[first]), int(cols["monitor"][first]), app[i], window[i], ""))
            else:
                b = other_of[first]
                meta.append((b.kind, b.ts, b.monitor, b.app, b.window, b.source))
        self.meta = meta
        self.line_kind = np.asarray([KIND_RANK[m[0]] for m in meta], dtype=np.int64)[self.block_of]
        self.first = (
            np.concatenate([[True], self.block_of[1:] != self.block_of[:-1]]) if len(perm) else np.zeros(0, bool)
        )
        codes, self.places = self._place_codes(cols["place"])  # (app, window) of each seen line as its rank
        pos = np.flatnonzero(perm < n_seen)
        self.place = np.full(len(perm), -1, dtype=np.int64)
        self.place[pos] = codes[perm[pos]]
        self.header_tokens = _header_tokens(meta, self.place[self.first] if len(perm) else self.place, tok)

    def __len__(self) -> int:
        return len(self.perm)

    @property
    def text(self) -> np.ndarray:
        """Every line's text, in window order."""
        return self._pool_texts(self.perm)

    def line(self, i: int) -> str:
        return self._pool_texts(self.perm[i : i + 1])[0]

    def _pool_texts(self, pool: np.ndarray) -> np.ndarray:
        """Texts of pool lines: seen ones from the dictionary (a block's first line without its
        leading blank lines), the others as made."""
        out = np.empty(len(pool), dtype=object)
        seen = pool < self.n_seen
        rows = pool[seen]
        texts = self._texts.lookup(self._text_key[rows])[0]
        first = np.flatnonzero(self._block_start[rows])
        if len(first):
            texts[first] = [x.lstrip("\n") for x in texts[first].tolist()]
        out[seen] = texts
        out[~seen] = self._other_text[pool[~seen] - self.n_seen]
        return out

    def _place_codes(self, place: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """Each row's (app, window) as a code that sorts as the pairs do, and the pairs by code."""
        keys = self._windows.keys
        app, window = self._windows.lookup(keys)
        pairs = list(zip(app.tolist(), window.tolist()))
        rank = sorted(range(len(pairs)), key=pairs.__getitem__)
        code_of = np.empty(len(pairs), dtype=np.int64)
        code_of[rank] = np.arange(len(pairs))
        return code_of[np.searchsorted(keys, place)], [pairs[i] for i in rank]

    # -- the interface context._Fitter cuts ---------------------------------------------------
    def floor_counts(self) -> list[int]:
        return np.where(self.repeats < 0, self.counts, 0).tolist()

    def regroup(self, shown: np.ndarray) -> list[Block]:
        if not len(shown):
            return []
        blocks = self.block_of[shown]
        cuts = np.flatnonzero(blocks[1:] != blocks[:-1]) + 1
        bounds = np.concatenate([[0], cuts, [len(shown)]]).tolist()
        texts = self._pool_texts(self.perm[shown]).tolist()
        return [_block(self.meta[blocks[a]], texts[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def first_time(self) -> datetime:
        return from_us(self.times[0])

    def earliest_from(self, start: int) -> datetime | None:
        """The earliest time among the lines from ``start`` on (None: there are none)."""
        if start >= len(self.times):
            return None
        if self._earliest is None:
            self._earliest = np.minimum.accumulate(self.times[::-1])[::-1]
        return from_us(self._earliest[start])

    def latest_before(self, start: int) -> datetime:
        """The latest time among the first ``start`` lines."""
        return from_us(self.latest[start - 1])

    def outliner(self) -> Outliner:
        hours = self.times // HOUR_US
        members: dict[datetime, list[int]] = {}
        order = np.argsort(hours, kind="stable")
        bounds = np.flatnonzero(np.diff(hours[order])) + 1
        for group in np.split(order, bounds) if len(order) else []:
            members[from_us(int(hours[group[0]]) * HOUR_US)] = group.tolist()
        return Outliner.grouped(members, self.tally)

    def tally(self, hour: datetime, idx: list[int]) -> Tally:
        """``outline.tally_lines`` of the lines ``idx`` (ascending) of one hour, on columns."""
        at = np.asarray(idx, dtype=np.int64)
        kind = self.line_kind[at]
        t = Tally(hour, "hour")
        seen = at[kind == KIND_RANK["seen"]]
        if len(seen):
            ts, place = self.times[seen], self.place[seen]
            by = np.lexsort((place, ts))  # instants (time, window), distinct, in time order
            ts, place = ts[by], place[by]
            keep = np.concatenate([[True], (ts[1:] != ts[:-1]) | (place[1:] != place[:-1])])
            ts, place = ts[keep], place[keep]
            upto = np.append(ts[1:], to_us(hour) + HOUR_US)
            seconds = np.minimum(FOCUS_CAP, np.maximum(1.0, (upto - ts) / 1e6))
            per = np.bincount(place, weights=seconds)
            for code in np.unique(place).tolist():
                t.seconds[self.places[code]] += float(per[code])
            lines = np.bincount(self.place[seen])
            codes, first = np.unique(self.place[seen], return_index=True)
            texts = self._pool_texts(self.perm[seen[first]]).tolist()
            for code, text in zip(codes.tolist(), texts):
                t.lines[self.places[code]] = int(lines[code])
                t.first[self.places[code]] = text
        minutes: dict[str, set[int]] = {}
        for i in at[kind == KIND_RANK["heard"]].tolist():
            minutes.setdefault(self.meta[self.block_of[i]][5], set()).add(int(self.times[i]) // 60_000_000)
        t.heard.update({src: len(m) for src, m in minutes.items()})
        for i in at[kind < KIND_RANK["heard"]].tolist():  # events and questions asked
            if self.first[i] and self.line(i) not in t.events:
                t.events.append(self.line(i))
        return t

    def units_before(self, start: int, per: str) -> int:
        """How many hours (or days, or weeks) the first ``start`` lines touch."""
        if per not in self._firsts:
            unit = {"hour": HOUR_US, "day": 24 * HOUR_US, "week": 7 * 24 * HOUR_US}[per]
            monday = 3 * 24 * HOUR_US if per == "week" else 0  # 1970-01-01 was a Thursday
            self._firsts[per] = np.sort(np.unique((self.times + monday) // unit, return_index=True)[1])
        return int(np.searchsorted(self._firsts[per], start))


def _block(meta: tuple, lines: list[str]) -> Block:
    kind, ts, monitor, app, window, source = meta
    return Block(ts, monitor, app, window, lines, kind, source)


def _concat(parts: list[dict]) -> dict:
    names = ("t", "monitor", "tokens", "key", "chars", "place", "text")
    if not parts:
        return {
            "t": np.zeros(0, "datetime64[us]"),
            "monitor": np.zeros(0, np.int32),
            "tokens": np.zeros(0, np.int64),
            **{k: np.zeros(0, np.uint64) for k in ("key", "place", "text")},
            "chars": np.zeros(0, np.int64),
        }
    if len(parts) == 1:
        return {k: parts[0][k] for k in names}
    out = {}
    for k in names:
        cols = [p[k] for p in parts]
        out[k] = np.ma.concatenate(cols) if any(np.ma.isMaskedArray(c) for c in cols) else np.concatenate(cols)
    return out


def _seen_block_starts(t: np.ndarray, monitor, place) -> np.ndarray:
    """``build_blocks``'s blocks as start indices: a new block where the window changes (its
    monitor, or its app and title by their hash) or more than BLOCK_GAP after the block's first
    line."""
    n = len(t)
    if not n:
        return np.zeros(0, np.int64)
    change = np.ones(n, dtype=bool)
    change[1:] = (monitor[1:] != monitor[:-1]) | (place[1:] != place[:-1])
    seg = np.flatnonzero(change)
    seg_end = np.append(seg[1:], n)
    long = np.flatnonzero(t[seg_end - 1] - t[seg] > GAP_US)  # segments that span more than one block
    if not len(long):
        return seg.astype(np.int64)
    extra = []
    for s, e in zip(seg[long].tolist(), seg_end[long].tolist()):
        b = s
        while True:
            b = int(np.searchsorted(t, t[b] + GAP_US, side="right"))
            if b >= e:
                break
            extra.append(b)
    return np.sort(np.concatenate([seg, np.asarray(extra, dtype=np.int64)])).astype(np.int64)


class _Dictionary:
    """Strings by their 64-bit hash: ``lookup(hashes)`` gives their columns."""

    def __init__(self, keys: np.ndarray, columns: list[np.ndarray]) -> None:
        self.keys, self.columns = keys, columns

    def lookup(self, hashes: np.ndarray) -> list[np.ndarray]:
        at = np.searchsorted(self.keys, hashes)
        if len(at) and (at.max() >= len(self.keys) or not np.array_equal(self.keys[at], hashes)):
            raise RuntimeError("a string read for the window is missing from its dictionary")
        return [c[at] for c in self.columns]


def _dictionary(parts: list[dict], key: str, columns: tuple[str, ...]) -> _Dictionary:
    """One dictionary from the stretches' (a string read in two stretches is in both)."""
    keys = np.concatenate([p[key] for p in parts]) if parts else np.zeros(0, np.uint64)
    keys, first = np.unique(keys, return_index=True)
    return _Dictionary(
        keys, [np.concatenate([p[c] for p in parts])[first] if parts else np.zeros(0, object) for c in columns]
    )


def _same_line(cols: dict, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether pool rows ``a`` and ``b``, whose keys hash alike, are the same line of the same
    window: their windows hash alike too and their texts are as long. (Comparing the strings
    themselves cost 2.5 s for a 10M-token window; two different lines pass all three with odds
    far below one in 10^18.)"""
    return (
        (cols["monitor"][a] == cols["monitor"][b])
        & (cols["place"][a] == cols["place"][b])
        & (cols["chars"][a] == cols["chars"][b])
    )


def _header_tokens(meta: list[tuple], place: np.ndarray, tok) -> np.ndarray:
    """Tokens of each block's header, for estimates: a seen block's counted once per window
    and screen (its time as 00:00:00), the others' exactly. ``place`` is each block's window
    code (-1: not seen)."""
    out = np.zeros(len(meta), dtype=np.int64)
    midnight = datetime(2000, 1, 1)
    seen = [i for i, m in enumerate(meta) if m[0] == "seen"]
    other = [i for i, m in enumerate(meta) if m[0] != "seen"]
    if seen:
        combos = place[seen] * 1024 + np.asarray([meta[i][2] for i in seen], dtype=np.int64) % 1024
        _, first, inverse = np.unique(combos, return_index=True, return_inverse=True)
        reps = [meta[seen[i]] for i in first.tolist()]
        counts = np.asarray(tok.count_many([render.header(_block(("seen", midnight, *m[2:]), [""])) for m in reps]))
        out[seen] = counts[inverse.reshape(-1)]
    if other:
        out[other] = tok.count_many([render.header(_block(meta[i], [""])) for i in other])
    return out
