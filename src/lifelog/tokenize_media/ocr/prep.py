"""Image to tensor for the PP-OCR models, and the content box that trims empty screen margins.

Kept apart from the engine so the shapes and normalisation the models expect are in one
place: BGR channel order (PaddleOCR trained on cv2-loaded images), values in [-1, 1], NCHW.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from lifelog.models import Box

DET_STRIDE = 32
CONTENT_MARGIN = 16
INK_TOLERANCE = 8


def det_input(image: np.ndarray, scale: float) -> tuple[np.ndarray, tuple[int, int]]:
    """BGR, scaled and padded to a multiple of 32, normalised to [-1, 1], as NCHW.

    Padding (instead of rapidocr's resize to a multiple of 32) keeps the scale the same for a
    full frame and for a strip of it, so the incremental reader gets the same boxes. Returns
    the tensor and the original-pixel size that the padded tensor covers.
    """
    bgr = image[:, :, ::-1]
    if scale != 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = bgr.shape[:2]
    ph, pw = _round_up(max(h, 64)), _round_up(max(w, 64))
    fill = [int(v) for v in np.median(bgr[[0, -1]].reshape(-1, 3), axis=0)]
    padded = cv2.copyMakeBorder(np.ascontiguousarray(bgr), 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=fill)
    tensor = (padded.astype(np.float32) * (2 / 255.0) - 1.0).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(tensor), (round(ph / scale), round(pw / scale))


def content_box(image: np.ndarray, margin: int = CONTENT_MARGIN) -> Box | None:
    """Bounding box of pixels unlike the background (the commonest border colour), plus a
    margin for the detector's context; None for a blank image.

    Looks at every second pixel: the margin covers what that can miss, and it keeps this at
    a few milliseconds for a full frame.
    """
    h, w = image.shape[:2]
    if h < 4 or w < 4:
        return None
    sample = np.ascontiguousarray(image[::2, ::2])
    ink = cv2.absdiff(sample, np.full_like(sample, _background(image))) > INK_TOLERANCE
    rows = np.flatnonzero(ink.reshape(ink.shape[0], -1).any(axis=1)) * 2
    cols = np.flatnonzero(ink.any(axis=(0, 2))) * 2
    if rows.size == 0:
        return None
    return (
        max(0, int(cols[0]) - margin),
        max(0, int(rows[0]) - margin),
        min(w, int(cols[-1]) + 2 + margin),
        min(h, int(rows[-1]) + 2 + margin),
    )


def _background(image: np.ndarray) -> np.ndarray:
    """The most common colour on the image border."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]]).astype(np.int32)
    packed = (border[:, 0] << 16) | (border[:, 1] << 8) | border[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    bg = int(values[counts.argmax()])
    return np.array([bg >> 16, (bg >> 8) & 255, bg & 255], dtype=np.uint8)


def _round_up(n: int) -> int:
    return int(math.ceil(n / DET_STRIDE) * DET_STRIDE)


def rec_input(crop: np.ndarray, height: int, sharp: bool = True) -> np.ndarray:
    """One crop as a ``3xHxW`` float tensor: BGR, aspect ratio kept, in [-1, 1].

    A line at most half of ``height`` is scaled up with Lanczos (``sharp``) rather than
    bilinear interpolation: small text, above all a terminal's bitmap font, keeps its strokes
    apart (xterm's 6x13 font: 60 % of code lines read right ignoring spaces, against 37 %).
    Larger lines gained nothing from it."""
    h, w = crop.shape[:2]
    width = max(8, math.ceil(height * w / max(h, 1)))
    how = cv2.INTER_LANCZOS4 if sharp and 2 * h <= height else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(crop[:, :, ::-1]), (width, height), interpolation=how)
    return (resized.astype(np.float32) * (2 / 255.0) - 1.0).transpose(2, 0, 1)


def width_groups(widths: list[int], pad: float) -> list[list[int]]:
    """Indices grouped so that each group's widest crop is at most ``1 + pad`` times its narrowest."""
    order = sorted(range(len(widths)), key=widths.__getitem__)
    groups: list[list[int]] = []
    for i in order:
        if groups and widths[i] <= widths[groups[-1][0]] * (1 + pad):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def stack(tensors: list[np.ndarray], height: int) -> np.ndarray:
    """Batch tensors, right-padding narrower ones with zeros (mid-grey after normalisation)."""
    if len(tensors) == 1:
        return tensors[0][None]
    width = max(t.shape[2] for t in tensors)
    batch = np.zeros((len(tensors), 3, height, width), np.float32)
    for i, t in enumerate(tensors):
        batch[i, :, :, : t.shape[2]] = t
    return batch


def valid_steps(width: int, batch_width: int, steps: int) -> int:
    """Time steps that belong to a crop padded from ``width`` to ``batch_width``."""
    return steps if width >= batch_width else max(1, math.ceil(steps * width / batch_width))


SMALL_PITCH = 17
"""Text set at a line pitch below this many pixels is small (xterm's default 6x13 font: 13)."""


def line_pitch(image: np.ndarray) -> int | None:
    """The distance in pixels between text lines that repeat down ``image`` (a terminal, an
    editor, a page of prose): the strongest peak of the autocorrelation of ink per pixel row;
    None when no pitch stands out (little text, or lines of many sizes)."""
    sample = cv2.cvtColor(np.ascontiguousarray(image[:, ::4]), cv2.COLOR_RGB2GRAY)
    background = int(np.bincount(sample.ravel(), minlength=256).argmax())  # the commonest grey
    rows = (cv2.absdiff(sample, np.full_like(sample, background)) > INK_TOLERANCE).sum(axis=1).astype(np.float64)
    if rows.size < 64:
        return None
    rows[rows > 0.6 * sample.shape[1]] = 0  # a rule or a window's edge across is no text line
    rows -= rows.mean()
    energy = float(rows @ rows)
    if energy == 0:
        return None
    corr = np.array([rows[:-lag] @ rows[lag:] for lag in range(1, min(80, rows.size // 4))]) / energy
    # lag i + 1 at index i; no text is set closer than 8 pixels
    peaks = [i for i in range(7, corr.size - 1) if corr[i - 1] < corr[i] >= corr[i + 1]]
    if not peaks:
        return None
    top = max(corr[i] for i in peaks)
    if top < 0.15:
        return None
    first = min(i for i in peaks if corr[i] >= 0.35 * top)  # the pitch, not a multiple of it
    return first + 1 if corr[first] >= 0.15 else None
