"""Reading order of text boxes by recursive XY-cut: columns, panes and paragraphs as blocks.

A region of boxes is cut where a band of empty space runs right through it: first down a
gutter (columns, panes: read left before right), else across (paragraphs, blank lines: read
top before bottom), and each part is cut again until nothing separates; those leaves are the
blocks, read row by row. Line spacing never cuts (a horizontal cut needs ``ROW_GAP`` line
heights of empty rows), so two columns whose lines sit on the same baselines are not
interleaved row by row, as a plain top-to-bottom sort does.

Not every gutter separates columns. Rows that continue across it (a table, code with
trailing comments aligned, a definition list, line numbers beside code) must be read row by
row, so a vertical cut between boxes on shared rows is taken only when something says the
two sides are separate: a drawn edge down the gutter (a pane border, a sidebar's own
background), or a left side that reads as a column of prose (long lines filling its width).
Stacks that run side by side without sharing rows are separate; stacks that take turns down
the page (a chat's messages left and right) are read turn by turn. Horizontal strips that continue the same
columns (two columns whose paragraph breaks happen to line up) are joined before cutting, so
a coincident blank row never splits a page into halves read across.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifelog.models import Box

ROW_GAP = 0.5
"""A horizontal cut needs empty rows this many median line heights taller than the usual
space between one line and the next (editors with airy line spacing do not cut every line)."""
COLUMN_GAP = 0.8
"""A vertical cut needs empty columns at least this many median line heights wide."""
PROSE_FILL = 0.6
"""A side reads as prose when this share of its lines end near its right edge..."""
PROSE_WIDTH = 8.0
"""...and its median line is at least this many line heights long (about 15+ characters)."""
EDGE = 24
"""Grey levels between two uniform pixel columns that make a drawn edge in a gutter."""


@dataclass
class Block:
    """One leaf of the cut: its rows of box indices (top to bottom, each left to right), and
    where its column begins (the left end of the gutter before it, or the left of the whole
    region): text of this column lies right of it, which bounds where its indentation may be
    measured from."""

    rows: list[list[int]]
    column_left: int

    @property
    def indices(self) -> list[int]:
        return [i for row in self.rows for i in row]


def xy_cut(
    boxes: list[Box], image: np.ndarray | None = None, *, separate_all: bool = False, left: int | None = None
) -> list[Block]:
    """Blocks of ``boxes`` in reading order. ``image`` (the frame, RGB) lets a drawn edge in a
    gutter separate panes; ``separate_all`` takes every gutter (for windows, which never share
    rows); ``left`` is where the region's column begins (default: its leftmost box)."""
    if not boxes:
        return []
    arr = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    heights = arr[:, 3] - arr[:, 1]
    cutter = _Cutter(arr, image, float(max(1, np.median(heights))), separate_all)
    start = int(arr[:, 0].min()) if left is None else left
    return cutter.cut(list(range(len(boxes))), start)


def row_order(boxes: np.ndarray | Sequence[Box], indices: list[int]) -> list[list[int]]:
    """``indices`` grouped into rows (top to bottom), each row left to right. A box joins a row
    when its vertical centre lies inside the row's first box, so baselines a few pixels apart
    stay one row."""
    rows: list[list[int]] = []
    for i in sorted(indices, key=lambda i: (boxes[i][1] + boxes[i][3], boxes[i][0])):
        centre = (boxes[i][1] + boxes[i][3]) / 2
        first = boxes[rows[-1][0]] if rows else None
        if first is not None and first[1] <= centre < first[3]:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [sorted(row, key=lambda i: boxes[i][0]) for row in rows]


