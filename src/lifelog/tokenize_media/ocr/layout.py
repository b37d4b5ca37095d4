"""Read a screen as a person does: windows, then columns and paragraphs, then rows.

The reader (``incremental.py``) finds the text lines of a frame; this step, run on every
frame after it, decides how they are read:

1. **Windows.** Each line belongs to the topmost visible window that contains its centre
   (capture records the windows with each frame), and carries that window's app and title.
   Windows are read one after another: side by side left to right, above one another top to
   bottom, and where they overlap the one in front first. Without a window list every line
   is the focused window's, as before.
2. **Blocks.** Inside a window, recursive XY-cut (``xycut.py``) splits the lines into
   columns, panes and paragraphs, in reading order.
3. **Rows.** The boxes of one row of a block become one line. Monospace text keeps its
   indentation (from the character grid, ``shown.py``) and the spaces between its boxes;
   rows of clearly larger proportional text are headings.
4. **Cells.** Where a block's ink shows a clean grid (the gaps between glyphs line up), each
   row's characters are dealt out to the cells that hold ink, so every space, underscore and
   quote is where the pixels put it (``shown.place``): what the recogniser collapses, merges or
   inserts on code is put right. Where a row's characters and inked cells differ in number,
   each character goes to the cell it was read in (the recogniser's CTC time step says where),
   and a cell whose character was dropped gets what the model saw there; a row that still
   does not pair up keeps the text as read. On a whole-pixel grid (a terminal), a glyph
   misread once is read as the same pixels were in most other cells of the window.

Each output line says its place in reading order on the frame (``ord``) and what goes before
its text when shown (``lead``): a newline where a new block begins after another (a blank line
between paragraphs, columns, panes), ``# `` for a heading, spaces for indentation. The text
itself stays as read, so a span is matched frame to frame by its words alone and a change of
layout never makes spans churn.

Indentation is measured from the leftmost text of the column, remembered per window while the
window stays where it is: a terminal scrolled to show only indented lines keeps measuring from
column 0 it saw before.

Cost: 1-6 ms per frame on 2 cores, 0.2-1.7 % of the time reading it took (XY-cut in numpy, ink
measured once per line and cached by its columns, height and text); ``bench/layout_cost.py``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass

import numpy as np

from lifelog.models import Box, OcrLine, VisibleWindow
from lifelog.tokenize_media.ocr.shown import (
    FIT_CELLS,
    MAX_GAP_INK,
    MAX_GAP_INK_UNSURE,
    Grid,
    Ink,
    Where,
    cell_shapes,
    cell_width,
    cells,
    column_of,
    fit_grid,
    ink_height,
    ink_mask,
    join_row,
    measure,
    on_grid,
    place,
    row_cells,
    same_cell,
)
from lifelog.tokenize_media.ocr.xycut import Block, xy_cut

HEADING_HEIGHT = 1.2
"""A heading's ink is at least this much taller than the window's body text..."""
HEADING_WIDTH = 1.3
"""...and its characters this much wider on average (bold larger type); both, to be clear."""
MAX_ORIGINS = 32
"""Column origins remembered per window..."""
MAX_WINDOWS = 256
"""...and for this many windows (a moved window is a new one)."""
_INK_CACHE = 8192
MEMO_ROWS = 1024
"""Rows whose ink and placed text are remembered (see ``_Memo``)."""


class Layout:
    """Layout state for ONE monitor (origins remembered per window, ink per line); not thread-safe."""

    def __init__(self, *, by_cell: bool = True, by_position: bool = True, by_shape: bool = True) -> None:
        """``by_cell``: place each character of monospace text in its cell as the pixels show
        (``shown.place``); False keeps the text as read, spaced by the gaps between its boxes
        (the behaviour before, kept so ``bench/code_exact.py`` can compare the two).
        ``by_position``: where a row's characters and inked cells differ in number, place each
        by where the recogniser read it (``OcrLine.glyphs``); False keeps such a row as read.
        ``by_shape``: a glyph drawn the same in many cells of a window is read the same in all
        of them, as most of them were read (``_by_shape``)."""
        self.by_cell = by_cell
        self.by_position = by_position
        self.by_shape = by_shape
        self._memo = _Memo()
        self._ink: dict[tuple, tuple[int, int, int, int]] = {}
        self._origins: dict[tuple, list[tuple[float, float]]] = {}

    def reset(self) -> None:
        self._memo.clear()
        self._ink.clear()
        self._origins.clear()

    def arrange(
        self, image: np.ndarray, lines: list[OcrLine], windows: list[VisibleWindow] | None = None
    ) -> list[OcrLine]:
        """``lines`` of ``image`` as rows in reading order, each with ``ord``, ``lead``, and with a
        window list its window's ``app`` and ``window`` ('' for a line outside every window)."""
        windows = windows or []
        groups: dict[int, list[int]] = {}
        for i, line in enumerate(lines):
            groups.setdefault(_window_of(line.box, windows) if windows else -1, []).append(i)
        out: list[OcrLine] = []
        for k in _window_order(groups, lines):
            win = windows[k] if k >= 0 else None
            named = (win.app, win.title) if win else ("", "") if windows else (None, None)
            out.extend(self._window(image, [lines[i] for i in groups[k]], win, named, len(out)))
        return out

    # -- one window ----------------------------------------------------------------------
    def _window(
        self,
        image: np.ndarray,
        lines: list[OcrLine],
        win: VisibleWindow | None,
        named: tuple[str | None, str | None],
        first_ord: int,
    ) -> list[OcrLine]:
        inks = [self._measure(image, _clip(line.box, win.box) if win else line.box, line.text) for line in lines]
        # across, the ink: the detector pads a box by up to a character each side, which can
        # close a gutter between two columns of text that fills them (Chinese does)
        spans = [(ink.left, line.box[1], ink.right, line.box[3]) for ink, line in zip(inks, lines)]
        blocks = xy_cut(spans, image, left=max(0, win.box[0]) if win else 0)
        sizes = [(ink.width, cells(line.text)) for line, ink in zip(lines, inks)]
        whole = cell_width(sizes)
        grids = [whole or cell_width([sizes[i] for i in b.indices]) for b in blocks]
        lent = _lend_cells(grids, [[sizes[i] for i in b.indices] for b in blocks]) if self.by_cell else grids
        fits = [
            _fit_block(image, b, lines, cell, sizes, self._memo, sure=grid is not None) if self.by_cell else None
            for b, grid, cell in zip(blocks, grids, lent)
        ]
        # a lent cell stands only where the block's ink shows that grid
        grids = [fit.grid.cell if fit else grid for fit, grid in zip(fits, grids)]
        origins = self._origins_of((win.app, win.box) if win else None, blocks, grids, inks)
        body = _body_size([row for b, g in zip(blocks, grids) if not g for row in b.rows], lines, inks)
        out: list[OcrLine] = []
        on_grid = [
            _on_grid(fit, block, lines, origin, self._memo, self.by_position) if fit else {}
            for fit, block, origin in zip(fits, blocks, origins)
        ]
        if self.by_shape:
            _by_shape(on_grid)
        for n, (block, grid, origin) in enumerate(zip(blocks, grids, origins)):
            placed = {j: lead_text[:2] for j, lead_text in on_grid[n].items()}
            for j, row in enumerate(block.rows):
                members, row_inks = [lines[i] for i in row], [inks[i] for i in row]
                text = join_row([m.text for m in members], row_inks, grid)
                if j in placed:
                    lead, text = placed[j]
                elif grid:
                    lead = " " * column_of(row_inks[0].left, origin, grid)
                else:
                    lead = "# " if _is_heading(row_inks, text, body) else ""
                out.append(
                    OcrLine(
                        text,
                        _union([m.box for m in members]),
                        min(m.score for m in members),
                        ord=first_ord + len(out),
                        lead=("\n" if j == 0 and n > 0 else "") + lead,
                        app=named[0],
                        window=named[1],
                    )
                )
        return out

    def _measure(self, image: np.ndarray, box: Box, text: str) -> Ink:
        """The ink of a line inside ``box`` (its box within its window: a window's border is not
        its ink), cached by what a vertical shift keeps: its columns, height and text."""
        left, top, right, bottom = box
        key = (left, right, bottom - top, text)
        rel = self._ink.get(key)
        if rel is None:
            ink = measure(image, box)
            rel = (ink.left - left, ink.right - left, ink.top - top, ink.bottom - top)
            if len(self._ink) >= _INK_CACHE:
                self._ink.clear()
            self._ink[key] = rel
        return Ink(left + rel[0], left + rel[1], top + rel[2], top + rel[3])

    def _origins_of(self, key, blocks: list[Block], grids, inks: list[Ink]) -> list[float]:
        """Per block, the x its monospace columns count from: the leftmost text of its column
        (blocks of one column on one grid share it), or an origin remembered for this window
        left of it on the same grid and still inside the column."""
        columns: list[list] = []  # [column_left, cell, leftmost ink]
        for b, grid in zip(blocks, grids):
            if not grid:
                continue
            x = min(inks[row[0]].left for row in b.rows)
            for col in columns:
                if col[0] == b.column_left and same_cell(col[1], grid):
                    col[2] = min(col[2], x)
                    break
            else:
                columns.append([b.column_left, grid, x])
        if key not in self._origins and len(self._origins) >= MAX_WINDOWS:
            del self._origins[next(iter(self._origins))]  # the window remembered longest ago
        known = self._origins.setdefault(key, [])
        resolved = []
        for bound, cell, x in columns:
            earlier = [o for c, o in known if same_cell(c, cell) and bound - 1 <= o <= x and on_grid(x, o, cell)]
            if not earlier:
                known.append((cell, x))
                del known[:-MAX_ORIGINS]
            resolved.append((bound, cell, min(earlier, default=x)))
        out = []
        for b, grid in zip(blocks, grids):
            match = [o for bound, cell, o in resolved if grid and bound == b.column_left and same_cell(cell, grid)]
            out.append(match[0] if match else 0.0)
        return out


