"""``lifelog export``: the timeline as a file that another lifelog imports (JSONL), as Parquet
by day for a query engine, or as a Markdown day log. All three read the same stream
(``timeline.export_jsonl``: through the running owner, else from the file)."""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import typer

from lifelog.cli.common import Runtime, SinceOpt, UntilOpt, err, progress_bar
from lifelog.errors import LifelogError, UsageError
from lifelog.paths import atomic_private_file
from lifelog.timespec import parse_range

FORMATS = ("jsonl", "parquet", "markdown")
DAY = timedelta(days=1)
PROGRESS_MIN_ROWS = 50_000  # a progress bar for exports at least this long (to a file)


def export(
    fmt: str = typer.Option(
        "jsonl",
        "--format",
        "-f",
        help="jsonl: lifelog's timeline format (for `lifelog import`); parquet: a folder of files by "
        "UTC day (-o DIR); markdown: a day log to read.",
    ),
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write to this file (whole or not at all) instead of stdout; for parquet, the folder (required).",
    ),
    person: str | None = typer.Option(None, "--person", help="parquet: the person column (default: your user name)."),
    machine: str | None = typer.Option(
        None, "--machine", help="parquet: the machine column (default: this host's name)."
    ),
) -> None:
    """Write what was seen and heard, and the timeline's events: as JSON Lines in time order
    (for `lifelog import` on this or another machine, or your own scripts), as Parquet files
    per UTC day (a re-run writes only new or changed days; DuckDB, Polars, Spark and Trino read
    the folder as it is), or as a Markdown day log.

    Example: lifelog export --since 30d -o month.jsonl

    Example: lifelog export --format parquet --since 30d -o timeline/

    Example: lifelog export --format markdown --since yesterday --until today -o day.md
    """
    if fmt not in FORMATS:
        raise UsageError(f"Unknown export format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    start, end = parse_range(since, until)
    if fmt == "parquet":
        _parquet(start, end, output, person or _user(), machine or socket.gethostname())
        return
    if person or machine:
        raise UsageError("--person and --machine are columns of the Parquet export: add --format parquet.")
    if fmt == "markdown":
        _markdown(start, end, output)
        return
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


def _parquet(start: datetime | None, end: datetime | None, output: Path | None, person: str, machine: str) -> None:
    """Whole UTC days from the one holding ``start`` to the one before ``end``'s midnight."""
    from lifelog.api.export_parquet import Target, export_parquet, prepare

    if output is None:
        raise UsageError("A Parquet export is a folder of files by day: give it with -o DIR.")
    first = _midnight(start) if start else None
    until = None if end is None else (end if end == _midnight(end) else _midnight(end) + DAY)
    timeline = Runtime.load().timeline()
    try:
        stream = timeline.export_jsonl(since=first, until=until)
        try:
            _refuse_empty(stream.rows, first, until)
            prepare(output)
            report = export_parquet(
                stream.chunks,
                Target(output, person, machine),
                first.date() if first else None,
                (until - DAY).date() if until else None,
            )
        except OSError as exc:
            raise UsageError(f"Cannot write into {output}: {exc.strerror or exc}.") from None
        finally:
            stream.close()
    finally:
        timeline.close()
    _say_parquet(report)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        return f"uid-{os.getuid()}"


def _say_parquet(report: dict) -> None:
    """One line on stderr: what was written, what was skipped, what was removed."""
    rows, written, removed = report["rows_written"], report["days_written"], report["days_removed"]
    unchanged = f"{report['days_unchanged']:,} day{'' if report['days_unchanged'] == 1 else 's'} unchanged"
    gone = f"; removed {len(removed)} that now hold nothing ({', '.join(removed)})" if removed else ""
    if written:
        span = written[0] + (f" … {written[-1]}" if len(written) > 1 else "")
        rate = sum(rows.values()) / max(report["seconds"], 1e-3)
        said = (
            f"Wrote {len(written):,} day{'' if len(written) == 1 else 's'} (UTC) to {report['folder']}: {span}, "
            f"{per_kind(rows)}, {report['bytes_written'] / 1e6:,.1f} MB ({rate:,.0f} rows/s); {unchanged}"
        )
    else:
        said = f"Nothing new or changed in {report['folder']}: {unchanged} (UTC days), nothing written"
    err.print(f"{said}{gone}; {report['seconds']:.1f} s.", markup=False)


def _markdown(start: datetime | None, end: datetime | None, output: Path | None) -> None:
    from lifelog.api.export_markdown import day_log

    timeline = Runtime.load().timeline()
    try:
        stream = timeline.export_jsonl(since=start, until=end)
        try:
            _refuse_empty(stream.rows, start, end)
            text, entries = day_log(stream.chunks, since=start)
        finally:
            stream.close()
    finally:
        timeline.close()
    data = text.encode("utf-8")
    if output is None:
        _to_stdout(_Chunks([data]))
        return
    _to_file(output, _Chunks([data]))
    err.print(f"Wrote a day log of {entries:,} entries (times UTC) to {output}.", markup=False)


class _Chunks:
    """Bytes already made, shaped as an export stream for :func:`_to_file` / :func:`_to_stdout`."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.rows = {"seen": 0, "heard": 0, "event": 0}


def _refuse_empty(rows: dict[str, int], start: datetime | None, end: datetime | None) -> None:
    if not sum(rows.values()):
        when = f"between {_when(start)} and {_when(end)}" if start or end else "in this timeline"
        raise UsageError(f"Nothing recorded {when} (UTC): nothing written. Widen --since/--until.")


def _when(ts: datetime | None) -> str:
    return "the start" if ts is None else f"{ts:%Y-%m-%d %H:%M}"


def _midnight(ts: datetime) -> datetime:
    return ts.replace(hour=0, minute=0, second=0, microsecond=0)


def per_kind(rows: dict[str, int]) -> str:
    """``5 seen, 1 heard, 3 events`` (``, 4 digests, 1 lesson`` when there are any)."""
    said = f"{rows['seen']:,} seen, {rows['heard']:,} heard, {rows['event']:,} event{'' if rows['event'] == 1 else 's'}"
    for kind in ("digest", "lesson"):
        if rows.get(kind):
            said += f", {rows[kind]:,} {kind}{'' if rows[kind] == 1 else 's'}"
    return said


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
