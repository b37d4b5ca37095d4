"""``lifelog export``: the timeline as a file that another lifelog imports."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import typer

from lifelog.cli.common import Runtime, SinceOpt, UntilOpt, err, progress_bar
from lifelog.errors import LifelogError, UsageError
from lifelog.paths import atomic_private_file
from lifelog.timespec import parse_range

FORMATS = ("jsonl",)
PROGRESS_MIN_ROWS = 50_000  # a progress bar for exports at least this long (to a file)


def export(
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl: lifelog's timeline format (see the README)."),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (whole or not at all) instead of stdout."
    ),
) -> None:
    """Write what was seen and heard, and the timeline's events, as JSON Lines in time order:
    for `lifelog import` on this or another machine, or for your own scripts.

    Example: lifelog export --since 30d -o month.jsonl
    """
    if fmt not in FORMATS:
        raise UsageError(f"Unknown export format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    start, end = parse_range(since, until)
    started = time.monotonic()
    timeline = Runtime.load().timeline()
    try:
        stream = timeline.export_jsonl(since=start, until=end)
        try:
            written = _to_file(output, stream) if output else _to_stdout(stream)
        finally:
            stream.close()
    finally:
        timeline.close()
    if written:
        seconds = time.monotonic() - started
        rows = stream.rows
        total = sum(rows.values())
        err.print(
            f"Exported {total:,} rows ({per_kind(rows)}) to {output or 'stdout'} in {seconds:.1f} s "
            f"({total / max(seconds, 1e-3):,.0f} rows/s).",
            markup=False,
        )


def per_kind(rows: dict[str, int]) -> str:
    """``5 seen, 1 heard, 3 events``."""
    return f"{rows['seen']:,} seen, {rows['heard']:,} heard, {rows['event']:,} event{'' if rows['event'] == 1 else 's'}"


def _to_file(path: Path, stream) -> bool:
    total = sum(stream.rows.values()) + 1  # lines, with the header
    bar = progress_bar(f"Exporting to {path.name}") if total > PROGRESS_MIN_ROWS else None
    try:
        with atomic_private_file(path) as fh, bar or contextlib.nullcontext():  # 0600: it holds what was on screen
            task = bar.add_task("export", total=total) if bar else None
            for chunk in stream.chunks:
                fh.write(chunk)
                if bar and task is not None:
                    bar.advance(task, chunk.count(b"\n"))
    except OSError as exc:
        if isinstance(exc, LifelogError):
            raise
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return True


def _to_stdout(stream) -> bool:
    """False when the reader went away (``lifelog export | head``): nothing more to say."""
    out = typer.get_binary_stream("stdout")
    try:
        for chunk in stream.chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return False
    return True


def register(app: typer.Typer) -> None:
    app.command()(export)
