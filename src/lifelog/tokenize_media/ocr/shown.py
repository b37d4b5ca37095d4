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

import math
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


def cell_width(samples: list[tuple[int, int]], share: float = FIT_SHARE) -> float | None:
    """The cell width of monospace text from ``(ink width, cells)`` of its lines, or None when
    the lines are too few or too short to tell, or fewer than ``share`` of them fit one grid
    (proportional text)."""
    long = [w / (n - 0.25) for w, n in samples if n >= MIN_LONG and w > 0]
    if len(long) < 3:
        return None
    cell = statistics.median(long)
    judged = [abs(w - cell * (n - 0.25)) <= FIT_CELLS * cell for w, n in samples if n >= 4]
    return cell if sum(judged) >= share * len(judged) else None


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


# -- text placed on the grid -------------------------------------------------------------
# The recogniser reads characters well but not the spaces between them: it collapses runs of
# spaces, adds one before "[" or after ".", and merges "__" into one "_" (underscores touch, so
# CTC sees one glyph). On a grid the pixels say which cells hold ink, so a row's text is its
# characters (spaces dropped) dealt out to its inked cells in order, and every empty cell is a
# space. Underscores and dashes are told by their ink alone (a bar across the cell at the
# bottom, or a thin one in the middle), so a run of them has exactly as many as it has cells.

REFINE_SPAN = 0.06
"""The cell width from text lengths is refined within this share of it, from the ink itself."""
MAX_GAP_INK = 0.35
"""On a grid, the pixel columns between cells hold at most this share of the average ink..."""
MAX_GAP_INK_UNSURE = 0.15
"""...and at most this share where the text's lengths did not already say it is monospace
(misread text, such as a tiny bitmap font, fits no grid by its lengths)."""


@dataclass(frozen=True)
class Grid:
    """A cell grid in frame pixels: cell ``k`` spans ``[phase + k*cell, phase + (k+1)*cell)``."""

    cell: float
    phase: float

    def column(self, x: float) -> int:
        """The cell that pixel column ``x`` falls in."""
        return int(np.floor((x - self.phase) / self.cell))


def ink_mask(image: np.ndarray, box: Box, span: tuple[int, int] | None = None) -> np.ndarray:
    """Ink pixels of ``box`` (unlike its background: the median colour of its top and bottom
    rows, across ``span`` (left, right) when given, which a window's edge in a corner does not
    sway), as a bool array."""
    left, top, right, bottom = box
    crop = image[top:bottom, left:right]
    ink = np.zeros(crop.shape[:2], dtype=bool)
    a, b = span or (left, right)
    edges = image[[top, bottom - 1], a:b:4] if crop.size else crop
    background = np.median(edges.reshape(-1, crop.shape[2]), axis=0) if crop.size else []
    for c, bg in enumerate(int(v) for v in background):
        channel = crop[:, :, c]
        ink |= (channel < bg - INK) | (channel > bg + INK)
    return ink