@dataclass
class _Row:
    """A row's own ink: its mask (see ``_row_ink``), whose column 0 is frame column ``left``."""

    left: int
    mask: np.ndarray
    height: int


@dataclass
class _Fit:
    """A block's grid as its ink shows it, with each row's ink and memo key."""

    grid: Grid
    rows: list[_Row]
    keys: list[tuple]


class _Memo:
    """Rows' ink and placed text remembered across frames: a row that scrolled or stayed has the
    same text, the same boxes across and the same band around it, so the same pixels."""

    def __init__(self) -> None:
        self.ink: dict[tuple, _Row] = {}
        self.placed: dict[tuple, tuple[int, str | None, list[bytes | None]]] = {}

    def clear(self) -> None:
        self.ink.clear()
        self.placed.clear()

    def remember(self, table: dict, key: tuple, value) -> None:
        if len(table) >= MEMO_ROWS:
            del table[next(iter(table))]  # the row remembered longest ago
        table[key] = value


def _fit_block(
    image: np.ndarray,
    block: Block,
    lines: list[OcrLine],
    cell: float | None,
    sizes: list[tuple[int, int]],
    memo: _Memo,
    sure: bool = True,
) -> _Fit | None:
    """The grid of a block's ink near ``cell`` (from its text's lengths), or, with no ``cell``,
    near the median cell of its long lines when the ink shows a clean grid there (the text was
    misread too much for its lengths to tell, or ``cell`` was lent by other blocks: not
    ``sure``); None when the block is not on a grid."""
    guess = cell or cell_width([sizes[i] for i in block.indices], share=0.0)
    if guess is None:
        return None
    x0 = min(lines[i].box[0] for row in block.rows for i in row)
    x1 = max(lines[i].box[2] for row in block.rows for i in row)
    profile = np.zeros(max(1, x1 - x0 + 2 * math.ceil(guess) + 2), dtype=np.int64)
    inked_rows = np.zeros_like(profile)
    start = x0 - math.ceil(guess) - 1  # frame column of profile[0]
    rows, keys = [], []
    for row, band in zip(block.rows, _bands(block, lines)):
        key = _row_key(row, lines, band, guess)
        ink = memo.ink.get(key)
        if ink is None:
            ink = _row_ink(image, row, lines, band, guess, (x0, x1))
            memo.remember(memo.ink, key, ink)
        rows.append(ink)
        keys.append(key)
        at = ink.left - start
        profile[at : at + ink.mask.shape[1]] += ink.mask.sum(axis=0)
        inked_rows[at : at + ink.mask.shape[1]] += ink.mask.any(axis=0)
    if len(rows) >= 4:  # a line down every row (a border, a pane's edge) is not text
        profile[inked_rows >= 0.9 * len(rows)] = 0
    grid = fit_grid(profile, start, guess, MAX_GAP_INK if cell and sure else MAX_GAP_INK_UNSURE)
    return _Fit(grid, rows, keys) if grid else None


