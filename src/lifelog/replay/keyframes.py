"""Keyframes for a window: up to N screens chosen to cover a time range, rebuilt from the stored
frame images, scaled to the size the target model reads them at, and encoded as PNG.

Choice (deterministic): the range's *active* time is the time between kept frames with pauses
counted as at most ``IDLE_CAP_S``, so an hour away from the desk does not take a share of the
images. It is cut into N equal slots; each slot shows the screen right after its biggest change
(the frame whose changed region covers most of its monitor; a keyframe covers all of it), the
earliest on a tie. A slot whose frames cannot be rebuilt (images deleted, no keyframe stored)
falls back to its next-best frame, then shows nothing.

Size: what the provider reads anyway, so no pixel is paid for twice and none is sent in vain.
OpenAI fits an image in 2048 x 2048, then scales its short side down to 768; Anthropic takes a
long edge of at most 1,568 px and about 1.15 megapixels; for Google and others the Anthropic
limits are used too (Gemini's tiles then come to 6 for a 16:9 screen). Pixels are Lanczos-scaled
and PNG-encoded at a fixed compression level: the same screen gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from PIL import Image

from lifelog.models import FrameRecord
from lifelog.tokenize_media.targets import Target, image_tokens

IDLE_CAP_S = 60.0  # a longer pause between kept frames counts as this long when spacing images
OPENAI_FIT, OPENAI_SHORT = 2048, 768
LONG_EDGE, MAX_PIXELS = 1568, 1_150_000
PNG_LEVEL = 6


@dataclass(frozen=True)
class Keyframe:
    """One screen as sent: its time and place, the PNG bytes and what it costs at the target."""

    ts: datetime
    monitor: int
    app: str
    window: str
    width: int
    height: int
    png: bytes
    tokens: int

    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def slots(frames: list[FrameRecord], n: int) -> list[list[FrameRecord]]:
    """Up to ``n`` slots of equal active time over ``frames`` (time order), each as its frames
    best first: biggest change, then earliest. Empty slots are left out."""
    frames = [f for f in frames if f.image_ref]
    if n < 1 or not frames:
        return []
    clock, t = [], 0.0
    for prev, f in zip([frames[0], *frames], frames):
        t += min((f.ts - prev.ts).total_seconds(), IDLE_CAP_S)
        clock.append(t)
    groups: list[list[FrameRecord]] = [[] for _ in range(n)]
    for f, c in zip(frames, clock):
        groups[min(n - 1, int(c / t * n)) if t > 0 else 0].append(f)
    return [sorted(g, key=lambda f: -changed_share(f)) for g in groups if g]  # stable: earliest first on ties


def changed_share(f: FrameRecord) -> float:
    if f.keyframe:
        return 1.0
    left, top, right, bottom = f.region
    return (right - left) * (bottom - top) / max(1, f.width * f.height)


def send_size(target: Target, width: int, height: int) -> tuple[int, int]:
    """The size the target's provider reads an image of ``width`` x ``height`` at."""
    if target.provider == "openai":
        scale = min(1.0, OPENAI_FIT / max(width, height))
        scale *= min(1.0, OPENAI_SHORT / (min(width, height) * scale))
    else:
        scale = min(1.0, LONG_EDGE / max(width, height), math.sqrt(MAX_PIXELS / (width * height)))
    return max(1, int(width * scale)), max(1, int(height * scale))


def cost(target: Target, f: FrameRecord) -> int:
    """Tokens the screen of frame ``f`` costs at the target, from its size alone."""
    return image_tokens(target, *send_size(target, f.width, f.height))


def encode(screen: np.ndarray, size: tuple[int, int]) -> bytes:
    image = Image.fromarray(screen)
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()


def render(reader, images, target: Target, chosen: list[list[FrameRecord]]) -> list[Keyframe]:
    """One keyframe per slot: the first of its frames whose screen can be rebuilt from
    ``images`` (a store FrameImages) with the frames ``reader`` returns."""
    shots = []
    for candidates in chosen:
        for f in candidates:
            screen = rebuild(reader, images, f)
            if screen is None:
                continue
            w, h = send_size(target, f.width, f.height)
            shots.append(
                Keyframe(f.ts, f.monitor, f.app, f.window, w, h, encode(screen, (w, h)), image_tokens(target, w, h))
            )
            break
    return shots


def rebuild(reader, images, f: FrameRecord) -> np.ndarray | None:
    """The whole monitor as it looked at frame ``f`` (``f`` included), or None."""
    chain = reader.screen_before(f.monitor, f.ts + timedelta(microseconds=1), f.width, f.height)
    if not chain or any(not c.image_ref for c in chain):
        return None
    try:
        screen = images.reconstruct(chain)
    except (OSError, ValueError):  # an image deleted or unreadable, a region of another size
        return None
    return screen if screen.shape[:2] == (f.height, f.width) else None