def fit_grid(profile: np.ndarray, x0: int, cell: float, most: float = MAX_GAP_INK) -> Grid | None:
    """The grid whose cell boundaries fall where ``profile`` (ink per pixel column, starting at
    frame column ``x0``) has least ink, searched within ``REFINE_SPAN`` of ``cell``; None when
    no width leaves boundaries clearly emptier than the rest (the text is not on a grid).

    Each candidate width folds the profile into bins of at least a pixel; on the true width the
    gaps between glyphs pile into two nearly empty bins, while a width off by 1/n of a pixel
    smears them over n cells. Of the widths that tie (a few hundredths of a pixel), the middle."""
    xs = np.flatnonzero(profile)
    if xs.size == 0:
        return None
    weights = profile[xs].astype(np.float64)
    positions = xs.astype(np.float64)
    bins = max(4, int(cell * (1 - REFINE_SPAN)))
    gap = 2 if bins >= 10 else 1  # glyphs leave a pixel or two between them (one in small fonts)
    coarse = _gap_scores(
        positions, weights, np.linspace(cell * (1 - REFINE_SPAN), cell * (1 + REFINE_SPAN), 25), bins, gap
    )
    near = float(coarse[1][int(np.argmin(coarse[0]))])
    widths = np.linspace(near * (1 - REFINE_SPAN / 10), near * (1 + REFINE_SPAN / 10), 41)
    scores, phases = _gap_scores(positions, weights, widths, bins, gap)[0::2]
    best = min(scores)
    if best > most:
        return None
    ties = [i for i, score in enumerate(scores) if score <= best + 0.02]
    pick = ties[len(ties) // 2]
    return Grid(float(widths[pick]), x0 + phases[pick])


def _gap_scores(
    positions: np.ndarray, weights: np.ndarray, widths: np.ndarray, bins: int, gap: int
) -> tuple[list[float], np.ndarray, list[float]]:
    """For each candidate cell width: the ink in its emptiest ``gap`` bins as a share of the
    average, the widths, and where that gap falls (the phase of the cell boundaries)."""
    # every width at once: the bin of each inked column under each width, in one bincount
    index = (positions[None, :] % widths[:, None] / widths[:, None] * bins).astype(np.int64) % bins
    index += np.arange(widths.size)[:, None] * bins
    folded = np.bincount(index.ravel(), np.tile(weights, widths.size), widths.size * bins).reshape(-1, bins)
    gaps = folded + np.roll(folded, -1, axis=1) if gap == 2 else folded
    lows = gaps.argmin(axis=1)
    scores = (gaps[np.arange(widths.size), lows] / (gap * folded.mean(axis=1))).tolist()
    return scores, widths, ((lows + gap / 2) / bins * widths).tolist()


@dataclass(frozen=True)
class Cell:
    """The ink of one cell of a row: ``kind`` is ``" "`` (none), ``"_"`` (an underscore: a bar
    across the cell at the bottom), ``"-"`` (a dash: a thin bar in the middle), ``"'"`` (a quote:
    ink only at the top, ``strokes`` of it) or ``"x"`` (any other glyph); ``top`` and ``bottom``
    are its inked rows, counted from the top of the row's ink (bottom exclusive)."""

    kind: str
    top: int = 0
    bottom: int = 0
    strokes: int = 0
    slant: float = 0.0
    """How far left the ink's bottom row lies of its top row, in pixels (a comma's tail)."""


def ink_height(ink: np.ndarray) -> int:
    """Rows from the top of a mask's ink to its bottom."""
    rows = np.flatnonzero(ink.any(axis=1))
    return int(rows[-1]) - int(rows[0]) + 1 if rows.size else 0


def row_cells(ink: np.ndarray, x0: int, grid: Grid, height: float) -> tuple[int, list[Cell]]:
    """The first cell of a row's ink and its cells from there to its last inked one.
    ``ink``: the row's ink mask, whose column 0 is frame column ``x0``; ``height``: the ink
    height of a full row of this text (a row of quotes alone is not as tall).

    Per pixel column first (numpy), then per cell over a handful of columns in plain Python:
    a screen has thousands of cells, and numpy's overhead on arrays this small is most of it."""
    counts = ink.sum(axis=0)
    cols = np.flatnonzero(counts)
    if cols.size == 0:
        return 0, []
    rows = np.flatnonzero(ink.any(axis=1))
    ink = ink[rows[0] :]
    h = ink.shape[0]
    inked = counts > 0
    tops = np.where(inked, ink.argmax(axis=0), h).tolist()
    bottoms = np.where(inked, h - ink[::-1].argmax(axis=0), 0).tolist()
    count = counts.tolist()
    first, last = grid.column(x0 + cols[0]), grid.column(x0 + cols[-1])
    width = ink.shape[1]
    out = []
    for k in range(first, last + 1):
        a = max(0, min(width, int(np.ceil(grid.phase + k * grid.cell)) - x0))
        b = max(0, min(width, int(np.floor(grid.phase + (k + 1) * grid.cell)) - x0))
        out.append(_cell(ink, a, b, count, tops, bottoms, height))
    return first, out


def _cell(ink: np.ndarray, a: int, b: int, count: list, tops: list, bottoms: list, height: float) -> Cell:
    """The cell over pixel columns ``a:b`` of a row's ink."""
    if b <= a or sum(count[a:b]) <= 2:  # nothing, or a neighbour's edge bleeding in
        return Cell(" ")
    used = [x for x in range(a, b) if count[x]]
    top, bottom = min(tops[x] for x in used), max(bottoms[x] for x in used)
    span = bottom - top
    cover = len(used) / (b - a)
    # strokes: one more than the valleys in the ink per column (an antialiased font may
    # leave a few pixels between the two strokes of a '"', so not only empty columns)
    profile = [v for x, v in enumerate(count[used[0] : used[-1] + 1]) if not x or v != count[used[0] + x - 1]]
    strokes = 1 + sum(1 for i in range(1, len(profile) - 1) if profile[i - 1] > profile[i] < profile[i + 1])
    thin = span <= max(2, round(0.12 * height))
    if thin and cover >= 0.75 and bottom >= 0.8 * height:
        kind = "_"
    elif thin and cover >= 0.5 and 0.3 * height <= (top + bottom) / 2 <= 0.75 * height:
        kind = "-"
    elif bottom <= 0.45 * height and span >= 0.2 * height and strokes <= 2:
        kind = "'"
    else:
        kind = "x"
    slant = 0.0
    if span <= 0.5 * height:  # small enough to be a comma: where its top and bottom rows lie
        on_top = [x for x in used if ink[top, x]]
        on_bottom = [x for x in used if ink[bottom - 1, x]]
        slant = sum(on_top) / len(on_top) - sum(on_bottom) / len(on_bottom)
    return Cell(kind, top, bottom, strokes, slant)


def _dot(cell: Cell, x_top: float | None, baseline: float | None) -> bool:
    """Whether a cell's ink is a dot on the baseline: in the lower half of the x-height."""
    return (
        x_top is not None
        and baseline is not None
        and cell.top >= (x_top + baseline) / 2
        and cell.bottom >= baseline - 1
    )


def cell_shapes(ink: np.ndarray, x0: int, grid: Grid, first: int, cells: list[Cell]) -> list[bytes | None]:
    """The ink of each of a row's cells (those of ``row_cells``) as a key that two cells share
    when their glyphs are the same pixels at the same height on the row (rows aligned on their
    baseline, the commonest bottom of their glyphs); None for an empty cell, and for all where
    the cell is not a whole number of pixels wide (an antialiased glyph then falls on the
    pixels differently from cell to cell)."""
    if abs(grid.cell - round(grid.cell)) > 0.02 or not cells:
        return [None] * len(cells)
    rows = np.flatnonzero(ink.any(axis=1))
    bottoms = [c.bottom for c in cells if c.kind == "x"]
    if rows.size == 0 or not bottoms:
        return [None] * len(cells)
    baseline = int(rows[0]) + statistics.mode(bottoms)
    pad = ink.shape[0]
    tall = np.pad(ink, ((pad, pad), (0, 0)))[baseline : baseline + pad + pad // 2]
    width = ink.shape[1]
    out: list[bytes | None] = []
    for k, cell in enumerate(cells, start=first):
        a = int(np.ceil(grid.phase + k * grid.cell)) - x0
        b = a + round(grid.cell)
        if cell.kind == " " or a < 0 or b > width:
            out.append(None)
        else:
            out.append(np.packbits(tall[:, a:b]).tobytes() + bytes([b - a]))
    return out


QUOTES = "'\"‘’“”′″"
"""What the recogniser may read a straight quote as."""


@dataclass(frozen=True)
class Where:
    """Where the recogniser read a row's characters, in cells from the row's first cell (cell
    ``k`` spans ``[k, k + 1)``): ``at``, each non-space character of its text; ``alt``, at each
    time step, ``(position, the likeliest printable character there, its probability)``."""

    at: list[float]
    alt: list[tuple[float, str, float]]


SKIP = 0.9
"""What leaving a character or an inked cell unpaired costs, in cells of distance: a
character read more than this far from a cell is sooner an extra one than that cell's."""
MIN_ALT = 0.02
"""A cell whose character was dropped is filled with what the model saw there when it gave
it at least this probability."""


def place(text: str, cells: list[Cell], where: Where | None = None) -> str | None:
    """``text``'s characters dealt out to the inked cells of a row, in order, spaces where cells
    are empty; None when the characters and the cells cannot be matched one to one.

    Where characters and inked cells differ in number and the recogniser's positions are known
    (``where``), each character goes to the cell it was read in (``by_position``): a dropped
    character's cell gets what the model saw there, a doubled one is left out.

    Underscores and dashes come from the ink where the text and the cells disagree only in them
    (``_init_`` over the cells of ``__init__``, ``--`` over a run of 40 dashes), and so does a
    row of nothing but quotes (``\"\"\"`` read as ``11``); see ``by_ink`` for what else the ink
    settles."""
    chars = [c for c in text if not c.isspace()]
    inked = [i for i, c in enumerate(cells) if c.kind != " "]
    if inked and all(cells[i].kind == "'" for i in inked):
        chars = ['"' if cells[i].strokes == 2 else "'" for i in inked]
    out = [" "] * len(cells)
    if len(chars) == len(inked) and (where is None or _in_step(where.at, inked)):
        for i, c in zip(inked, chars):
            out[i] = c
        return by_ink(out, cells)
    if where is not None and len(where.at) == len(chars):
        shown = by_position(chars, where, cells, inked)
        if shown is not None:
            return by_ink(shown, cells)
    for kinds in _TOLD_BY_INK:
        like = "".join(_READ_AS[k] for k in kinds)
        rest = [c for c in chars if c not in like]
        others = [i for i in inked if cells[i].kind not in kinds]
        if len(rest) == len(others) and len(others) < len(inked):
            for i in inked:
                out[i] = cells[i].kind
            for i, c in zip(others, rest):
                out[i] = c
            return by_ink(out, cells)
    return None


def by_position(chars: list[str], where: Where, cells: list[Cell], inked: list[int]) -> list[str] | None:
    """Characters paired with inked cells by where they were read: the pairing, in order, whose
    distances plus ``SKIP`` for each character or cell left out is least (dynamic programming);
    a cell left out gets its glyph from the ink (underscore, dash, quote) or else the model's
    likeliest character there; None when that is not clear, or too much is left out."""
    n, m = len(chars), len(inked)
    centres = [k + 0.5 for k in inked]
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                cost[0][0] = 0.0
                continue
            best, how = inf, 0
            if i and j:
                best, how = cost[i - 1][j - 1] + abs(where.at[i - 1] - centres[j - 1]), 1
            if i and cost[i - 1][j] + SKIP < best:
                best, how = cost[i - 1][j] + SKIP, 2
            if j and cost[i][j - 1] + SKIP < best:
                best, how = cost[i][j - 1] + SKIP, 3
            cost[i][j], move[i][j] = best, how
    out = [" "] * len(cells)
    missing = []
    i, j = n, m
    while i or j:
        how = move[i][j]
        if how == 1:
            out[inked[j - 1]] = chars[i - 1]
            i, j = i - 1, j - 1
        elif how == 2:
            i -= 1
            k = math.floor(where.at[i])
            if chars[i] in _FAINT and 0 <= k < len(cells) and cells[k].kind == " " and out[k] == " ":
                out[k] = chars[i]  # a mark too small to count as ink in its cell (a bitmap font's ')
                n -= 1
        else:
            missing.append(inked[j - 1])
            j -= 1
    if len(missing) > max(1, m // 8) or n - (m - len(missing)) > max(1, m // 8):
        return None
    for k in missing:
        kind = cells[k].kind
        if kind != "x":
            out[k] = kind
            continue
        seen = [(p, c) for x, c, p in where.alt if k <= x < k + 1]
        if not seen or max(seen)[0] < MIN_ALT:
            return None
        out[k] = max(seen)[1]
    return out


def _in_step(at: list[float], inked: list[int]) -> bool:
    """Whether characters read at ``at`` pair up in order with the inked cells ``inked``, each
    within ``STRAY`` of its cell's centre (else one was dropped and another read extra)."""
    return all(abs(x - k - 0.5) <= STRAY for x, k in zip(at, inked))


STRAY = 0.75
"""How far from its cell's centre a character may have been read (99 % are within 0.4)."""
_FAINT = "'`"
"""Marks a small bitmap font draws with too few pixels for its cell to count as inked."""


_READ_AS = {"_": "_—–·", "-": "-—–", "'": QUOTES}
"""What the recogniser reads the glyphs the ink alone tells as: a run of underscores often
comes back as one, or as a dash (``__`` as ``—``)."""
_TOLD_BY_INK = ("_", "-", "'", "_-", "_'", "_-'")
"""The kinds of cell to fill from the ink when the rest of a row pairs up without them,
fewest first."""


_X_HEIGHT = "aemnru"
"""Lowercase letters that have no capital of the same shape: their top is the x-height."""
_CAP_HEIGHT = "ABDEFGHJKLMNPQRTUY23456789bdhkl"
"""Characters whose top is the capital height."""
_TWO_CASES = "cosvwxzCOSVWXZ"
"""Letters whose capital differs only in size: the ink's top says which was shown."""
_BASE = "acemnorsuvwxzABCDEFGHIKLMNORSTUVWXZ"
"""Characters that sit on the baseline (no descender)."""


def by_ink(chars: list[str], cells: list[Cell]) -> str:
    """Characters placed on a row's cells, corrected where the cell's ink decides:
    ``_`` on an underscore cell, a quote by its strokes on a quote cell, the case of a letter
    whose capital has the same shape (``o``/``O``, ``s``/``S``, ``x``/``X``) by how high it
    reaches, and ``.``/``,`` or ``:``/``;`` by whether it goes below the baseline."""
    tops: dict[str, list[int]] = {"x": [], "cap": []}
    bottoms: list[int] = []
    for c, cell in zip(chars, cells):
        if c in _X_HEIGHT:
            tops["x"].append(cell.top)
        elif c in _CAP_HEIGHT:
            tops["cap"].append(cell.top)
        if c in _BASE:
            bottoms.append(cell.bottom)
    x_top = statistics.median(tops["x"]) if tops["x"] else None
    cap_top = statistics.median(tops["cap"]) if tops["cap"] else None
    baseline = statistics.median(bottoms) if len(bottoms) >= 3 else None
    out = []
    for c, cell in zip(chars, cells):
        if cell.kind == "_":
            c = "_"
        elif cell.kind == "'" and c in QUOTES + "'":
            c = '"' if cell.strokes == 2 else "'"
        elif c in _TWO_CASES and x_top is not None and cap_top is not None and cap_top < x_top:
            c = c.lower() if abs(cell.top - x_top) < abs(cell.top - cap_top) else c.upper()
        elif c in "-·" and cell.kind == "x" and _dot(cell, x_top, baseline):
            c = "," if cell.slant >= 0.75 else "."  # a dot on the baseline read as a middle dot or dash
        elif c in ".," and baseline is not None:
            # a comma's tail goes below the baseline, or (in a bitmap font) bends to the left
            low = x_top is not None and cell.bottom >= baseline + max(1.5, 0.15 * (baseline - x_top))
            c = "," if low or cell.slant >= 0.75 else "."
        elif c in ":;" and baseline is not None and x_top is not None:
            # a semicolon's tail goes further below than a colon's dot (which, in a bitmap
            # font, may sit a pixel low)
            c = ";" if cell.bottom >= baseline + max(1.5, 0.15 * (baseline - x_top)) else ":"
        out.append(c)
    return "".join(out)
