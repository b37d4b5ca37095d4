"""Read one monitor frame after frame, paying only for text that is new.

Most consecutive screen frames differ in a cursor, a typed line or a scroll. A full OCR pass
costs seconds on CPU; the ``ScreenReader`` keeps the previous frame and its lines and:

1. compares the new frame with the previous one pixel by pixel (nothing changed: done);
2. keeps previous lines whose pixels did not change;
3. finds a vertical scroll inside the changed area and carries previous lines over with
   shifted boxes when their pixels are identical after the shift;
4. detects text only in full-width bands around the pixels that neither 2 nor 3 explain;
5. recognises each newly detected line through an LRU cache keyed by its pixels.

The result has the same lines a full ``engine.recognize(frame)`` would give, within OCR noise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lifelog.models import Box, OcrLine
from lifelog.tokenize_media.ocr.base import OcrEngine, crop, sort_lines
from lifelog.tokenize_media.ocr.cache import LineCache, crop_key
from lifelog.tokenize_media.ocr.diff import bounding_box, changed_mask, find_scroll, row_bands, shift_explained

log = logging.getLogger(__name__)

MARGIN = 40
"""Rows of context above and below changed pixels given to detection, about one line pitch."""


@dataclass
class ReadResult:
    """Every line on the frame (reading order, full-frame boxes) and what reading it cost.

    ``stats``: det_ms, rec_ms, lines_total, lines_recognized (sent to the model),
    lines_cached (detected again but found in the cache), lines_kept (unchanged pixels),
    lines_shifted (carried over a scroll), scroll_dy (rows the content moved up, or None).
    """

    lines: list[OcrLine]
    stats: dict[str, Any] = field(default_factory=dict)


class ScreenReader:
    """Incremental OCR state for ONE monitor; not thread-safe."""

    def __init__(self, engine: OcrEngine, cache_size: int = 4096, margin: int = MARGIN) -> None:
        self.engine = engine
        self.cache = LineCache(cache_size)
        self.margin = margin
        self._frame: np.ndarray | None = None
        self._lines: list[OcrLine] = []

    def reset(self) -> None:
        """Forget the previous frame, its lines and every cached line text."""
        self._frame = None
        self._lines = []
        self.cache.clear()

    def read(self, frame: np.ndarray, changed: Box | None = None) -> ReadResult:
        """All lines on ``frame``. ``changed`` is the caller's hint of the changed area; the
        reader computes the exact difference itself and only logs when the hint missed."""
        stats = _empty_stats()
        old = self._frame
        if old is None or old.shape != frame.shape:
            lines = self._detect_and_read(frame, [(0, frame.shape[0])], None, stats)
        elif np.array_equal(old, frame):
            stats["lines_kept"] = stats["lines_total"] = len(self._lines)
            return ReadResult(list(self._lines), stats)
        else:
            mask = changed_mask(old, frame)
            area = bounding_box(mask)
            assert area is not None  # the frames differ, so some pixel does
            _check_hint(changed, area)
            kept, dirty = self._carry_over(old, frame, mask, area, stats)
            found = self._detect_and_read(frame, row_bands(dirty, self.margin), dirty, stats)
            lines = sort_lines(_merge(kept, found))
        self._frame = frame.copy()
        self._lines = lines
        stats["lines_total"] = len(lines)
        return ReadResult(list(lines), stats)

    def _carry_over(
        self, old: np.ndarray, frame: np.ndarray, mask: np.ndarray, area: Box, stats: dict
    ) -> tuple[list[OcrLine], np.ndarray]:
        """Previous lines (read on ``old``) still valid on ``frame``, and the changed pixels
        they do not explain."""
        dy = find_scroll(old, frame, area)
        stats["scroll_dy"] = dy
        dirty = mask & ~shift_explained(old, frame, dy, area) if dy else mask
        kept: list[OcrLine] = []
        for line in self._lines:
            if not _region(mask, line.box).any():
                kept.append(line)
                stats["lines_kept"] += 1
            elif dy and _same_after_shift(old, frame, line.box, dy):
                kept.append(replace(line, box=_shift(line.box, dy)))
                stats["lines_shifted"] += 1
        return kept, dirty

    def _detect_and_read(
        self, frame: np.ndarray, bands: list[tuple[int, int]], dirty: np.ndarray | None, stats: dict
    ) -> list[OcrLine]:
        """Lines detected in ``bands`` that touch ``dirty`` pixels (all lines when None)."""
        start = time.perf_counter()
        boxes: list[Box] = []
        for band in bands:
            boxes.extend(self._detect_band(frame, band, dirty))
        boxes = _dedupe(boxes)
        stats["det_ms"] += (time.perf_counter() - start) * 1000
        stats["detect_rows"] += sum(bottom - top for top, bottom in bands)
        return self._read_boxes(frame, boxes, stats)

    def _detect_band(self, frame: np.ndarray, band: tuple[int, int], dirty: np.ndarray | None) -> list[Box]:
        """Detect in a band; grow it (up to twice) while a wanted line is cut by its edge."""
        height = frame.shape[0]
        top, bottom = band
        for _ in range(3):
            found = [(l, t + top, r, b + top) for l, t, r, b in self.engine.detect(frame[top:bottom])]
            wanted = [box for box in found if dirty is None or _region(dirty, box).any()]
            cut_top = top > 0 and any(box[1] <= top + 1 for box in wanted)
            cut_bottom = bottom < height and any(box[3] >= bottom - 1 for box in wanted)
            if not (cut_top or cut_bottom):
                break
            top = max(0, top - self.margin) if cut_top else top
            bottom = min(height, bottom + self.margin) if cut_bottom else bottom
        return wanted

    def _read_boxes(self, frame: np.ndarray, boxes: list[Box], stats: dict) -> list[OcrLine]:
        """Text for each box: from the cache when its pixels were read before, else the engine."""
        crops = [crop(frame, box) for box in boxes]
        keys = [crop_key(c) for c in crops]
        results = [self.cache.get(key) for key in keys]
        misses = [i for i, hit in enumerate(results) if hit is None]
        stats["lines_cached"] += len(boxes) - len(misses)
        stats["lines_recognized"] += len(misses)
        if misses:
            start = time.perf_counter()
            for i, result in zip(misses, self.engine.read_lines([crops[i] for i in misses])):
                results[i] = result
                self.cache.put(keys[i], result)
            stats["rec_ms"] += (time.perf_counter() - start) * 1000
        floor = self.engine.min_score
        return [
            OcrLine(r[0], box, r[1], glyphs=getattr(r, "glyphs", None))
            for box, r in zip(boxes, results)
            if r is not None and r[0] and r[1] >= floor
        ]  # (every r is filled in by now)


def _empty_stats() -> dict[str, Any]:
    keys = ("lines_total", "lines_recognized", "lines_cached", "lines_kept", "lines_shifted", "detect_rows")
    return {"det_ms": 0.0, "rec_ms": 0.0, **dict.fromkeys(keys, 0), "scroll_dy": None}


def _check_hint(hint: Box | None, area: Box) -> None:
    if hint is not None and not (
        hint[0] <= area[0] and hint[1] <= area[1] and hint[2] >= area[2] and hint[3] >= area[3]
    ):
        log.debug("change hint %s misses changed pixels in %s", hint, area)


def _region(mask: np.ndarray, box: Box) -> np.ndarray:
    left, top, right, bottom = box
    return mask[top:bottom, left:right]


def _shift(box: Box, dy: int) -> Box:
    return (box[0], box[1] - dy, box[2], box[3] - dy)


def _same_after_shift(old: np.ndarray, new: np.ndarray, box: Box, dy: int) -> bool:
    """Whether the line's old pixels sit unchanged ``dy`` rows higher in the new frame."""
    left, top, right, bottom = _shift(box, dy)
    if top < 0 or bottom > new.shape[0]:
        return False
    return np.array_equal(new[top:bottom, left:right], crop(old, box))


def _overlap(a: Box, b: Box) -> float:
    """Intersection area as a share of the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(1, smaller)


def _dedupe(boxes: list[Box]) -> list[Box]:
    """Drop boxes found twice where grown bands overlap."""
    unique: list[Box] = []
    for box in boxes:
        if all(_overlap(box, other) < 0.5 for other in unique):
            unique.append(box)
    return unique


def _merge(kept: list[OcrLine], found: list[OcrLine]) -> list[OcrLine]:
    """Carried-over lines plus fresh ones; a fresh line replaces carried lines it covers
    (a line that was typed longer is detected anew and supersedes its old, shorter box)."""
    survivors = [line for line in kept if all(_overlap(line.box, f.box) < 0.3 for f in found)]
    unique: dict[tuple[Box, str], OcrLine] = {(line.box, line.text): line for line in survivors}
    return list(unique.values()) + found