class _Cutter:
    def __init__(self, boxes: np.ndarray, image: np.ndarray | None, height: float, separate_all: bool) -> None:
        self.boxes = boxes
        self.image = image
        self.h = height
        self.separate_all = separate_all
        self.row_gap = ROW_GAP * height + _line_gap(boxes, height)

    def cut(self, idx: list[int], column_left: int) -> list[Block]:
        if len(idx) > 1:
            parts, lefts = self.columns(idx)
            if len(parts) > 1:
                starts = [column_left, *lefts]
                return [leaf for part, start in zip(parts, starts) for leaf in self.cut(part, start)]
            strips = self.strips(idx)
            if len(strips) > 1:
                return [leaf for strip in strips for leaf in self.cut(strip, column_left)]
        return [Block(row_order(self.boxes, idx), column_left)]

    # -- vertical cuts: columns and panes ---------------------------------------------------
    def columns(self, idx: list[int]) -> tuple[list[list[int]], list[int]]:
        """Parts left to right, and the x where each part after the first begins (the left end
        of its gutter); gutters not taken leave their sides in one part."""
        b = self.boxes[idx]
        gaps = _gaps(b[:, 0], b[:, 2], COLUMN_GAP * self.h)
        if not gaps:
            return [idx], []
        parts = _split(idx, b[:, 0], [a for a, _ in gaps])
        merged, lefts = [parts[0]], []
        for (a, z), part in zip(gaps, parts[1:]):
            if self.separate(merged[-1], part, (a, z)):
                merged.append(part)
                lefts.append(a)
            else:
                merged[-1] = merged[-1] + part
        return merged, lefts

    def separate(self, left: list[int], right: list[int], gap: tuple[int, int]) -> bool:
        if self.separate_all:
            return True
        a, b = self.boxes[left], self.boxes[right]
        if min(len(a), len(b)) >= 2:
            if _beside(a, b) < 0.5:  # they take turns down the page (a chat): read by strips
                return self._edge_in(gap, left + right)
            if _shared_rows(a, b) < 0.5:
                return True  # two stacks of lines side by side that do not share rows
        return self._edge_in(gap, left + right) or self._prose(left)

    def _prose(self, idx: list[int]) -> bool:
        b = self.boxes[idx]
        if len(b) < 3:
            return False
        widths = b[:, 2] - b[:, 0]
        span = b[:, 2].max() - b[:, 0].min()
        filled = (b[:, 2] >= b[:, 2].max() - 0.2 * span).mean()
        return bool(filled >= PROSE_FILL and np.median(widths) >= PROSE_WIDTH * self.h)

    def _edge_in(self, gap: tuple[int, int], idx: list[int]) -> bool:
        """Whether the gutter holds a drawn vertical edge over the region's whole height: two
        neighbouring pixel columns, each one colour from top to bottom, of different colours."""
        if self.image is None:
            return False
        b = self.boxes[idx]
        top, bottom = int(b[:, 1].min()), int(b[:, 3].max())
        a, z = int(gap[0]), int(gap[1])
        if z - a < 2 or bottom - top < 2:
            return False
        grey = self.image[top:bottom:2, a:z].astype(np.int16).sum(axis=2)
        uniform = (grey.max(axis=0) - grey.min(axis=0)) <= 3 * 8
        means = grey.mean(axis=0)
        steps = np.abs(np.diff(means)) > 3 * EDGE
        return bool((uniform[:-1] & uniform[1:] & steps).any())

    # -- horizontal cuts: paragraphs, blank lines, header and body -----------------------------
    def strips(self, idx: list[int]) -> list[list[int]]:
        """Parts top to bottom, neighbours joined where they continue the same columns."""
        b = self.boxes[idx]
        gaps = _gaps(b[:, 1], b[:, 3], self.row_gap)
        if not gaps:
            return [idx]
        parts = _split(idx, b[:, 1], [a for a, _ in gaps])
        merged = [parts[0]]
        for part in parts[1:]:
            joined = merged[-1] + part
            if len(self.columns(joined)[0]) > 1:
                merged[-1] = joined
            else:
                merged.append(part)
        return merged


def _gaps(lo: np.ndarray, hi: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """Empty stretches at least ``min_gap`` long between intervals ``[lo, hi)``, in order."""
    order = np.argsort(lo, kind="stable")
    gaps: list[tuple[int, int]] = []
    reach = int(hi[order[0]])
    for i in order[1:]:
        if lo[i] - reach >= min_gap:
            gaps.append((reach, int(lo[i])))
        reach = max(reach, int(hi[i]))
    return gaps


def _line_gap(boxes: np.ndarray, height: float) -> float:
    """The median empty space between a line and the nearest line below it that overlaps it
    horizontally (0 when lines touch or overlap, as detected boxes usually do)."""
    if len(boxes) < 2:
        return 0.0
    left, top, right, bottom = boxes.T
    below = (
        (top[None, :] >= top[:, None] + 0.5 * height)
        & (left[None, :] < right[:, None])
        & (right[None, :] > left[:, None])
    )
    dist = np.where(below, top[None, :] - bottom[:, None], np.iinfo(np.int64).max).min(axis=1)
    found = dist[below.any(axis=1)]
    return max(0.0, float(np.median(found))) if found.size else 0.0


def _split(idx: list[int], lo: np.ndarray, cuts: list[int]) -> list[list[int]]:
    """``idx`` split into parts by where each interval starts relative to the cut positions."""
    which = np.searchsorted(np.asarray(cuts), lo, side="right")
    return [[i for i, w in zip(idx, which) if w == k] for k in range(len(cuts) + 1)]


def _beside(left: np.ndarray, right: np.ndarray) -> float:
    """Share of the smaller side's boxes that overlap some box of the other side vertically."""
    small, big = (left, right) if len(left) <= len(right) else (right, left)
    overlap = (small[:, 1, None] < big[None, :, 3]) & (small[:, 3, None] > big[None, :, 1])
    return float(overlap.any(axis=1).mean())


def _shared_rows(left: np.ndarray, right: np.ndarray) -> float:
    """Share of the smaller side's boxes whose vertical centre lies inside a box of the other."""
    small, big = (left, right) if len(left) <= len(right) else (right, left)
    centres = (small[:, 1] + small[:, 3]) / 2
    inside = (centres[:, None] >= big[None, :, 1]) & (centres[:, None] < big[None, :, 3])
    return float(inside.any(axis=1).mean())
