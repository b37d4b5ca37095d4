"""``lifelog replay``: a range as one HTML page to scrub through in a browser."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from lifelog.cli.common import Runtime, SinceOpt, UntilOpt, err
from lifelog.errors import LifelogError, UsageError
from lifelog.paths import atomic_private_file
from lifelog.replay.scrub import sampling_note
from lifelog.timespec import parse_duration, parse_range

PROGRESS_MIN_FRAMES = 60  # a progress bar for pages with at least this many frames


def replay(
    output: Path = typer.Option(
        ..., "--output", "-o", help="The HTML file to write (whole or not at all; private, 0600)."
    ),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    every: str | None = typer.Option(
        None,
        "--every",
        help="At most one frame per this interval per monitor (30s, 1m, 5m). "
        "Default: every change, one per 10 s past 600 frames.",
    ),
) -> None:
    """Write a range as one self-contained HTML page: its frames on a time scrubber, the text on
    screen at each, what was heard, app and window, gaps. Keys: left/right frame, up/down a minute,
    / find text, Enter the next frame that shows it. Nothing in it reaches the network.

    Example: lifelog replay --since 9:00 --until 10:30 -o morning.html
    """
    start, end = parse_range(since, until)
    step = _every(every)
    started = time.monotonic()
    timeline = Runtime.load().timeline()
    try:
        page = timeline.replay(since=start, until=end, every=step)
        try:
            size = _write(output, page)
        finally:
            page.close()
    finally:
        timeline.close()
    counts = page.rows
    note = sampling_note(counts["frames"], counts["frames_in_range"], counts["every_s"])
    if note:
        err.print(note, markup=False)
    err.print(
        f"Wrote {output}: {counts['frames']:,} frames, {counts['seen']:,} lines seen, {counts['heard']:,} heard, "
        f"{counts['gaps']:,} gaps; {size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s.",
        markup=False,
    )


def _every(spec: str | None) -> int | None:
    if spec is None:
        return None
    seconds = parse_duration(spec).total_seconds()
    if seconds < 1:
        raise UsageError(f"--every {spec}: give at least 1s (e.g. 30s, 1m).")
    return int(seconds)


def _write(path: Path, page) -> int:
    """The page into ``path``, all or nothing; its size in bytes. A spinner turns while a page of
    ``PROGRESS_MIN_FRAMES`` or more is built (its bytes are not known ahead)."""
    bar = _spinner() if page.rows.get("frames", 0) >= PROGRESS_MIN_FRAMES else None
    size = 0
    try:
        with atomic_private_file(path) as fh, bar or contextlib.nullcontext():  # 0600: it holds what was on screen
            task = bar.add_task("replay", total=None) if bar else None
            for chunk in page.chunks:
                fh.write(chunk)
                size += len(chunk)
                if bar and task is not None:
                    bar.update(task, description=f"Writing {path.name}: {size / 1e6:.1f} MB")
    except OSError as exc:
        if isinstance(exc, LifelogError):
            raise
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return size


def _spinner() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True)


def register(app: typer.Typer) -> None:
    app.command()(replay)
