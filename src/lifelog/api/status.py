"""What ``lifelog status`` (and ``lifelog daemon status``) report."""

from __future__ import annotations

from lifelog.spool.audio import pending_chunks
from lifelog.paths import Paths
from lifelog.spool import pending
from lifelog.store.audio_files import AudioFiles
from lifelog.store.images import FrameImages
from lifelog.tokenize_media.embed import DEFAULT as EMBED_MODEL
from lifelog.tokenize_media.embed import embedding_unavailable


def gather(paths: Paths, store) -> dict:
    with store.read() as reader:
        stats = reader.stats()
        chunks_pending = reader.embedding_backlog(EMBED_MODEL)
    c = stats.counters
    return {
        "data_dir": str(paths.data),
        "frames_seen": c.get("frames_seen", 0),
        "frames_kept": c.get("frames_kept", 0),
        "frames_skipped": c.get("frames_skipped", 0),
        "frames_stored": stats.frames,
        "keyframes": stats.keyframes,
        "ocr_failures": stats.ocr_failures,
        "text_spans": stats.text_spans,
        "transcripts": stats.transcripts,
        "audio_chunks": stats.audio_chunks,
        "audio_voiced_s": round(stats.audio_voiced_s, 1),
        "audio_silent_s": round(c.get("audio_silent_ms", 0) / 1000, 1),
        "pending_frames": len(pending(paths.spool)),
        "pending_audio_chunks": len(pending_chunks(paths.audio_spool)),
        "embedding_model": EMBED_MODEL,
        "embedding_backlog": chunks_pending,  # minutes of a window or a source not yet embedded
        "embedding_unavailable": embedding_unavailable(EMBED_MODEL),  # why not, or None
        "first": stats.first_ts.isoformat() + "Z" if stats.first_ts else None,
        "last": stats.last_ts.isoformat() + "Z" if stats.last_ts else None,
        "db_bytes": stats.db_bytes,
        "frame_image_bytes": FrameImages(paths.frames).total_bytes(),
        "audio_bytes": AudioFiles(paths.audio).total_bytes(),
    }


def render_lines(d: dict) -> list[str]:
    mb = lambda n: f"{n / 1e6:,.1f} MB"  # noqa: E731
    return [
        f"Data:          {d['data_dir']}",
        f"Frames:        {d['frames_kept']:,} kept, {d['frames_skipped']:,} unchanged skipped "
        f"({d['frames_stored']:,} stored, {d['keyframes']:,} keyframes)",
        f"Text spans:    {d['text_spans']:,} seen on screen",
        f"Transcripts:   {d['transcripts']:,} heard ({d['audio_voiced_s']:,}s of speech kept, "
        f"{d['audio_silent_s']:,}s of silence skipped)",
        f"OCR failures:  {d['ocr_failures']:,}",
        f"Pending:       {d['pending_frames']:,} frames waiting for OCR, "
        f"{d['pending_audio_chunks']:,} audio chunks waiting for ASR",
        f"Embeddings:    {_embedding_line(d)}",
        f"Time range:    {d['first'] or '-'} … {d['last'] or '-'}",
        f"Storage:       database {mb(d['db_bytes'])}, frame images {mb(d['frame_image_bytes'])}, "
        f"audio {mb(d['audio_bytes'])}",
        *owner_lines(d.get("owner")),
    ]


def _embedding_line(d: dict) -> str:
    if d.get("embedding_unavailable"):
        return f"off ({d['embedding_unavailable']})"
    n = d.get("embedding_backlog", 0)
    if not n:
        return f"up to date ({d['embedding_model']})"
    who = "the recorder embeds them in the background" if d.get("owner") else "`lifelog index` embeds them"
    return f"{n:,} chunks waiting ({d['embedding_model']}); {who}"


def owner_lines(o: dict | None) -> list[str]:
    """The running recorder, as the owner reports it (nothing when no owner runs)."""
    if not o:
        return ["Recorder:      not running"]
    if o.get("capturing"):
        fps = o.get("fps_achieved")
        state = "starting capture" if fps is None else f"recording at {fps} fps (target {o['fps_target']:g})"
    else:
        gap = o.get("gap") or {}
        until = o.get("paused_until_s")
        state = f"not capturing since {gap.get('since', '?')}: {gap.get('reason', '?')}" + (
            f" (resumes in {until:.0f} s)" if until is not None else "")
    procs = ", ".join(f"PID {p['pid']} {p['cpu_percent']}% CPU {p['rss_mb']} MB" for p in o.get("processes", []))
    return [
        f"Recorder:      {state}; since {o.get('started', '?')}",
        f"Backlog:       {o.get('backlog_frames', 0)} frames, {o.get('backlog_audio', 0)} audio chunks; "
        f"{o.get('frames_shed', 0)} changes shed, {o.get('late_ticks', 0)} late ticks",
        f"Processes:     {procs or '-'}",
    ]
