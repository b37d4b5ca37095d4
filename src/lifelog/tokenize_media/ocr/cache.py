"""An LRU cache of recognised text keyed by the pixels of a line crop.

A line that reappears (scrolled back into view, a tab switched back, a window moved) has the
same pixels, so it needs no second trip through the recogniser. The key hashes the crop
trimmed to its ink: detection boxes around the same line can differ by a pixel or two of
background depending on what else was in the detected area, and that must not cause a miss.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np


def crop_key(crop: np.ndarray) -> bytes:
    """A digest of the crop's pixels after trimming background rows and columns at its edges."""
    ink = _trim(crop)
    digest = hashlib.blake2b(np.ascontiguousarray(ink).tobytes(), digest_size=16)
    digest.update(repr(ink.shape).encode())
    return digest.digest()


def _trim(crop: np.ndarray) -> np.ndarray:
    """The crop without edge rows/columns that are all the background colour (its corner pixel)."""
    if crop.size == 0:
        return crop
    ink = (crop != crop[0, 0]).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return crop[:1, :1]
    return crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


class LineCache:
    """Bounded mapping from crop key to ``(text, score)``; least recently used entries go first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    def get(self, key: bytes) -> tuple[str, float] | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, key: bytes, value: tuple[str, float]) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
