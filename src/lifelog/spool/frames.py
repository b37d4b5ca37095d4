"""Kept frames in the spool, between capture and ingest.

Each kept frame is one PNG file whose ``lifelog`` text chunk carries the metadata as JSON.
Files are written to a dot-prefixed temporary name, fsynced and renamed into place, so a
reader never sees half a file and a crash loses at most the frame in flight. Names sort by
capture time, so draining in name order is draining in time order. A file is deleted only
after its rows are committed to the store.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from lifelog.models import Box, SpooledFrame, VisibleWindow, WindowInfo
from lifelog.paths import atomic_private_file
from lifelog.spool import sealing

log = logging.getLogger(__name__)

FRAME_SUFFIX = ".png"
_META_KEY = "lifelog"


def frame_name(ts: datetime, monitor: int) -> str:
    return f"{ts.strftime('%Y%m%dT%H%M%S%f')}-m{monitor:02d}{FRAME_SUFFIX}"


def write_frame(spool_dir: Path, frame: SpooledFrame) -> Path:
    """Atomically write ``frame`` into ``spool_dir`` and return its path."""
    meta = {
        "ts": frame.ts.isoformat(),
        "monitor": frame.monitor,
        "width": frame.width,
        "height": frame.height,
        "region": list(frame.region),
        "keyframe": frame.keyframe,
        "app": frame.window.app,
        "title": frame.window.title,
    }
    if frame.windows:
        meta["windows"] = [[w.app, w.title, list(w.box)] for w in frame.windows]
    if frame.shed_from is not None:
        meta["shed_from"] = frame.shed_from.isoformat()
        meta["shed_frames"] = frame.shed_frames
    info = PngImagePlugin.PngInfo()
    info.add_text(_META_KEY, json.dumps(meta))
    final = spool_dir / frame_name(frame.ts, frame.monitor)
    image = frame.image if isinstance(frame.image, Image.Image) else Image.fromarray(np.asarray(frame.image))
    with atomic_private_file(final) as raw, sealing.for_folder(spool_dir).writer(raw) as fh:  # sealed if encrypted
        image.save(fh, format="PNG", compress_level=1, pnginfo=info)
    return final


def read_frame(path: Path) -> SpooledFrame:
    """Read a spooled frame back. Raises ``ValueError`` for a file that is not one, or whose
    metadata disagrees with its pixels; ``FileNotFoundError`` if it is gone."""
    with Image.open(sealing.for_folder(path.parent).open(path)) as im:
        raw = im.text.get(_META_KEY) if hasattr(im, "text") else None
        if raw is None:
            raise ValueError(f"{path.name}: not a lifelog spool frame")
        image = np.asarray(im.convert("RGB"))
    try:
        meta = json.loads(raw)
        shed_from = meta.get("shed_from")
        frame = SpooledFrame(
            ts=datetime.fromisoformat(meta["ts"]),
            monitor=int(meta["monitor"]),
            width=int(meta["width"]),
            height=int(meta["height"]),
            region=_box(meta["region"]),
            keyframe=bool(meta["keyframe"]),
            window=WindowInfo(meta.get("app", ""), meta.get("title", "")),
            image=image,
            path=path,
            shed_from=datetime.fromisoformat(shed_from) if shed_from else None,
            shed_frames=int(meta.get("shed_frames", 0)),
            windows=[VisibleWindow(str(app), str(title), _box(box)) for app, title, box in meta.get("windows", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path.name}: bad spool metadata ({exc})") from exc
    _check_geometry(frame, image)
    return frame


def _box(values: list[int]) -> Box:
    left, top, right, bottom = (int(v) for v in values)
    return left, top, right, bottom


def _check_geometry(frame: SpooledFrame, image: np.ndarray) -> None:
    left, top, right, bottom = frame.region
    if not (0 <= left < right <= frame.width and 0 <= top < bottom <= frame.height):
        raise ValueError(f"region {frame.region} lies outside the {frame.width}x{frame.height} monitor")
    if image.shape[:2] != (bottom - top, right - left):
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]} but its region {frame.region} is {right - left}x{bottom - top}"
        )


def pending(spool_dir: Path) -> list[Path]:
    """Spooled frames not yet processed, oldest first."""
    if not spool_dir.exists():
        return []
    return sorted(p for p in spool_dir.iterdir() if p.suffix == FRAME_SUFFIX and not p.name.startswith("."))


def count_pending(spool_dir: Path) -> int:
    """How many frames wait in the spool (cheaper than ``pending``: no sort, no Path objects)."""
    try:
        with os.scandir(spool_dir) as entries:
            return sum(1 for e in entries if e.name.endswith(FRAME_SUFFIX) and not e.name.startswith("."))
    except FileNotFoundError:
        return 0


def clean_partial(folder: Path) -> int:
    """Remove temporary files (``.*.tmp``) left in ``folder`` by a crash mid-write; returns how many."""
    n = 0
    for p in folder.glob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n
