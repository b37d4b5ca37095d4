"""``lifelog forget``: take back what was recorded, everywhere in the data folder."""

from __future__ import annotations

import sys
from datetime import datetime

import typer

from lifelog.cli.common import JsonOpt, Runtime, out, print_json
from lifelog.errors import UsageError
from lifelog.timespec import ago, parse_duration, parse_range, utcnow


def forget(
    last: str | None = typer.Option(None, "--last", help="The last 90s, 15m, 2h, ... up to now."),
    since: str | None = typer.Option(None, "--since", help="From: 09:00 (today), 2h (ago), an ISO time, today."),
    until: str | None = typer.Option(None, "--until", help="Until (same forms as --since). Default: now."),
    app_name: str | None = typer.Option(None, "--app", help="What this app showed (any case): signal, firefox."),
    title: str | None = typer.Option(
        None, "--title", help="What windows whose title matches this regular expression showed."
    ),
    matching: str | None = typer.Option(
        None, "--matching", help="Every line, transcript and frame that held this text (any case)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask first (nothing asks without a terminal)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; change nothing."),
    json_out: bool = JsonOpt,
) -> None:
    """Forget part of the timeline: its lines, transcripts, frames, audio, events and all derived
    from them, with no byte left in the data folder. Criteria combine (AND).

    Example: lifelog forget --last 15m

    Example: lifelog forget --since 09:00 --until 09:30

    Example: lifelog forget --matching "salary review" --dry-run
    """
    selection = _selection(last, since, until, app_name, title, matching)
    timeline = Runtime.load().timeline()
    try:
        if not (yes or dry_run) and sys.stdin.isatty():
            preview = timeline.forget(**selection, dry_run=True)
            if not typer.confirm(f"Forget {_what(preview)}?", err=True):
                raise typer.Abort()
        report = timeline.forget(**selection, dry_run=dry_run)
    finally:
        timeline.close()
    if json_out:
        print_json(report)
    else:
        out.print(_sentence(report), markup=False)


def _selection(last, since, until, app, title, matching) -> dict:
    """The facade's forget arguments (``since``, ``until``, ``app``, ``title``, ``matching``), checked."""
    from dataclasses import asdict

    from lifelog.store.forget import Selection

    if last and (since or until):
        raise UsageError("Give either --last or --since/--until, not both.")
    start: datetime | None
    end: datetime | None
    if last:
        end = utcnow()
        start = ago(parse_duration(last), end, last)
    else:
        start, end = parse_range(since, until)
        if start is not None and end is None:
            end = utcnow()  # up to now: what is recorded from here on is not forgotten
    return asdict(Selection(start, end, app, title, matching).check())


def _what(r: dict) -> str:
    parts = [
        (r["lines"], "line"),
        (r["transcripts"], "transcript"),
        (r["frames"], "frame"),
        (r["audio_files"], "audio file"),
        (r["events"], "event"),
        (r["spool_files"], "spooled capture"),
    ]
    named = [f"{n:,} {word}{'' if n == 1 else 's'}" for n, word in parts if n]
    return ", ".join(named) or "only derived data (vectors)"


def _sentence(r: dict) -> str:
    if r["dry_run"]:
        return f"Would forget {_what(r)}."
    freed = r["bytes_before"] - r["bytes_after"]
    return (
        f"Forgot {_what(r)}; the data folder went from {_mb(r['bytes_before'])} to {_mb(r['bytes_after'])} "
        f"({_mb(max(freed, 0))} back)."
    )


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def register(app: typer.Typer) -> None:
    app.command()(forget)
