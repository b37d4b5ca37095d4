"""The compact frame format: one file per frame, a screen as operations on the screen before it.

Screens change little between frames, and what changes is mostly moved, not new: a terminal or a
page scrolls by whole rows. A frame is therefore stored as

- ``shift`` ops: rows of a rectangle copied from the *base* screen (the one it is built on),
  ``dy`` rows lower (a scroll step is one shift plus the strip it exposed);
- ``patch`` ops: rectangles of new pixels, each a lossless WebP (effort 4), exact;
- ``black`` ops: rectangles blacked out afterwards (forget, redaction);

applied in that order to a copy of the base screen; rows no op touches stay as they were. An
*intra* frame has no base: one patch holding the whole screen. A *patch* frame has no base either
but only its changed region, to be pasted over the screen before it as the old format was (after a
restart, when the store does not know that screen). Nothing is lossy: decoding gives back the exact
pixels, which the tests check on real rendered screens.

Layout: ``MAGIC``, a 4-byte little-endian header length, the header as JSON (``w``, ``h``,
``base`` (a frame reference or ""), ``region`` (left, top, right, bottom: what ``load`` returns),
``ops``), then the patches' WebP bytes. Blanking a region of one frame rewrites only that file: its
own patches are blacked (so the pixels are gone from disk) and a ``black`` op covers what it copied
from its base; every later frame builds on this frame's screen, so the black holds in them too.
"""

from __future__ import annotations

import functools
import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from lifelog.models import Box

MAGIC = b"LLFR\x01"
WEBP: dict[str, Any] = {"format": "WEBP", "lossless": True, "quality": 50, "method": 4}
MIN_VOTES = 8  # rows that must agree on a vertical shift before it is used
COMMON_ROW = 4  # a row content seen more often than this (blank, rules) says nothing about a shift
BAND_GAP = 12  # changed rows this close are stored as one patch (each WebP costs ~100 bytes)
INTRA_SHARE = 0.6  # patches over this share of the screen: store the whole screen instead


@dataclass
class Frame:
    width: int
    height: int
    base: str = ""
    region: Box = (0, 0, 0, 0)
    ops: list[list] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)  # one per patch op, in op order

    @property
    def kind(self) -> str:
        """``delta`` (built on its base), ``intra`` (a whole screen) or ``patch`` (a region to
        paste over the screen before it)."""
        if self.base:
            return "delta"
        whole = ["patch", 0, 0, self.width, self.height]
        return "intra" if self.ops and self.ops[0][:5] == whole else "patch"


def is_compact(data: bytes) -> bool:
    return data[: len(MAGIC)] == MAGIC


# -- bytes ------------------------------------------------------------------------------------
def dumps(frame: Frame) -> bytes:
    ops, offset = [], 0
    blobs = iter(frame.blobs)
    for op in frame.ops:
        if op[0] == "patch":
            n = len(next(blobs))
            op = [*op[:5], offset, n]
            offset += n
        ops.append(op)
    header = json.dumps(
        {"w": frame.width, "h": frame.height, "base": frame.base, "region": list(frame.region), "ops": ops},
        separators=(",", ":"),
    ).encode()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, *frame.blobs])


