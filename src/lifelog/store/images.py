"""Kept frames as image files beside the database, so a replay can show them.

Keyframes hold a whole monitor; other frames hold only the region that changed, so a screen
where one line was typed costs a few kilobytes. Images are lossless WebP at effort 4 (text
stays exact): on real recorded terminal frames 3.4x smaller than effort 0 for ~19 ms instead of
~10 ms a frame, encoded in the pipeline, never on the capture path.
``reconstruct`` rebuilds what a monitor showed at any kept frame from its last keyframe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from lifelog.models import FrameRecord
from lifelog.paths import atomic_private_file, make_private_dir

SUFFIX = ".webp"


class FrameImages:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, frame_name: str, ts_day: str, image: np.ndarray) -> str:
        """Write ``image`` atomically; returns the reference stored in the frames table."""
        folder = self.root / ts_day
        make_private_dir(folder)
        ref = f"{ts_day}/{Path(frame_name).stem}{SUFFIX}"
        final = self.root / ref
        with atomic_private_file(final, sync=False) as fh:  # the spool file stays until commit
            Image.fromarray(image).save(fh, format="WEBP", lossless=True, quality=50, method=4)
        return ref

    def load(self, ref: str) -> np.ndarray:
        with Image.open(self.root / ref) as im:
            return np.asarray(im.convert("RGB"))

    def delete(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)

    def total_bytes(self) -> int:
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.rglob(f"*{SUFFIX}"))

    def reconstruct(self, frames: list[FrameRecord]) -> np.ndarray:
        """The screen after the last of ``frames`` (one monitor, time order, starting at or
        before a keyframe): paste each changed region over the canvas."""
        last = frames[-1]
        canvas = np.zeros((last.height, last.width, 3), np.uint8)
        start = max((i for i, f in enumerate(frames) if f.keyframe), default=0)
        for f in frames[start:]:
            left, top, right, bottom = f.region
            canvas[top:bottom, left:right] = self.load(f.image_ref)
        return canvas
