"""``lifelog record`` and ``lifelog process``."""

from __future__ import annotations

import contextlib

import typer

from lifelog.cli.common import Runtime, err, install_stop_handlers, print_json, progress_bar
from lifelog.errors import LifelogError, StoreBusy, UsageError
from lifelog.timespec import parse_duration


def record(
    duration: str | None = typer.Option(
        None, "--duration", "-d", help="Stop after this long (90s, 10m, 2h). Default: until Ctrl-C."
    ),
    fps: float | None = typer.Option(None, "--fps", help="Screen captures per second (default 2)."),
    monitor: int | None = typer.Option(None, "--monitor", help="Only this monitor (1, 2, ...). Default: all."),
    audio_source: str | None = typer.Option(
        None, "--audio-source", help="Audio to record: both (default; microphone and system output), mic, system, none."
    ),
    no_audio: bool = typer.Option(False, "--no-audio", help="Screen only (same as --audio-source none)."),
    asr_engine: str | None = typer.Option(None, "--asr-engine", help="faster-whisper (default) or openai-whisper."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Record the screen and audio, turn them into text as it goes; returns once everything captured is searchable.

    Example: lifelog record --duration 30m --audio-source mic
    """
    from lifelog.daemon.owner import owned_recording
    from lifelog.daemon.recorder import StopSignals

    seconds = parse_duration(duration).total_seconds() if duration is not None else None
    if seconds is not None and seconds <= 0:
        raise UsageError(f"--duration {duration}: must be longer than 0s (omit it to record until Ctrl-C).")
    rt = Runtime.load(
        fps=fps, monitor=monitor, asr_engine=asr_engine, audio_source="none" if no_audio else audio_source
    )
    rt.paths.ensure()
    signals = StopSignals()
    install_stop_handlers(signals)
    warn = lambda m: err.print(f"lifelog: warning: {m}")  # noqa: E731
    with owned_recording(rt.paths, rt.settings, role="record", warn=warn, signals=signals) as recorder:
        audio = f"audio: {rt.settings.audio_source}" if rt.settings.audio_sources else "no audio"
        err.print(
            f"Recording the screen at {rt.settings.fps:g} fps ({audio}) into {rt.paths.data}"
            + (f" for {duration}" if duration else "")
            + ". Ctrl-C stops."
        )
        with _progress() as on_progress:
            summary = recorder.run(seconds, progress=on_progress)
    _report(summary, json_out)


@contextlib.contextmanager
def _progress():
    """A progress bar for the final drain, shown only once there is something to drain."""
    bar = progress_bar("Processing captured frames")
    task = None

    def on_progress(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("ocr", total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield on_progress
    finally:
        bar.stop()


def _report(summary, json_out: bool) -> None:
    data = {
        "recording": summary.recording_id,
        "seconds": round(summary.seconds, 1),
        "frames_kept": summary.counts.get("kept", 0),
        "frames_skipped": summary.counts.get("skipped", 0),
        "late_ticks": summary.counts.get("late_ticks", 0),
        "frames_processed": summary.frames_processed,
        "ocr_failures": summary.ocr_failures,
        "new_text_spans": summary.new_spans,
        "left_in_spool": summary.left_in_spool,
        "audio_chunks": summary.audio.get("chunks", 0),
        "audio_voiced_s": round(summary.audio.get("voiced_ms", 0) / 1000, 1),
        "audio_silent_s": round(summary.audio.get("silent_ms", 0) / 1000, 1),
        "audio_overflows": summary.audio.get("overflows", 0),
        "transcripts": summary.transcripts,
        "audio_problems": summary.audio_problems,
        "frames_shed": summary.counts.get("shed", 0),
        "aborted": summary.aborted,
        "capture_error": summary.capture_error,
    }
    _print_report(data, json_out)
    if summary.capture_error:
        raise LifelogError(
            f"Screen capture stopped: {summary.capture_error}. Everything captured before that is stored; "
            "the timeline records the gap. Check the display and run `lifelog record` again."
        )
    if summary.aborted:
        raise SystemExit(130)


def _print_report(data: dict, json_out: bool) -> None:
    if json_out:
        print_json(data)
        return
    err.print(
        f"Recorded {data['seconds']}s: {data['frames_kept']} frames kept, {data['frames_skipped']} unchanged skipped, "
        f"{data['new_text_spans']} new text spans, {data['ocr_failures']} OCR failures; "
        f"{data['audio_voiced_s']}s of speech in {data['audio_chunks']} audio chunks, {data['transcripts']} transcript segments."
        + (
            f" {data['frames_shed']} changed frames not kept while OCR was behind (recorded as gaps)."
            if data["frames_shed"]
            else ""
        )
        + (
            f" {data['left_in_spool']} files left in the spool: run `lifelog process`." if data["left_in_spool"] else ""
        ),
        highlight=False,
    )


def process(json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Process frames and audio still waiting in the spool (after an interrupted recording).

    Example: lifelog process
    """
    from lifelog.ingest.audio import AudioPipeline
    from lifelog.ingest.frames import Pipeline
    from lifelog.tokenize_media.redact import Redactor

    rt = Runtime.load()
    rt.paths.ensure()
    store = rt.store()  # migrated by its first write: OCR need not wait for a busy database
    audio = AudioPipeline.from_settings(store, rt.paths, rt.settings)
    pipeline = Pipeline(
        store,
        rt.paths,
        ocr_engine=rt.settings.ocr_engine,
        ocr_options=rt.settings.ocr_options(),
        redactor=Redactor.from_settings(rt.settings),
    ).acquire()
    try:
        with progress_bar("Processing frames") as bar:
            task = bar.add_task("ocr", total=None)
            stats = pipeline.drain(progress=lambda d, t: bar.update(task, completed=d, total=t))
        if not pipeline.commit():
            raise StoreBusy(
                f"The lifelog database stayed busy; {pipeline.waiting} processed frames stay in the "
                "spool. Run `lifelog process` again once the other process is done."
            )
        heard = None
        if audio.pending():
            with progress_bar("Transcribing audio") as bar:
                task = bar.add_task("asr", total=None)
                heard = audio.drain(progress=lambda d, t: bar.update(task, completed=d, total=t))
            if audio.pending():
                raise StoreBusy(
                    f"The lifelog database stayed busy; {len(audio.pending())} audio chunks stay in "
                    "the spool. Run `lifelog process` again once the other process is done."
                )
    finally:
        pipeline.release()
    data = {
        "frames": stats.frames,
        "ocr_failures": stats.ocr_failures,
        "bad_files": stats.bad_files,
        "new_text_spans": stats.new_spans,
        "audio_chunks": heard.chunks if heard else 0,
        "transcripts": heard.transcripts if heard else 0,
    }
    if json_out:
        print_json(data)
    else:
        err.print(
            f"Processed {stats.frames} frames ({stats.ocr_failures} OCR failures, {stats.bad_files} unreadable) "
            f"and {data['audio_chunks']} audio chunks ({data['transcripts']} transcript segments)."
        )


def register(app: typer.Typer) -> None:
    app.command()(record)
    app.command()(process)
