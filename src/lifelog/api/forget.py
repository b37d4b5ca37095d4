"""``forget`` for the facade: the spool, then the rows (one transaction), then their files,
then a rewrite of the database so no byte of what went stays in it (``store/forget.py``,
``store/rewrite.py``). The owner runs this itself when it runs (recording goes on: the copy is made
from a snapshot and only what was written meanwhile is copied under the write lock, then reads
and writes wait a moment for the swap, ``store/live_copy.py``); otherwise the command does,
holding the file.

Order matters for privacy and for a crash:

1. spooled frames and audio of what goes are deleted first, so the pipeline cannot store
   them after the rows are gone. A spooled frame is not read yet, so for a text match every
   frame and chunk still waiting goes (at most seconds of capture while an owner runs);
2. the rows go in one transaction (a crash before its commit: no row changed);
3. the files of what goes are listed in a pending file before the rows are deleted; after
   the commit they are deleted, the database rewritten and swapped in, and the pending file
   removed. A crash in between leaves the pending file: the next forget or owner start
   finishes the work (:func:`finish_pending`), deleting only files no row refers to (so a
   forget that never committed loses nothing).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lifelog.errors import UsageError
from lifelog.paths import Paths
from lifelog.spool import audio as spool_audio
from lifelog.spool import frames as spool_frames

if TYPE_CHECKING:
    from lifelog.store import Store
    from lifelog.store.forget import Selection

log = logging.getLogger(__name__)


def forget(paths: Paths, store: Store, sel: Selection, *, dry_run: bool = False) -> dict:
    """Forget what ``sel`` selects (or, with ``dry_run``, say what would go); the report."""
    from lifelog.store import rewrite
    from lifelog.store.forget import forget_in

    sel.check()
    if not dry_run:
        finish_pending(paths, store)
    before = folder_bytes(paths.data)
    spooled = _spooled(paths, sel)
    if not dry_run:
        _unlink(spooled)
    report = forget_in(store, sel, apply=not dry_run, staged=lambda r: _note_pending(paths, r))
    rewrite.step("commit")
    if report.rows == 0 and not spooled:
        raise UsageError(
            "Nothing to forget: nothing recorded matches that (check the range, app, title or "
            "text; `lifelog search` finds text). Nothing was changed."
        )
    if not dry_run:
        _finish(paths, store, {"frames": report.frame_refs, "audio": report.audio_refs})
    return {
        "dry_run": dry_run,
        "lines": report.lines,
        "transcripts": report.transcripts,
        "frames": report.frames,
        "frame_images": len(report.frame_refs),
        "audio_files": len(report.audio_refs),
        "audio_chunks": report.audio_chunks,
        "events": report.events,
        "vectors": report.vectors,
        "hours_resummarised": report.hours,
        "voices": report.voices,
        "spool_files": len(spooled),
        "bytes_before": before,
        "bytes_after": folder_bytes(paths.data),
    }


def _note_pending(paths: Paths, report) -> None:
    """List the files a forget is about to orphan (before its rows go, in its transaction)."""
    from lifelog.store import rewrite

    rewrite.write_pending(paths.db, {"frames": report.frame_refs, "audio": report.audio_refs})
    rewrite.step("staged")


def finish_pending(paths: Paths, store: Store) -> bool:
    """End a forget a crash interrupted after its commit: its files, the rewrite; True if one was.
    Also removes the copy a killed rewrite left, when this process holds the file (an owner)."""
    from lifelog.store import rewrite

    work = rewrite.read_pending(paths.db)
    if work is None:
        if store._owned is not None:  # the owner holds the file: a copy left there is a killed rewrite's
            rewrite.clean_leftovers(paths.db)
        return False
    from lifelog.store.forget import unreferenced

    log.warning("finishing a forget that was interrupted")
    frames, audio = unreferenced(store, work.get("frames", []), work.get("audio", []))
    _finish(paths, store, {"frames": frames, "audio": audio})
    return True


def _finish(paths: Paths, store: Store, work: dict) -> None:
    from lifelog.store import rewrite
    from lifelog.store.images import FrameImages

    rewrite.step("pending")
    FrameImages(paths.frames).delete_many(work.get("frames", []))
    _unlink(paths.audio / ref for ref in work.get("audio", []))
    rewrite.step("files")
    rewrite.rewrite_store(store)
    rewrite.pending_path(paths.db).unlink(missing_ok=True)


def folder_bytes(folder: Path) -> int:
    """Bytes of every regular file under ``folder``."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if st.st_mode & 0o170000 == 0o100000:
                total += st.st_size
    return total


def _spooled(paths: Paths, sel: Selection) -> list[Path]:
    """Spooled frames and audio chunks that ``sel`` selects (see the module docstring)."""
    found = [p for p in spool_frames.pending(paths.spool) if _frame_selected(p, sel)]
    if sel.app is None and sel.title is None:
        found += [
            p
            for p in spool_audio.pending_chunks(paths.audio_spool)
            if _in_range(spool_audio.parse_chunk_name(p.name)[0], sel)
        ]
    return found


def _frame_selected(path: Path, sel: Selection) -> bool:
    import re

    try:
        frame = spool_frames.read_frame(path)
    except (OSError, ValueError):
        return False
    if not _in_range(frame.ts, sel):
        return False
    windows = [(frame.window.app, frame.window.title)] + [(w.app, w.title) for w in frame.windows]
    if sel.app is not None and not any(app.lower() == sel.app.lower() for app, _ in windows):
        return False
    if sel.title is not None and not any(re.search(sel.title, title) for _, title in windows):
        return False
    return True


def _in_range(ts: datetime, sel: Selection) -> bool:
    from lifelog.store.sql import utc_naive

    ts = utc_naive(ts)
    return (sel.since is None or ts >= sel.since) and (sel.until is None or ts < sel.until)


def _unlink(files) -> None:
    for p in files:
        Path(p).unlink(missing_ok=True)