def _row_key(row: list[int], lines: list[OcrLine], band: tuple[int, int], guess: float) -> tuple:
    """What a row's ink depends on, apart from where it is down the frame."""
    boxes = [lines[i].box for i in row]
    top = min(b[1] for b in boxes)
    across = tuple((b[0], b[2], b[1] - top, b[3] - top) for b in boxes)
    return (tuple(lines[i].text for i in row), across, band[0] - top, band[1] - top, round(guess, 2))


def _row_ink(
    image: np.ndarray, row: list[int], lines: list[OcrLine], band: tuple[int, int], guess: float, span: tuple[int, int]
) -> _Row:
    """The ink of a row's band across its own boxes and a cell either side (a box may cut a
    glyph) within the block's extent ``span`` (left, right), not ink outside every box of the
    row (such as a line the detector missed); its background from the band's edges across it."""
    left = max(span[0], math.floor(min(lines[i].box[0] for i in row) - guess))
    right = min(span[1], math.ceil(max(lines[i].box[2] for i in row) + guess))
    mask = _own_rows(ink_mask(image, (left, band[0], max(left + 1, right), band[1]), span))
    return _Row(left, mask, ink_height(mask))


def _on_grid(
    fit: _Fit, block: Block, lines: list[OcrLine], origin: float, memo: _Memo, by_position: bool = True
) -> dict[int, tuple[str, str, list[bytes | None]]]:
    """``(lead, text, the shape of each cell's ink)`` of the block's rows whose characters could
    be placed cell by cell on its grid (``shown.place``), by row number; rows that could not
    are left out (they keep the text as read)."""
    grid = fit.grid
    height = statistics.median(ink.height for ink in fit.rows)
    out = {}
    for j, (row, ink, key) in enumerate(zip(block.rows, fit.rows, fit.keys)):
        at = (key, round(grid.cell, 3), round(grid.phase % grid.cell, 2), height)
        done = memo.placed.get(at)
        if done is None:
            first, cells = row_cells(ink.mask, ink.left, grid, height)
            where = _where(row, lines, grid, first) if by_position else None
            text = place(" ".join(lines[i].text for i in row), cells, where)
            done = (first, text, cell_shapes(ink.mask, ink.left, grid, first, cells) if text else [])
            memo.remember(memo.placed, at, done)
        first, text, shapes = done
        if text:
            out[j] = (" " * column_of(grid.phase + first * grid.cell + 1, origin, grid.cell), text, shapes)
    return out


