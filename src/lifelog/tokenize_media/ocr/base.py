"""The OCR engine interface: find text lines, read line crops, and the page reading derived from both.

Detection and recognition are separate methods (not one opaque ``recognize``) because the
incremental screen reader needs them apart: it detects only inside the changed part of a
frame and recognises only line crops it has not seen before.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

import numpy as np

from lifelog.models import Box, OcrLine

log = logging.getLogger(__name__)


class OcrEngine(ABC):
    """A text detector plus a line recogniser, identified by a string id.

    Images are RGB ``HxWx3`` uint8 arrays; boxes are ``(left, top, right, bottom)`` in the
    coordinates of the image passed in, right/bottom exclusive.
    """

    id: str = ""
    providers: list[str]
    min_score: float = 0.5

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Box]:
        """Axis-aligned boxes of the text lines in ``image``, in reading order."""

    @abstractmethod
    def read_lines(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence for each line crop, in the order given."""

    def recognize(self, image: np.ndarray) -> list[OcrLine]:
        """All text lines on ``image`` in reading order, low-confidence lines dropped."""
        boxes = self.detect(image)
        crops = [crop(image, box) for box in boxes]
        results = self.read_lines(crops)
        return [
            OcrLine(r[0], box, r[1], glyphs=getattr(r, "glyphs", None))
            for box, r in zip(boxes, results)
            if r[0] and r[1] >= self.min_score
        ]


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The pixels under ``box`` (a view, not a copy)."""
    left, top, right, bottom = box
    return image[top:bottom, left:right]


def reading_order(boxes: list[Box]) -> list[Box]:
    """Boxes sorted top-to-bottom, and left-to-right among boxes sharing a row."""
    return [boxes[i] for i in _reading_indices(boxes)]


def sort_lines(lines: list[OcrLine]) -> list[OcrLine]:
    """Lines in reading order of their boxes."""
    return [lines[i] for i in _reading_indices([line.box for line in lines])]


def _reading_indices(boxes: list[Box]) -> list[int]:
    """Indices of ``boxes`` in reading order: rows top to bottom (a box joins a row when its
    vertical centre lies inside the row's first box), each left to right."""
    from lifelog.tokenize_media.ocr.xycut import row_order

    return [i for row in row_order(boxes, list(range(len(boxes)))) for i in row]
