"""What the data folder costs on disk, by kind, and what one recorded day needs.

Frame images and audio live in one folder per day (``YYYY-MM-DD``). Summing a year of frame
files every few minutes would stat millions of files, so :class:`FolderSizes` remembers each
day folder's total with the folder's modification time (which changes whenever a file is
added or removed in it) and only walks the folders that changed: in practice today's.

The database counts the bytes DuckDB uses (used blocks, from ``PRAGMA database_size``), not
the file's length: deleted rows free whole blocks that later writes reuse, but the file
itself never shrinks, so its length would stay over a budget however much was taken back.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lifelog.paths import Paths

DAY_NEED_FLOOR = 200_000_000  # bytes a day is assumed to need when no day was recorded yet
RECENT_DAYS = 7  # a day's need is measured over this many recent recorded days
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def tree_bytes(root: Path) -> int:
    """The size of every file under ``root`` (0 when it does not exist)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed meanwhile
                pass
    return total


@dataclass
class FolderSizes:
    """Per-day folder sizes under a root, each walked again only when its mtime changed."""

    _cache: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def days(self, root: Path) -> dict[str, int]:
        """``{"YYYY-MM-DD": bytes}`` of the day folders under ``root``."""
        out = {}
        try:
            entries = list(os.scandir(root))
        except OSError:
            return {}
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and _DAY.match(entry.name):
                out[entry.name] = self._bytes(Path(entry.path))
        return out

    def _bytes(self, folder: Path) -> int:
        try:
            mtime = folder.stat().st_mtime_ns
        except OSError:
            return 0
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        size = tree_bytes(folder)
        self._cache[folder] = (mtime, size)
        return size


def database_bytes(db_path: Path, used: int | None = None) -> int:
    """The database's cost: ``used`` bytes of blocks when known (else the file's length), plus its WAL."""
    wal = db_path.with_name(db_path.name + ".wal")
    size = used if used is not None else _size(db_path)
    return size + _size(wal)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def usage(paths: Paths, *, db_used: int | None = None, sizes: FolderSizes | None = None) -> dict[str, int]:
    """Bytes on disk by kind: ``database``, ``frame_images``, ``audio``, ``spool``, ``logs``
    (when they live in the data folder) and ``other`` (the rest of the data folder)."""
    sizes = sizes or FolderSizes()
    kinds = {
        "database": database_bytes(paths.db, db_used),
        "frame_images": sum(sizes.days(paths.frames).values()),
        "audio": sum(sizes.days(paths.audio).values()),
        "spool": tree_bytes(paths.spool),
        "logs": tree_bytes(paths.logs) if _inside(paths.logs, paths.data) else 0,
    }
    known = {paths.db, paths.db.with_name(paths.db.name + ".wal"), paths.frames, paths.audio, paths.spool, paths.logs}
    other = 0
    try:
        entries = list(os.scandir(paths.data))
    except OSError:
        entries = []
    for entry in entries:
        if Path(entry.path) not in known:
            other += tree_bytes(Path(entry.path)) if entry.is_dir(follow_symlinks=False) else _size(Path(entry.path))
    kinds["other"] = other
    return kinds


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def day_need(paths: Paths, sizes: FolderSizes | None = None) -> tuple[int, int]:
    """``(bytes, days measured)``: what one recorded day costs, from the timeline's own recent
    days: the mean frame images and audio of the last :data:`RECENT_DAYS` recorded days (the
    newest, still being recorded, only when it is the only one), plus the database's length
    shared over every recorded day; never less than :data:`DAY_NEED_FLOOR`."""
    sizes = sizes or FolderSizes()
    frames, audio = sizes.days(paths.frames), sizes.days(paths.audio)
    days = sorted(set(frames) | set(audio))
    if not days:
        return DAY_NEED_FLOOR, 0
    recent = (days[:-1] if len(days) > 1 else days)[-RECENT_DAYS:]
    media = sum(frames.get(d, 0) + audio.get(d, 0) for d in recent) / len(recent)
    per_day = media + database_bytes(paths.db) / len(days)
    return max(DAY_NEED_FLOOR, int(per_day)), len(recent)


def free_bytes(folder: Path) -> int | None:
    """Free bytes on the filesystem of ``folder`` (or of its nearest existing parent), for
    this user; None when none can be asked."""
    for path in (folder, *folder.parents):
        try:
            return shutil.disk_usage(path).free
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return None