BY_SHAPE = 3
"""A glyph drawn the same, pixel for pixel, in at least this many cells of a window read as
one character is that character where it was read otherwise only once (two characters a
font draws alike, such as ``l`` and ``I``, are each read so more than once)."""


def _by_shape(on_grid: list[dict[int, tuple[str, str, list[bytes | None]]]]) -> None:
    """Rewrite, in place, characters that the recogniser read otherwise than the same glyph
    elsewhere on the window (a bitmap font draws each character the same in every cell:
    ``w`` read as ``u`` in one word and as ``w`` in five)."""
    votes: dict[bytes, Counter] = {}
    for placed in on_grid:
        for _, text, shapes in placed.values():
            if len(text) == len(shapes):
                for c, shape in zip(text, shapes):
                    if shape is not None and not c.isspace():
                        votes.setdefault(shape, Counter())[c] += 1
    settled = {}
    for shape, counts in votes.items():
        best, n = counts.most_common(1)[0]
        if n >= BY_SHAPE and any(k == 1 for k in counts.values()):
            settled[shape] = (best, counts)
    if not settled:
        return
    for placed in on_grid:
        for j, (lead, text, shapes) in placed.items():
            if len(text) == len(shapes) and any(s in settled for s in shapes):
                fixed = [
                    settled[s][0] if s in settled and settled[s][1][c] == 1 and not c.isspace() else c
                    for c, s in zip(text, shapes)
                ]
                placed[j] = (lead, "".join(fixed), shapes)


def _lend_cells(grids: list[float | None], sizes: list[list[tuple[int, int]]]) -> list[float | None]:
    """Each block's cell width, a block too short to tell its own (two rows of code between
    blank lines) taking the one its window's other blocks share when half its lines fit it
    (the caller keeps it only where the block's ink shows that grid)."""
    known = [g for g in grids if g]
    if not known or len(known) == len(grids):
        return grids
    cell = statistics.median(known)
    if not all(same_cell(g, cell) for g in known):
        return grids
    out = []
    for grid, block in zip(grids, sizes):
        judged = [abs(w - cell * (n - 0.25)) <= FIT_CELLS * cell for w, n in block if n >= 4]
        out.append(grid or (cell if judged and sum(judged) >= 0.5 * len(judged) else None))
    return out


