"""``lifelog import``: bring existing recordings into the timeline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Optional

import typer

from lifelog.cli.common import Runtime, err, print_json, progress_bar
from lifelog.errors import UsageError
from lifelog.timespec import parse_time


def import_(
    files: list[Path] = typer.Argument(..., help="Audio files: .wav, .mp3, .flac, .m4a (anything FFmpeg reads)."),
    at: str = typer.Option(..., "--at", help="When the recording started: ISO time (local unless it has a zone) or 2h, 1d (ago)."),
    asr_engine: Optional[str] = typer.Option(None, "--asr-engine", help="faster-whisper (default) or openai-whisper."),
    json_out: bool = typer.Option(False, "--json", help="Print what was imported as JSON."),
) -> None:
    """Transcribe audio recordings into the timeline, as heard at the time given by --at
    (several files are placed one after another). Each file is imported whole or not at all.

    Example: lifelog import meeting.wav --at 2026-11-20T14:00
    """
    from lifelog.api.timeline import chunk_for_import
    from lifelog.tokenize_media.asr import get_asr
    from lifelog.tokenize_media.audio_pipeline import transcribe_recording

    start = parse_time(at)
    for f in files:
        if not f.is_file():
            raise UsageError(f"Cannot import {f}: no such file.")
    rt = Runtime.load(asr_engine=asr_engine)
    rt.paths.ensure()
    engine = get_asr(rt.settings.asr_engine, model_path=rt.settings.asr_model_path or None)
    report = []
    for f in files:
        with progress_bar(f"Transcribing {f.name}") as bar:
            task = bar.add_task("asr", total=None)
            rows, seconds = transcribe_recording(f, start, engine=engine,
                                                 progress=lambda d, t: bar.update(task, completed=d, total=t))
        timeline = rt.timeline()  # the owner, if one runs, stores it; else this process does
        try:
            timeline.import_transcripts(rows, chunk_for_import(start, seconds), file=f.name)
        finally:
            timeline.close()
        report.append({"file": str(f), "start": start.isoformat() + "Z", "seconds": round(seconds, 1),
                       "transcripts": len(rows), "words": sum(len(r.text.split()) for r in rows)})
        start += timedelta(seconds=seconds)
        if not json_out:
            err.print(f"Imported {f.name}: {len(rows)} transcript segments, {report[-1]['words']} words.")
    if json_out:
        print_json(report)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