def loads(data: bytes) -> Frame:
    if not is_compact(data):
        raise ValueError("not a compact lifelog frame")
    (n,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    h = json.loads(data[start : start + n])
    body = data[start + n :]
    blobs = [bytes(body[op[5] : op[5] + op[6]]) for op in h["ops"] if op[0] == "patch"]
    ops = [op[:5] if op[0] == "patch" else op for op in h["ops"]]
    return Frame(h["w"], h["h"], h["base"], tuple(h["region"]), ops, blobs)


def webp(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, **WEBP)
    return buf.getvalue()


def unwebp(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


# -- decoding ---------------------------------------------------------------------------------
def apply(frame: Frame, base: np.ndarray | None, *, in_place: bool = False) -> np.ndarray:
    """The screen this frame shows, from the screen before it (``base``; None for an intra
    frame, which needs none). A patch frame is pasted over ``base``. ``in_place``: ``base`` may
    be overwritten (decoding a chain, one step after another)."""
    if base is None:
        if frame.kind != "intra":
            raise ValueError("a delta or patch frame needs the screen before it")
        canvas = np.zeros((frame.height, frame.width, 3), np.uint8)
    else:
        canvas = base if in_place else base.copy()
    shifts = [op for op in frame.ops if op[0] == "shift"]
    moved = [canvas[t + dy : b + dy, l:r].copy() for _, l, t, r, b, dy in shifts]  # before any is written
    for (_, left, top, right, bottom, _dy), rows in zip(shifts, moved):
        canvas[top:bottom, left:right] = rows
    blobs = iter(frame.blobs)
    for op in frame.ops:
        if op[0] == "patch":
            x, y, w, h = op[1:5]
            canvas[y : y + h, x : x + w] = unwebp(next(blobs))
        elif op[0] == "black":
            left, top, right, bottom = op[1:]
            canvas[top:bottom, left:right] = 0
    return canvas


# -- encoding ---------------------------------------------------------------------------------
def intra(screen: np.ndarray) -> Frame:
    h, w = screen.shape[:2]
    return Frame(w, h, "", (0, 0, w, h), [["patch", 0, 0, w, h]], [webp(screen)])


def patch(image: np.ndarray, region: Box, size: tuple[int, int]) -> Frame:
    """``image`` to be pasted at ``region`` over whatever the screen was (no base known)."""
    left, top, right, bottom = region
    return Frame(size[0], size[1], "", region, [["patch", left, top, right - left, bottom - top]], [webp(image)])


@dataclass
class Plan:
    """How a screen would be stored on a base: its shifts and the rectangles left to patch."""

    size: tuple[int, int]
    base_ref: str
    region: Box
    shifts: list[list] = field(default_factory=list)
    rects: list[Box] = field(default_factory=list)

    @property
    def area(self) -> int:
        return sum((r[2] - r[0]) * (r[3] - r[1]) for r in self.rects)


def plan(
    base: np.ndarray, screen: np.ndarray, base_ref: str, region: Box | None = None, *, anywhere: bool = False
) -> Plan:
    """``screen`` as shifts of ``base`` and patches; ``region``: what ``load`` will return and,
    unless ``anywhere`` (a base older than the screen before), the only place they may differ."""
    h, w = screen.shape[:2]
    region = region or (0, 0, w, h)
    out = Plan((w, h), base_ref, region)
    box = _changed_box(base, screen, (0, 0, w, h) if anywhere else region)
    if box is None:
        return out
    left, top, right, bottom = box
    dy, runs = _shift(base, screen, box)
    predicted = base[top:bottom, left:right].copy()
    for a, b in runs:
        predicted[a - top : b - top] = base[a + dy : b + dy, left:right]
        out.shifts.append(["shift", left, a, right, b, dy])
    out.rects = [
        (left + r[0], top + r[1], left + r[2], top + r[3])
        for r in _patch_rects(predicted, screen[top:bottom, left:right])
    ]
    return out


def encode(p: Plan, screen: np.ndarray) -> Frame:
    """The frame for plan ``p``; a whole screen (intra) when most of it would be patched."""
    w, h = p.size
    if p.area > INTRA_SHARE * w * h:
        full = intra(screen)
        full.region = p.region
        return full
    frame = Frame(w, h, p.base_ref, p.region, list(p.shifts))
    for left, top, right, bottom in p.rects:
        frame.ops.append(["patch", left, top, right - left, bottom - top])
        frame.blobs.append(webp(screen[top:bottom, left:right]))
    return frame


def delta(base: np.ndarray, screen: np.ndarray, base_ref: str, region: Box | None = None) -> Frame:
    """``screen`` stored on ``base`` (see ``plan``)."""
    return encode(plan(base, screen, base_ref, region), screen)


def _changed_box(a: np.ndarray, b: np.ndarray, region: Box) -> Box | None:
    left, top, right, bottom = region
    diff = _diff(a[top:bottom, left:right], b[top:bottom, left:right])
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0)) // 3
    return (left + int(cols[0]), top + int(rows[0]), left + int(cols[-1]) + 1, top + int(rows[-1]) + 1)


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two RGB images differ, one flag per channel byte in rows of ``3 * width`` (numpy
    reduces such 2-D rows several times faster than the last axis of 3)."""
    return (a != b).reshape(a.shape[0], -1)


def _row_keys(image: np.ndarray, left: int, right: int, top: int, bottom: int) -> list[int]:
    """A 64-bit key per row of the rectangle (a weighted sum of its 8-byte words, wrapping):
    equal rows have equal keys; the rare unequal pair that collides is caught by the patches,
    which compare pixels."""
    rows = np.ascontiguousarray(image[top:bottom, left:right]).reshape(bottom - top, -1)
    n = rows.shape[1] // 8 * 8
    words = rows[:, :n].copy().view(np.uint64) if n < rows.shape[1] else rows.view(np.uint64)
    keys = (words * _weights(words.shape[1])).sum(axis=1, dtype=np.uint64)
    if n < rows.shape[1]:  # the last few bytes
        keys += rows[:, n:].astype(np.uint64) @ _weights(7)[: rows.shape[1] - n]
    return keys.tolist()


@functools.lru_cache(maxsize=32)
def _weights(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(1, 2**63, n, dtype=np.uint64) | np.uint64(1)


def _shift(base: np.ndarray, screen: np.ndarray, box: Box) -> tuple[int, list[tuple[int, int]]]:
    """The vertical shift most rows of ``box`` moved by, and the runs of rows it explains
    (rows equal to the base row ``dy`` lower; a run of rows all equal in place is left out)."""
    left, top, right, bottom = box
    height = base.shape[0]
    if bottom - top < MIN_VOTES:
        return 0, []
    old = _row_keys(base, left, right, 0, height)
    new = _row_keys(screen, left, right, top, bottom)
    where: dict[int, list[int]] = {}
    for y, k in enumerate(old):
        where.setdefault(k, []).append(y)
    votes: dict[int, int] = {}
    for y, k in zip(range(top, bottom), new):
        found = where.get(k, ())
        if 0 < len(found) <= COMMON_ROW:
            for src in found:
                if src != y:
                    votes[src - y] = votes.get(src - y, 0) + 1
    if not votes:
        return 0, []
    dy, n = max(votes.items(), key=lambda kv: (kv[1], -abs(kv[0])))
    if n < MIN_VOTES:
        return 0, []
    moved = [0 <= y + dy < height and new[y - top] == old[y + dy] for y in range(top, bottom)]
    runs = [(a, b) for a, b in _runs(moved, top) if any(new[y - top] != old[y] for y in range(a, b))]
    return dy, runs


def _runs(flags: list[bool], offset: int, gap: int = 2) -> list[tuple[int, int]]:
    """Runs of true flags as (start, end) rows, bridging gaps of up to ``gap`` rows."""
    runs: list[list[int]] = []
    for i, f in enumerate(flags):
        if not f:
            continue
        if runs and i - runs[-1][1] <= gap:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(offset + a, offset + b) for a, b in runs]


def _patch_rects(predicted: np.ndarray, screen: np.ndarray) -> list[Box]:
    """Rectangles covering every pixel where ``predicted`` differs from ``screen`` (same
    shape): bands of changed rows (gaps under BAND_GAP bridged), each as wide as its changes."""
    diff = _diff(predicted, screen)
    rects = []
    for a, b in _runs(list(np.any(diff, axis=1)), 0, BAND_GAP):
        cols = np.flatnonzero(diff[a:b].any(axis=0)) // 3
        rects.append((int(cols[0]), a, int(cols[-1]) + 1, b))
    return rects


# -- blanking ---------------------------------------------------------------------------------
def blank(frame: Frame, boxes: list[Box]) -> Frame:
    """``frame`` with ``boxes`` (screen coordinates) black: its own patch pixels there are
    overwritten (gone from the file) and a black op covers what it took from its base."""
    blobs = iter(frame.blobs)
    out: list[bytes] = []
    for op in frame.ops:
        if op[0] != "patch":
            continue
        x, y, w, h = op[1:5]
        pixels = unwebp(next(blobs))
        hit = False
        for bl, bt, br, bb in boxes:
            l, t, r, b = max(bl, x), max(bt, y), min(br, x + w), min(bb, y + h)
            if l < r and t < b:
                if not hit:
                    pixels = pixels.copy()
                    hit = True
                pixels[t - y : b - y, l - x : r - x] = 0
        out.append(webp(pixels) if hit else frame.blobs[len(out)])
    ops = list(frame.ops) + [["black", *_clip(b, frame.width, frame.height)] for b in boxes]
    return Frame(frame.width, frame.height, frame.base, frame.region, ops, out)


def _clip(box: Box, width: int, height: int) -> list[int]:
    left, top, right, bottom = box
    return [max(0, left), max(0, top), min(width, max(0, right)), min(height, max(0, bottom))]
