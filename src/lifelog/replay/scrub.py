"""What a replay holds: which frames of a range, the text on screen at each, the gaps, and the
screens themselves rebuilt in one pass (``html.py`` writes the page).

Frames. Capture keeps a frame only when the screen changed, so every stored frame is a distinct
change. A range of up to ``FULL_FRAMES`` frames keeps them all; a longer one is sampled to at most
one frame per ``AUTO_EVERY_S`` seconds per monitor (the last of each stretch: the screen as it
settled), and ``every`` sets the stretch outright. A range that still holds more than
``MAX_FRAMES`` is refused, naming the sampling that would fit.

Text. A frame shows the spans of its monitor visible at its time (``t_start <= ts < t_end``),
found by one sweep over the spans in time order, so an hour of dense text costs one pass, not
one pass per frame.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from lifelog.errors import UsageError
from lifelog.models import FrameRecord, TextSpan
from lifelog.replay.blocks import gap_label

FULL_FRAMES = 600  # a range with up to this many frames keeps every change
AUTO_EVERY_S = 10.0  # a longer one: at most one frame per this many seconds per monitor
MAX_FRAMES = 1200  # more than this after sampling is refused (about 1.5 frames a minute for 12 hours)
IDLE_GAP_S = 300.0  # no frame for this long is shown as a gap on the scrubber
MAX_RANGE = timedelta(days=7)  # a longer range is refused before its frames are read (the owner's memory)
EVERY_CHOICES = (10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)


@dataclass(frozen=True)
class Plan:
    """The frames a replay shows: ``chosen`` (time order) out of ``total`` in the range, at most
    one per ``every`` seconds per monitor (0: every change)."""

    chosen: list[FrameRecord]
    total: int
    every: float

    @property
    def sampled(self) -> bool:
        return len(self.chosen) < self.total

    def note(self) -> str:
        return sampling_note(len(self.chosen), self.total, self.every)


def sampling_note(kept: int, total: int, every: float) -> str:
    """What the sampling left out, for the page and stderr ("" when nothing was)."""
    if kept >= total:
        return ""
    return f"Sampled: {kept:,} of {total:,} frames, at most one per {duration(every)} per monitor."


def duration(seconds: float) -> str:
    """``10 s``, ``5 min``, ``2 h``: an interval as people say it."""
    if seconds < 60 or seconds % 60:
        return f"{seconds:g} s"
    if seconds < 3600 or seconds % 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def check_range(since: datetime | None, until: datetime | None, now: datetime) -> None:
    """UsageError for a range without a start or longer than ``MAX_RANGE``: its frames are read
    into memory before sampling, so their number must stay bounded."""
    if since is None:
        raise UsageError("A replay needs a start: give --since (e.g. --since 9:00 --until 10:30).")
    if (until or now) - since > MAX_RANGE:
        raise UsageError(
            f"A replay covers at most {MAX_RANGE.days} days: give a shorter range "
            "(one replay per day, e.g. --since 2026-11-24 --until 2026-11-25)."
        )


def choose(frames: list[FrameRecord], every: float | None) -> Plan:
    """The frames to show (``frames``: the range's, time order); UsageError when more than
    ``MAX_FRAMES`` remain, suggesting a sampling that fits."""
    if every is not None and every < 0:
        raise UsageError(f"--every {every:g}: give a positive interval such as 30s or 1m.")
    step = every if every is not None else (AUTO_EVERY_S if len(frames) > FULL_FRAMES else 0.0)
    chosen = sample(frames, step)
    if len(chosen) > MAX_FRAMES:
        fits = next((s for s in EVERY_CHOICES if s > step and len(sample(frames, s)) <= MAX_FRAMES), None)
        hint = f"Sample with --every {_spec(fits)} or give a shorter range." if fits else "Give a shorter range."
        raise UsageError(
            f"The replay would hold {len(chosen):,} frames"
            + (f" (at most one per {duration(step)})" if step else "")
            + f"; the most is {MAX_FRAMES:,}. {hint}"
        )
    return Plan(chosen, len(frames), step)


def _spec(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g}s"


def sample(frames: list[FrameRecord], every: float) -> list[FrameRecord]:
    """The last frame of each ``every``-second stretch per monitor (stretches counted from the
    first frame), in time order; every frame when ``every`` is 0."""
    if every <= 0 or not frames:
        return list(frames)
    start = frames[0].ts
    last: dict[tuple[int, int], FrameRecord] = {}
    for f in frames:
        last[(f.monitor, int((f.ts - start).total_seconds() // every))] = f
    return sorted(last.values(), key=lambda f: (f.ts, f.monitor, f.id or 0))


def visible(spans: list[TextSpan], chosen: list[FrameRecord]) -> list[list[int]]:
    """For each chosen frame, the indexes into ``spans`` (time order) of the spans of its monitor
    visible at its time, window by window (in the order they first showed), then top to bottom."""
    out: list[list[int]] = []
    live: dict[int, set[int]] = {}  # monitor -> spans on screen
    ends: list[tuple[datetime, int]] = []
    nxt = 0
    for f in chosen:
        while nxt < len(spans) and spans[nxt].t_start <= f.ts:
            live.setdefault(spans[nxt].monitor, set()).add(nxt)
            heapq.heappush(ends, (spans[nxt].t_end or datetime.max, nxt))
            nxt += 1
        while ends and ends[0][0] <= f.ts:
            _, i = heapq.heappop(ends)
            live.get(spans[i].monitor, set()).discard(i)
        out.append(_reading_order(spans, live.get(f.monitor, set())))
    return out


def _reading_order(spans: list[TextSpan], shown: Iterable[int]) -> list[int]:
    ids = sorted(shown)  # time order: a window's first span is where it first showed
    first: dict[tuple[str, str], int] = {}
    for i in ids:
        first.setdefault((spans[i].app, spans[i].window), i)
    return sorted(ids, key=lambda i: (first[(spans[i].app, spans[i].window)], spans[i].top, spans[i].left, i))


def gaps(
    events: list[dict], frames: list[FrameRecord], since: datetime | None, until: datetime | None
) -> list[tuple[datetime, datetime, str]]:
    """The stretches nothing was recorded in: the recorder's gap events (paused, down, excluded,
    shed) and any ``IDLE_GAP_S`` or more without a frame, as (start, end, label)."""
    out = []
    for e in events:
        if e["kind"] != "gap":
            continue
        end = _time((e.get("detail") or {}).get("until")) or e["ts"]
        out.append((e["ts"], max(end, e["ts"]), gap_label(e)))
    times = [t for t in (since, *(f.ts for f in frames), until) if t is not None]
    for a, b in zip(times, times[1:]):
        if (b - a).total_seconds() >= IDLE_GAP_S and not any(s <= a and b <= e for s, e, _ in out):
            out.append((a, b, f"[no screen change {a:%H:%M:%S}–{b:%H:%M:%S} UTC]"))
    return sorted(out)


def _time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        at = datetime.fromisoformat(str(value).removesuffix("Z"))
    except ValueError:
        return None
    return at.replace(tzinfo=None) if at.tzinfo is None else None


def screens(reader, images, frames: list[FrameRecord], chosen: list[FrameRecord]) -> Iterator[np.ndarray | None]:
    """The whole screen at each chosen frame (None where it cannot be rebuilt), walking each
    monitor's frames once: the first from its chain (``reader.screen_before``), each next one
    from the screen before it (``images.next_screen``). Each screen is valid until the next is
    asked for."""
    wanted = {id(f) for f in chosen}
    state: dict[int, tuple[np.ndarray, str] | None] = {}
    for f in frames:
        canvas = _advance(reader, images, state, f)
        if id(f) in wanted:
            yield canvas


def _advance(reader, images, state: dict, f: FrameRecord) -> np.ndarray | None:
    """The screen after ``f`` on its monitor, ``state[monitor]`` updated: (screen, reference)."""
    held = state.get(f.monitor)
    canvas = None
    try:
        if f.image_ref and held is not None and held[0].shape[:2] == (f.height, f.width):
            canvas = images.next_screen(held[0], held[1], f)
        elif f.image_ref:
            chain = reader.screen_before(f.monitor, f.ts + timedelta(microseconds=1), f.width, f.height)
            if chain and all(c.image_ref for c in chain):
                canvas = images.reconstruct(chain)
    except (OSError, ValueError):  # an image deleted or unreadable, a region of another size
        canvas = None
    if canvas is not None and canvas.shape[:2] != (f.height, f.width):
        canvas = None
    state[f.monitor] = None if canvas is None else (canvas, f.image_ref)
    return canvas
