"""Text as shown: the ink of a line, the character grid of monospace text, and a row's text.

Monospace text (terminals, editors, code blocks) sits on a grid of equal cells, so where a
line's ink begins says its column: indentation is ``round((ink_left - origin) / cell)``, and
the space between two boxes on one row is ``round(gap / cell)`` spaces. The cell width comes
from the recognised text itself: a line of ``n`` cells is about ``n`` cells of ink wide
(a CJK character takes two), so the median of ``ink width / n`` over the long lines is the
cell, and the text is monospace when most lines fit that cell to within about a character.
Proportional prose does not: its lines of 60 characters differ by several characters' width.

Ink, not the detector's box: boxes are padded in proportion to their size, so a one-character
line's box starts closer to its glyph than a long line's, which would misplace it by half a cell.
"""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lifelog.models import Box

INK = 48
"""Channel difference from a line's background (its box's corner pixel) that counts as ink."""
FIT_CELLS = 0.5
"""A line fits a grid when its ink is within this many cells of the width its text predicts:
glyph side bearings move it by a quarter cell at most, and proportional prose, whose lines
average out over many characters, still misses by a cell or more on most long lines."""
FIT_SHARE = 0.65
"""Text is monospace when this share of its lines (4+ cells) fit the grid (a misread or
dropped character, or spaces that aligned code and were read as one, make a line miss).
Measured on real screens: terminals and editors 0.77-0.91, prose pages 0.10-0.48."""
MIN_LONG = 12
"""The grid is estimated from lines of at least this many cells, and needs three of them."""


@dataclass(frozen=True)
class Ink:
    """Where a line's glyphs are, in frame coordinates (right and bottom exclusive)."""

    left: int
    right: int
    top: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def measure(image: np.ndarray, box: Box) -> Ink:
    """The ink inside ``box``: pixels unlike the box's corner (its background)."""
    left, top, right, bottom = box
    crop = image[top:bottom, left:right]
    if crop.size == 0:
        return Ink(*box)
    ink = np.zeros(crop.shape[:2], dtype=bool)
    for c, bg in enumerate(crop[0, 0].tolist()):  # channel by channel: ~9x faster than over axis 2
        channel = crop[:, :, c]
        ink |= (channel < bg - INK) | (channel > bg + INK)
    cols, rows = np.flatnonzero(ink.any(axis=0)), np.flatnonzero(ink.any(axis=1))
    if cols.size == 0:
        return Ink(*box)
    return Ink(left + int(cols[0]), left + int(cols[-1]) + 1, top + int(rows[0]), top + int(rows[-1]) + 1)


@lru_cache(maxsize=16384)
def cells(text: str) -> int:
    """Character cells ``text`` takes on a terminal: wide (CJK) characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cell_width(samples: list[tuple[int, int]]) -> float | None:
    """The cell width of monospace text from ``(ink width, cells)`` of its lines, or None when
    the lines are too few or too short to tell, or do not share one grid (proportional text)."""
    long = [w / (n - 0.25) for w, n in samples if n >= MIN_LONG and w > 0]
    if len(long) < 3:
        return None
    cell = statistics.median(long)
    judged = [abs(w - cell * (n - 0.25)) <= FIT_CELLS * cell for w, n in samples if n >= 4]
    return cell if sum(judged) >= FIT_SHARE * len(judged) else None


def same_cell(a: float, b: float) -> bool:
    return abs(a - b) <= 0.05 * max(a, b)


def column_of(x: float, origin: float, cell: float) -> int:
    return max(0, round((x - origin) / cell))


def on_grid(x: float, origin: float, cell: float) -> bool:
    """Whether ``x`` lies on the grid through ``origin`` (within 0.3 of a cell)."""
    steps = (x - origin) / cell
    return abs(steps - round(steps)) <= 0.3


def join_row(texts: list[str], inks: list[Ink], cell: float | None) -> str:
    """One row's boxes as one line: on a grid, each gap as the spaces it spans; else one space."""
    out = texts[0]
    for k in range(1, len(texts)):
        gap = inks[k].left - inks[k - 1].right
        out += " " * (max(1, round(gap / cell)) if cell else 1) + texts[k]
    return out
