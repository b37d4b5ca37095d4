"""What ``lifelog status`` (and ``lifelog daemon status``) report: the timeline's counts, the
recorder, and what is kept private and for how long (exclusions, encryption, the ``keep_*``
ages, the storage budget, free disk) with what each kind of data costs on disk."""

from __future__ import annotations

from lifelog.config import Settings, load_settings
from lifelog.errors import LifelogError
from lifelog.paths import Paths
from lifelog.spool import pending
from lifelog.spool.audio import pending_chunks
from lifelog.store.audio_files import AudioFiles
from lifelog.store.images import FrameImages
from lifelog.store.retention import last_report
from lifelog.store.usage import free_bytes, usage
from lifelog.tokenize_media.embed import DEFAULT as EMBED_MODEL
from lifelog.tokenize_media.embed import embedding_unavailable


def gather(paths: Paths, store) -> dict:
    with store.read() as reader:
        stats = reader.stats()
        chunks_pending = reader.embedding_backlog(EMBED_MODEL)
        digests_due = reader.digest_backlog(_digest_writer(paths))
        last_pass = last_report(reader)
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
        "digest_backlog": digests_due,  # summarised hours without a digest yet
        "first": stats.first_ts.isoformat() + "Z" if stats.first_ts else None,
        "last": stats.last_ts.isoformat() + "Z" if stats.last_ts else None,
        "db_bytes": stats.db_bytes,
        "frame_image_bytes": FrameImages(paths.frames).total_bytes(),
        "audio_bytes": AudioFiles(paths.audio).total_bytes(),
        **privacy(paths, last_pass),
    }


def privacy(paths: Paths, last_pass: dict | None) -> dict:
    """What is excluded, whether the timeline is encrypted, how long each kind is kept, the
    budget, free disk, and bytes on disk by kind (``storage``)."""
    try:
        settings, config_error = load_settings(paths.config_file), None
    except LifelogError as exc:  # status still answers; it says why the settings are unknown
        settings, config_error = Settings(), str(exc)
    storage = usage(paths)
    free = free_bytes(paths.data)
    return {
        "excluded": {
            "apps": list(settings.exclude_apps),
            "titles": list(settings.exclude_titles),
            "audio": settings.exclude_audio,
        },
        "encrypted": paths.key_file.exists(),
        "kept": {"images": settings.keep_images, "audio": settings.keep_audio, "text": settings.keep_text},
        "storage_max": settings.storage_max,
        "storage_max_bytes": settings.storage_max_bytes,
        "disk_min_free_bytes": settings.disk_min_free_bytes,
        "disk_free_bytes": free,
        "storage": {**storage, "total": sum(storage.values())},
        "retention": last_pass,
        "config_error": config_error,
    }


def render_lines(d: dict) -> list[str]:
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
        f"Digests:       {_digest_line(d)}",
        f"Time range:    {d['first'] or '-'} … {d['last'] or '-'}",
        *privacy_lines(d),
        *owner_lines(d.get("owner")),
    ]


def size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def privacy_lines(d: dict) -> list[str]:
    if "storage" not in d:  # an owner from before these were reported
        return []
    ex, kept, st = d["excluded"], d["kept"], d["storage"]
    apps = ", ".join(ex["apps"]) or "none"
    titles = f"{len(ex['titles'])} title patterns" if ex["titles"] else "no titles"
    audio = "; no sound kept while one has focus" if ex["audio"] else "; sound kept while one has focus"
    forever = lambda age: age or "for ever"  # noqa: E731
    budget = f"budget {size(d['storage_max_bytes'])}" if d["storage_max_bytes"] else "no storage budget"
    return [
        f"Excluded:      apps {apps}; {titles}{audio}",
        f"Encrypted:     {'yes' if d['encrypted'] else 'no (`lifelog encrypt` encrypts the timeline)'}",
        f"Kept:          frame images {forever(kept['images'])}, audio {forever(kept['audio'])}, "
        f"text {forever(kept['text'])}; {budget}",
        f"On disk:       {size(st['total'])} in all: database {size(st['database'])}, frame images "
        f"{size(st['frame_images'])}, audio {size(st['audio'])}, spool {size(st['spool'])}, logs {size(st['logs'])}, "
        f"other {size(st['other'])}",
        f"Free disk:     {size(d['disk_free_bytes'])} (capture pauses under {size(d['disk_min_free_bytes'])})",
        f"Retention:     {_retention_line(d.get('retention'))}",
        *([f"Config:        {d['config_error']}"] if d.get("config_error") else []),
    ]


def _retention_line(r: dict | None) -> str:
    if not r:
        return "no pass yet (the recorder runs one at start and every 10 minutes)"
    what = (
        (
            f"{r['images']:,} frame images ({r['thinned']:,} by thinning), {r['audio']:,} audio files, "
            f"{r['spans'] + r['transcripts']:,} lines"
        )
        if (r["images"] or r["audio"] or r["spans"] or r["transcripts"])
        else "nothing"
    )
    over = "; still over the budget with only the newest day left" if r.get("over_budget") else ""
    return f"last pass {r['at']} removed {what} ({size(r['bytes_freed'])}) in {r['seconds']:.1f} s{over}"


def _digest_writer(paths: Paths) -> str:
    """The model digests are written by ("" extractive), as the settings say."""
    try:
        settings = load_settings(paths.config_file)
    except LifelogError:
        return ""
    from lifelog.replay.digest_model import writer_of

    return writer_of(settings)


def _digest_line(d: dict) -> str:
    n = d.get("digest_backlog", 0)
    if not n:
        return "up to date"
    return f"{n:,} hours waiting (made while you are idle; `lifelog digest` now)"


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
            f" (resumes in {until:.0f} s)" if until is not None else ""
        )
    procs = ", ".join(f"PID {p['pid']} {p['cpu_percent']}% CPU {p['rss_mb']} MB" for p in o.get("processes", []))
    return [
        f"Recorder:      {state}; since {o.get('started', '?')}",
        f"Backlog:       {o.get('backlog_frames', 0)} frames, {o.get('backlog_audio', 0)} audio chunks; "
        f"{o.get('frames_shed', 0)} changes shed, {o.get('late_ticks', 0)} late ticks",
        f"Processes:     {procs or '-'}",
    ]
