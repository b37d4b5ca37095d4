"""``lifelog import``: bring existing recordings and timelines into the timeline."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from pathlib import Path

import typer
from rich.progress import Progress, TaskID

from lifelog.api.upload import check_size
from lifelog.cli.common import Runtime, err, print_json, progress_bar
from lifelog.errors import UsageError
from lifelog.timespec import parse_time


def import_(
    files: list[Path] = typer.Argument(
        ...,
        help="Audio files (.wav, .mp3, .flac, .m4a: anything FFmpeg reads) or "
        "lifelog timelines (.jsonl, from `lifelog export`).",
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        help="Audio only: when the recording started, ISO time (local unless it has a zone) or 2h, 1d (ago).",
    ),
    asr_engine: str | None = typer.Option(None, "--asr-engine", help="faster-whisper (default) or openai-whisper."),
    json_out: bool = typer.Option(False, "--json", help="Print what was imported as JSON."),
) -> None:
    """Bring audio recordings and lifelog timelines (.jsonl) in, each file whole or not at all.

    Audio is transcribed as heard at the time given by --at (several files are placed one after
    another). A timeline from `lifelog export` is merged, skipping what is already there, so
    importing it twice adds nothing.

    Example: lifelog import meeting.wav --at 2026-11-20T14:00

    Example: lifelog import laptop.jsonl
    """
    for f in files:
        if not f.is_file():
            raise UsageError(f"Cannot import {f}: no such file.")
    audio = [f for f in files if not _is_jsonl(f)]
    if audio and at is None:
        raise UsageError(
            f"Importing {audio[0].name} needs --at: when the recording started "
            "(e.g. --at 2026-11-20T14:00, or --at 2h for two hours ago)."
        )
    start = parse_time(at) if at is not None else None
    rt = Runtime.load(asr_engine=asr_engine)
    if audio:
        from lifelog.tokenize_media.asr import check_settings

        check_settings(rt.settings)  # a bad ASR setting stops the import before anything is written
    rt.paths.ensure()
    report = [_import_jsonl(rt, f, json_out) for f in files if _is_jsonl(f)]
    if audio and start is not None:  # (audio without --at was refused above)
        report += _import_audio(rt, audio, start, json_out)
    if json_out:
        print_json(report)


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() == ".jsonl"


def _import_jsonl(rt: Runtime, f: Path, quiet: bool) -> dict:
    timeline = rt.timeline()  # the owner, if one runs, merges it; else this process does
    try:
        if timeline.owner is not None:  # an upload: refused past import_max before a byte is sent
            check_size(f.stat().st_size, rt.settings.import_max_bytes, f.name)
        report = timeline.import_jsonl(f.resolve(), name=f.name)
    finally:
        timeline.close()
    if not quiet:
        from lifelog.cli.export import per_kind

        read, new, stale = sum(report["read"].values()), report["inserted"], report.get("stale_digests", 0)
        skipped = sum(report.get("skipped", {}).values())
        err.print(
            f"Imported {f.name}: {read:,} rows read, {sum(new.values()):,} new ({per_kind(new)}), "
            f"{read - sum(new.values()) - stale:,} already there"
            + (
                f", {stale:,} digest{'' if stale == 1 else 's'} left out (made again from the lines here)"
                if stale
                else ""
            )
            + (f", {skipped:,} rows of types this lifelog does not know skipped" if skipped else "")
            + f"; {report['seconds']:.1f} s ({report['rows_per_s'] or 0:,} rows/s).",
            markup=False,
        )
    return {"file": str(f), **{k: v for k, v in report.items() if k != "file"}}


def _import_audio(rt: Runtime, files: list[Path], start: datetime, quiet: bool) -> list[dict]:
    from lifelog.api.timeline import chunk_for_import
    from lifelog.ingest.audio import transcribe_recording
    from lifelog.tokenize_media.asr import asr_from_settings
    from lifelog.tokenize_media.redact import Redactor

    engine = asr_from_settings(rt.settings)
    report = []
    for f in files:
        with progress_bar(f"Transcribing {f.name}") as bar:
            task = bar.add_task("asr", total=None)
            rows, seconds, told = transcribe_recording(
                f,
                start,
                engine=engine,
                script=rt.settings.chinese_script,
                redactor=Redactor.from_settings(rt.settings),
                progress=functools.partial(_advance, bar, task),
                speakers=rt.settings.speakers,
            )
        timeline = rt.timeline()  # the owner, if one runs, stores it; else this process does
        try:
            timeline.import_transcripts(rows, chunk_for_import(start, seconds), file=f.name, voices=told.voices)
        finally:
            timeline.close()
        report.append(
            {
                "file": str(f),
                "start": start.isoformat() + "Z",
                "seconds": round(seconds, 1),
                "transcripts": len(rows),
                "words": sum(word_count(r.text) for r in rows),
                "speakers": len(told.voices),
            }
        )
        start += timedelta(seconds=seconds)
        if not quiet:
            who = f"; {told.note}" if told.note else ""
            err.print(f"Imported {f.name}: {len(rows)} transcript segments, {report[-1]['words']} words{who}.")
    return report


def word_count(text: str) -> int:
    """Words as a reader counts them: each Chinese or Japanese character is one."""
    from lifelog.tokenize_media.asr.hygiene import words

    return sum(len(w) if _HAN_OR_KANA.match(w) else 1 for w in words(text))


_HAN_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)


def _advance(bar: Progress, task: TaskID, done: float, total: float | None) -> None:
    bar.update(task, completed=done, total=total)
