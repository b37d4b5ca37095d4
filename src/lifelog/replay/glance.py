"""A glance at the timeline: what is on screen now, and a screen as it looked at a moment.

``now`` answers an agent's first question ("what is the user doing?") in a few hundred tokens:
the lines of the last screen stored on each monitor, grouped by window in reading order, and a
small context window of the last minutes (``replay/context.py``, counted exactly). ``screen_at``
rebuilds the last screen stored at or before a moment from its keyframe and patches
(``keyframes.rebuild``), scaled down to a width and encoded as PNG (same screen, same bytes).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lifelog.errors import NothingStored, UsageError
from lifelog.models import Picture
from lifelog.replay.context import build_context
from lifelog.replay.keyframes import encode, rebuild
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER

MAX_MINUTES = 1440
MAX_NOW_BUDGET = 100_000
MAX_LINES = 120  # lines of the screens now, at most (a glance, not a dump)
WIDTHS = (64, 4096)
_TICK = timedelta(microseconds=1)


def _iso(at: datetime) -> str:
    return at.isoformat() + "Z"


def now(reader, *, at: datetime, minutes: int, budget: int, recorder: dict | None) -> dict:
    """The screens last stored (up to ``at``) with their lines, and a window of the ``minutes``
    before ``at`` in at most ``budget`` tokens. ``recorder``: the owner's capture state, if any."""
    if not 1 <= minutes <= MAX_MINUTES:
        raise UsageError(f"minutes must be 1 to {MAX_MINUTES}, not {minutes}.")
    if not 1 <= budget <= MAX_NOW_BUDGET:
        raise UsageError(f"budget must be 1 to {MAX_NOW_BUDGET:,}, not {budget}.")
    screens, left = [], MAX_LINES
    last = reader.frame_at(at)
    # every monitor shown within the window's minutes of the last screen: the others are not "now"
    for frame in reader.last_frames(last.ts - timedelta(minutes=minutes), at) if last else []:
        for screen in _by_window(reader.spans_between(frame.ts, frame.ts + _TICK), frame.monitor):
            shown = screen["lines"][: max(0, left)]
            left -= len(shown)
            screens.append(
                {**screen, "seen_at": _iso(frame.ts), "lines": shown, "more_lines": len(screen["lines"]) - len(shown)}
            )
    window = build_context(
        reader,
        since=at - timedelta(minutes=minutes),
        until=at + _TICK,
        budget=budget,
        fmt="markdown",
        tokenizer=DEFAULT_TOKENIZER,
    )
    return {
        "at": _iso(at),
        "last_screen_at": _iso(last.ts) if last else None,
        "recorder": _recorder(recorder),
        "screens": screens,
        "recent": {"minutes": minutes, "tokens": window.tokens, "budget": budget, "text": window.text},
    }


def _by_window(spans, monitor: int) -> list[dict]:
    """The spans of ``monitor`` grouped by app and window, each group's lines top to bottom."""
    groups: dict[tuple[str, str], list] = {}
    for s in spans:
        if s.monitor == monitor:
            groups.setdefault((s.app, s.window), []).append(s)
    return [
        {
            "monitor": monitor,
            "app": app,
            "window": window,
            "lines": [s.text for s in sorted(rows, key=lambda s: (s.top, s.left))],
        }
        for (app, window), rows in groups.items()
    ]


def _recorder(info: dict | None) -> dict | None:
    if info is None:
        return None
    return {k: info.get(k) for k in ("capturing", "gap", "paused_until_s", "fps_achieved")}


def screen_at(reader, images, *, at: datetime, monitor: int | None, width: int) -> Picture:
    """The last screen stored at or before ``at`` (on ``monitor``, or whichever changed last),
    rebuilt and scaled to at most ``width`` pixels wide."""
    low, high = WIDTHS
    if not low <= width <= high:
        raise UsageError(f"width must be {low} to {high} pixels, not {width}.")
    if monitor is not None and monitor < 0:
        raise UsageError(f"monitor is 0 or more, not {monitor}.")
    frame = reader.frame_at(at, monitor)
    on = "" if monitor is None else f" on monitor {monitor}"
    if frame is None:
        raise NothingStored(f"No screen is stored at or before {_iso(at)}{on}.")
    pixels = rebuild(reader, images, frame)
    if pixels is None:
        raise NothingStored(
            f"The screen of {_iso(frame.ts)}{on} cannot be rebuilt (its images were deleted or are unreadable)."
        )
    scale = min(1.0, width / frame.width)
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    meta = {
        "ts": _iso(frame.ts),
        "monitor": frame.monitor,
        "app": frame.app,
        "window": frame.window,
        "width": size[0],
        "height": size[1],
        "screen_width": frame.width,
        "screen_height": frame.height,
    }
    return Picture(encode(pixels, size), meta)
