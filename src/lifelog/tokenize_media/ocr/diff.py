"""Pixel-exact comparison of two frames: what changed, whether it scrolled, which rows are new.

The incremental reader must not trust a capture-side change hint (it is computed on a strided
thumbnail and may miss a one-pixel edit), so it compares full frames itself. All of this is
a few milliseconds of numpy on a 1920x1080 frame, against hundreds for detection.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import numpy as np

from lifelog.models import Box

log = logging.getLogger(__name__)

MIN_SCROLL_ROWS = 8
"""A vertical shift needs at least this many distinct matching rows to count as a scroll."""


def changed_mask(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``HxW`` bool: pixels that differ in any channel."""
    return _any_channel(old != new)


def _any_channel(per_channel: np.ndarray) -> np.ndarray:
    """OR over the last axis; spelled out because ``.any(axis=2)`` on 3 channels is ~5x slower."""
    return per_channel[..., 0] | per_channel[..., 1] | per_channel[..., 2]


def bounding_box(mask: np.ndarray) -> Box | None:
    """The smallest box holding every True pixel, or None when there is none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def find_scroll(old: np.ndarray, new: np.ndarray, area: Box) -> int | None:
    """Vertical shift ``dy`` of the content inside ``area`` (new row y shows old row y + dy).

    Rows are matched by the hash of their pixels within the area's columns; every new row
    whose content is distinctive (not a blank or repeated row) votes for the offsets at which
    the same row sits in the old frame. The winning offset needs several votes and a clear
    share of the distinctive rows, so an edit that happens to repeat a row is not a scroll.
    """
    left, top, right, bottom = area
    old_rows = _row_hashes(old[:, left:right])
    new_rows = _row_hashes(new[top:bottom, left:right])
    where: dict[int, list[int]] = defaultdict(list)
    for y, h in enumerate(old_rows):
        where[h].append(y)
    repeats = Counter(new_rows)
    votes: Counter[int] = Counter()
    distinctive = 0
    for y, h in enumerate(new_rows, start=top):
        if repeats[h] > 2 or len(where.get(h, ())) > 2:
            continue
        distinctive += 1
        votes.update(y_old - y for y_old in where.get(h, ()) if y_old != y)
    if not votes:
        return None
    dy, count = votes.most_common(1)[0]
    if count < MIN_SCROLL_ROWS or count < 0.3 * distinctive:
        return None
    log.debug("scroll dy=%d (%d of %d distinctive rows)", dy, count, distinctive)
    return dy


def _row_hashes(pixels: np.ndarray) -> list[int]:
    rows = np.ascontiguousarray(pixels).reshape(pixels.shape[0], -1)
    return [hash(row.tobytes()) for row in rows]


def shift_explained(old: np.ndarray, new: np.ndarray, dy: int, area: Box) -> np.ndarray:
    """``HxW`` bool: pixels inside ``area`` whose new value equals the old one ``dy`` rows below."""
    height = new.shape[0]
    left, top, right, bottom = area
    top, bottom = max(top, -dy), min(bottom, height - dy)
    mask = np.zeros(new.shape[:2], dtype=bool)
    if top < bottom:
        differs = new[top:bottom, left:right] != old[top + dy : bottom + dy, left:right]
        mask[top:bottom, left:right] = ~_any_channel(differs)
    return mask


def row_bands(mask: np.ndarray, margin: int) -> list[tuple[int, int]]:
    """Full-width row ranges ``(top, bottom)`` covering every True pixel plus ``margin`` rows.

    Bands closer than the margins would overlap are merged, so each text line is detected in
    one piece. Full width because a one-character change must still yield its whole line.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    bands: list[list[int]] = []
    height = mask.shape[0]
    for y in rows:
        top, bottom = max(0, int(y) - margin), min(height, int(y) + 1 + margin)
        if bands and top <= bands[-1][1]:
            bands[-1][1] = bottom
        else:
            bands.append([top, bottom])
    return [(top, bottom) for top, bottom in bands]
