"""Kept frames as image files beside the database, so a replay can show them.

Frames are stored compactly (``frame_codec``, ``.lfr``): each frame of a monitor as operations on
a screen stored before it, exact. Usually that is the frame just before (a scroll step costs a
shift plus the strip it exposed, a typed word a small patch); after a change over much of the
screen, one of the few screens shown just before earlier big changes if that is cheaper (switching
back to a window costs what changed in it). A whole screen (*intra*) is stored when the day begins,
at the first keyframe after a restart, when most of the screen is new, and when rebuilding the
frame would otherwise mean decoding more than ``CHAIN_BYTES`` intras' worth or ``CHAIN_FRAMES``
frames. On recorded mixes of terminal, browser and typing this is 4.2-4.9x smaller than the old format
(bench/frame_storage.py). Frames stored before it (``.webp``: the changed region as lossless WebP,
pasted over the frames before it from their last keyframe) still load and reconstruct.

Each file stays rewritable on its own: ``blank`` blacks out boxes of one frame, and the black holds
in every later frame built on it; ``delete_many`` first rewrites any kept frame built on a removed
one as a whole screen. All bytes go through ``_read``/``_write`` (sealed when encrypted).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from lifelog.models import Box, FrameRecord
from lifelog.paths import atomic_private_file, make_private_dir
from lifelog.store import frame_codec as codec
from lifelog.store.sealed import Sealer

SUFFIX = ".webp"  # the old format: one lossless WebP of the changed region
COMPACT = ".lfr"  # frame_codec files
SUFFIXES = (SUFFIX, COMPACT)
CHAIN_BYTES = 8.0  # a new intra once rebuilding the last frame means decoding this many intras' bytes
CHAIN_FRAMES = 600  # and at the latest after this many frames (5 min of change at 2 fps)
SCENES = 4  # screens kept to switch back to
SWITCH_SHARE = 0.25  # a change patching this share of the screen may be a switch back to one of them
SCENE_SPAN = 600  # frames: how far back a frame may be built on (``delete`` looks that far ahead)


@dataclass
class _Shown:
    """A stored screen that later frames may be built on."""

    ref: str
    screen: np.ndarray
    depth: int  # frames decoded to rebuild it (1: an intra)
    cost: int  # bytes decoded to rebuild it
    index: int  # its place among the monitor's frames stored since the state began


@dataclass
class _Monitor:
    """What the next frame of a monitor is built on: the last frame stored, and the screens shown
    just before the last few whole-screen changes (switching back to a window then costs what
    changed in it, not a whole screen)."""

    day: str
    last: _Shown
    intra_bytes: int  # the last intra's size: the measure of a chain's decoding cost
    scenes: list[_Shown] = field(default_factory=list)

    def usable(self, shown: _Shown) -> bool:
        return (
            shown.depth < CHAIN_FRAMES
            and shown.cost <= CHAIN_BYTES * self.intra_bytes
            and self.last.index + 1 - shown.index <= SCENE_SPAN
        )


class FrameImages:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._state: dict[int, _Monitor] = {}
        self.sealer = Sealer(root)  # AES-GCM on every file's bytes when the timeline is encrypted

    # -- writing ---------------------------------------------------------------------------
    def save(
        self,
        frame_name: str,
        ts_day: str,
        image: np.ndarray,
        *,
        monitor: int | None = None,
        region: Box | None = None,
        size: tuple[int, int] | None = None,
    ) -> str:
        """Store ``image`` (the frame's changed ``region`` of a ``size`` = (width, height)
        monitor) atomically; returns the reference kept in the frames table. Without a region
        and size it is stored alone in the old format."""
        image = np.asarray(image)
        if region is None or size is None:
            return self._save_legacy(frame_name, ts_day, image)
        ref = f"{ts_day}/{Path(frame_name).stem}{COMPACT}"
        left, top, right, bottom = (int(v) for v in region)
        region = (left, top, right, bottom)
        state = self._known(monitor, size, ref)
        frame, screen, base, switched = self._encode(state, image, region, size, ts_day)
        data = codec.dumps(frame)
        make_private_dir(self.root / ts_day)
        self._write(ref, data)
        self._remember(
            monitor, state, _Shown(ref, screen, 1, len(data), 0) if screen is not None else None, frame, base, switched
        )
        return ref

    def _known(self, monitor, size: tuple[int, int], ref: str) -> _Monitor | None:
        state = self._state.get(monitor)
        if state is None or state.last.screen.shape[:2] != (size[1], size[0]):
            return None
        if state.last.ref == ref or not (self.root / state.last.ref).exists():  # forgotten or aged out meanwhile
            return None
        return state

    def _encode(self, state: _Monitor | None, image: np.ndarray, region: Box, size: tuple[int, int], day: str):
        """The frame to store, the screen it shows (None when unknown: a patch frame), the
        stored screen it is built on (None: none) and whether most of the screen changed."""
        left, top, right, bottom = region
        if state is None:
            if region == (0, 0, size[0], size[1]):
                return codec.intra(image), image.copy(), None, False  # kept: the caller's may change
            return codec.patch(image, region, size), None, None, False
        screen = state.last.screen.copy()
        screen[top:bottom, left:right] = image
        if state.day != day or not state.usable(state.last):  # each day stands alone; chains stay cheap
            frame = codec.intra(screen)
            frame.region = region
            return frame, screen, None, False
        best, base = codec.plan(state.last.screen, screen, state.last.ref, region), state.last
        switched = best.area > SWITCH_SHARE * size[0] * size[1]
        if switched:
            for scene in state.scenes:
                if state.usable(scene) and (self.root / scene.ref).exists():
                    tried = codec.plan(scene.screen, screen, scene.ref, region, anywhere=True)
                    if tried.area < best.area:
                        best, base = tried, scene
        frame = codec.encode(best, screen)
        return frame, screen, (base if frame.kind == "delta" else None), switched

    def _remember(
        self,
        monitor,
        state: _Monitor | None,
        shown: _Shown | None,
        frame: codec.Frame,
        base: _Shown | None,
        switched: bool,
    ) -> None:
        if shown is None:
            self._state.pop(monitor, None)
            return
        day = shown.ref.split("/", 1)[0]
        if state is None or state.day != day:
            self._state[monitor] = _Monitor(day, shown, intra_bytes=shown.cost)
            return
        shown.index = state.last.index + 1
        if base is not None:
            shown.depth, shown.cost = base.depth + 1, base.cost + shown.cost
        scenes = [*state.scenes, state.last] if switched else state.scenes
        state.scenes = [s for s in scenes if shown.index - s.index <= SCENE_SPAN][-SCENES:]
        if frame.kind == "intra":
            state.intra_bytes = shown.cost
        state.last = shown

    def _save_legacy(self, frame_name: str, ts_day: str, image: np.ndarray) -> str:
        make_private_dir(self.root / ts_day)
        ref = f"{ts_day}/{Path(frame_name).stem}{SUFFIX}"
        self._write(ref, codec.webp(image))
        return ref

    def _write(self, ref: str, data: bytes) -> None:
        with atomic_private_file(self.root / ref, sync=False) as fh:  # the spool file stays until commit
            fh.write(self.sealer.seal(data))

    def _read(self, ref: str) -> bytes:
        return self.sealer.read_bytes(self.root / ref)

    # -- reading ---------------------------------------------------------------------------
    def load(self, ref: str) -> np.ndarray:
        """The frame's stored region (its changed region, or the whole monitor for a keyframe)."""
        data = self._read(ref)
        if not codec.is_compact(data):
            return _legacy_image(data)
        frame = codec.loads(data)
        left, top, right, bottom = frame.region
        if frame.kind == "patch":
            screen = codec.apply(frame, np.zeros((frame.height, frame.width, 3), np.uint8))
        else:
            screen = self.screen(ref)
        return screen[top:bottom, left:right].copy()

    def screen(self, ref: str) -> np.ndarray:
        """The whole screen at a compact intra or delta frame, from its chain of bases."""
        chain = [codec.loads(self._read(ref))]
        while chain[-1].base:
            if len(chain) > 100_000:
                raise ValueError(f"frame {ref}: its chain of bases does not end")
            chain.append(codec.loads(self._read(chain[-1].base)))
        if chain[-1].kind != "intra":
            raise ValueError(f"frame {ref}: its chain does not start at a whole screen")
        screen = codec.apply(chain[-1], None, in_place=True)
        for frame in reversed(chain[:-1]):
            screen = codec.apply(frame, screen, in_place=True)
        return screen

    def reconstruct(self, frames: list[FrameRecord]) -> np.ndarray:
        """The screen after the last of ``frames`` (one monitor, time order, starting at or
        before a keyframe)."""
        last = frames[-1]
        data = self._read(last.image_ref)
        if codec.is_compact(data) and codec.loads(data).kind != "patch":
            return self.screen(last.image_ref)  # its own chain of bases says all
        canvas = np.zeros((last.height, last.width, 3), np.uint8)
        start = max((i for i, f in enumerate(frames) if f.keyframe), default=0)
        prev = ""
        for f in frames[start:]:
            canvas = self.next_screen(canvas, prev, f)
            prev = f.image_ref
        return canvas

    def next_screen(self, canvas: np.ndarray, prev: str, f: FrameRecord) -> np.ndarray:
        """The screen after frame ``f``, given ``canvas``: the screen after the frame before it on
        that monitor (``prev``, its reference); ``canvas`` may be changed in place. A replay walks
        a monitor's frames with it, decoding each file once."""
        data = self._read(f.image_ref)
        if not codec.is_compact(data):
            left, top, right, bottom = f.region
            canvas[top:bottom, left:right] = _legacy_image(data)
            return canvas
        frame = codec.loads(data)
        if frame.kind == "delta" and frame.base != prev:
            return codec.apply(frame, self.screen(frame.base), in_place=True)
        return codec.apply(frame, None if frame.kind == "intra" else canvas, in_place=True)

    def total_bytes(self) -> int:
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.suffix in SUFFIXES)

    # -- rewriting -------------------------------------------------------------------------
    def blank(self, frame: FrameRecord, boxes: list[Box]) -> None:
        """Black out ``boxes`` (monitor coordinates) in the stored image of ``frame``; in the
        compact format the black holds in every later frame built on it."""
        data = self._read(frame.image_ref)
        if codec.is_compact(data):
            self._write(frame.image_ref, codec.dumps(codec.blank(codec.loads(data), boxes)))
            return
        left, top, right, bottom = frame.region
        pixels = _legacy_image(data).copy()
        for bl, bt, br, bb in boxes:
            pixels[max(0, bt - top) : max(0, bb - top), max(0, bl - left) : max(0, br - left)] = 0
        self._write(frame.image_ref, codec.webp(pixels))

    def delete_many(self, refs: list[str]) -> None:
        """Remove the images of ``refs``. A kept compact frame built on a removed one is first
        rewritten as a whole screen (exact), so every frame left still rebuilds; only then are
        the files removed, so a crash in between leaves nothing broken."""
        by_day: dict[str, set[str]] = {}
        for ref in refs:
            day, _, name = ref.rpartition("/")
            by_day.setdefault(day, set()).add(name)
        for day, doomed in sorted(by_day.items()):
            folder = self.root / day
            if not folder.is_dir():
                continue
            self._drop_state({f"{day}/{n}" for n in doomed})
            names = sorted(p.name for p in folder.iterdir() if p.suffix in SUFFIXES)
            for name in self._built_on(day, names, doomed):
                self._rewrite_whole(f"{day}/{name}")
            for name in doomed:
                (folder / name).unlink(missing_ok=True)

    def _built_on(self, day: str, names: list[str], doomed: set[str]) -> list[str]:
        """The kept compact frames among ``names`` (a day, sorted) whose base is in ``doomed``:
        a frame is built on one at most SCENE_SPAN frames of its monitor before it."""
        out, since = [], {}  # monitor tag -> frames of it since its last doomed one
        for name in names:
            tag = _monitor_tag(Path(name).stem)
            if name in doomed:
                since[tag] = 0
                continue
            if tag not in since or since[tag] > SCENE_SPAN or not name.endswith(COMPACT):
                continue
            since[tag] += 1
            frame = codec.loads(self._read(f"{day}/{name}"))
            if frame.base and frame.base.rpartition("/")[2] in doomed:
                out.append(name)
        return out

    def _rewrite_whole(self, ref: str) -> None:
        frame = codec.loads(self._read(ref))
        whole = codec.intra(self.screen(ref))
        whole.region = frame.region
        self._write(ref, codec.dumps(whole))

    def _drop_state(self, refs: set[str]) -> None:
        for monitor, state in list(self._state.items()):
            if state.last.ref in refs:
                del self._state[monitor]
            else:
                state.scenes = [s for s in state.scenes if s.ref not in refs]


def _monitor_tag(stem: str) -> str:
    """The ``-mNN`` end of a spool frame name (names without one share one tag)."""
    return stem.rsplit("-", 1)[-1] if "-" in stem else ""


def _legacy_image(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))