def _where(row: list[int], lines: list[OcrLine], grid: Grid, first: int) -> Where | None:
    """Where the recogniser read a row's characters, in cells from its cell ``first``; None
    when a line of it does not say (``ctc.Glyphs``)."""
    at: list[float] = []
    alt: list[tuple[float, str, float]] = []
    for i in row:
        glyphs = lines[i].glyphs
        if glyphs is None:
            return None
        left, width = lines[i].box[0], lines[i].box[2] - lines[i].box[0]
        start = (left - grid.phase) / grid.cell - first
        scale = width / grid.cell
        at += [start + f * scale for f in glyphs.at]
        alt += [
            (start + (k + 0.5) * glyphs.step * scale, c, p) for k, (c, p) in enumerate(zip(glyphs.alt, glyphs.alt_p))
        ]
    return Where(at, alt)


def _own_rows(mask: np.ndarray) -> np.ndarray:
    """The row's mask without ink that reaches in from the rows above and below: a run of
    inked pixel rows that touches the top or bottom edge and is apart from the run nearest the
    middle (tightly set text, such as a 6x13 bitmap font, leaves a blank pixel row between
    lines, and boxes reach across it). An underscore below its letters stays: it is inside."""
    inked = np.asarray(mask.any(axis=1))
    rows = np.flatnonzero(inked)
    if rows.size == 0:
        return mask
    middle = mask.shape[0] // 2
    start = int(rows[np.abs(rows - middle).argmin()])
    top, bottom = start, start
    while top > 0 and inked[top - 1]:
        top -= 1
    while bottom + 1 < inked.size and inked[bottom + 1]:
        bottom += 1
    kept = mask.copy()
    if inked[0] and top > 0:
        kept[: int(np.flatnonzero(~inked)[0])] = False
    if inked[-1] and bottom < inked.size - 1:
        kept[int(np.flatnonzero(~inked)[-1]) + 1 :] = False
    return kept


def _bands(block: Block, lines: list[OcrLine]) -> list[tuple[int, int]]:
    """Each row's pixel rows: its boxes' extent, cut halfway to the rows above and below where
    the detector's padding overlaps them (tightly set terminal text)."""
    spans = [(min(lines[i].box[1] for i in row), max(lines[i].box[3] for i in row)) for row in block.rows]
    centres = [(t + b) / 2 for t, b in spans]
    out = []
    for j, (top, bottom) in enumerate(spans):
        if j > 0 and spans[j - 1][1] > top:
            top = max(top, round((centres[j - 1] + centres[j]) / 2))
        if j + 1 < len(spans) and spans[j + 1][0] < bottom:
            bottom = min(bottom, round((centres[j] + centres[j + 1]) / 2))
        out.append((top, max(top + 1, bottom)))
    return out


def _window_of(box: Box, windows: list[VisibleWindow]) -> int:
    """Index of the topmost window containing the box's centre, or -1."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for k, w in enumerate(windows):
        if w.box[0] <= cx < w.box[2] and w.box[1] <= cy < w.box[3]:
            return k
    return -1


def _window_order(groups: dict[int, list[int]], lines: list[OcrLine]) -> list[int]:
    """Windows in reading order: XY-cut over the extent of each window's text (every gap
    separates), and where that cannot separate them, the one in front first."""
    keys = sorted(groups)
    if len(keys) == 1:
        return keys
    extents = [_union([lines[i].box for i in groups[k]]) for k in keys]
    rank = lambda k: k if k >= 0 else len(keys) + 1_000_000  # noqa: E731 - lines outside windows last
    return [keys[i] for b in xy_cut(extents, separate_all=True) for i in sorted(b.indices, key=lambda i: rank(keys[i]))]


def _clip(box: Box, within: Box) -> Box:
    """``box`` inside ``within``; unchanged when they do not overlap."""
    clipped = (max(box[0], within[0]), max(box[1], within[1]), min(box[2], within[2]), min(box[3], within[3]))
    return clipped if clipped[0] < clipped[2] and clipped[1] < clipped[3] else box


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _body_size(rows: list[list[int]], lines: list[OcrLine], inks: list[Ink]) -> tuple[float, float] | None:
    """Median ink height and character width of a window's proportional rows of 10+ cells
    (its body text), or None with fewer than 4 such rows."""
    heights, widths = [], []
    for row in rows:
        n = sum(cells(lines[i].text) for i in row)
        if n >= 10:
            heights.append(max(inks[i].height for i in row))
            widths.append(sum(inks[i].width for i in row) / n)
    if len(heights) < 4:
        return None
    return statistics.median(heights), statistics.median(widths)


def _is_heading(inks: list[Ink], text: str, body: tuple[float, float] | None) -> bool:
    if body is None or not text.strip():
        return False
    height, width = max(i.height for i in inks), sum(i.width for i in inks) / max(1, cells(text))
    return height >= HEADING_HEIGHT * body[0] and width >= HEADING_WIDTH * body[1]
