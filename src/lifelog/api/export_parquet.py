"""``lifelog export --format parquet``: a timeline as Parquet, one folder per UTC day, written
incrementally into a folder that DuckDB, Polars, Spark or Trino read as it is::

    DIR/day=2026-11-29/seen.parquet     heard.parquet     events.parquet
    DIR/_lifelog_export.json            the manifest: a content hash per day and file

Built on the export stream every client gets (``timeline.export_jsonl``, through the owner or
from the file), cut into days (``export_days.py``). A day's hash covers its JSONL lines, the
schema version, person and machine, so a re-run over the same range rewrites only days that are
new or changed, and removes the folders of days in the range that now hold nothing (forgotten).
A day is written whole into a staging folder beside DIR, then swapped in by renaming, and the
manifest is replaced after each day: an interrupted export leaves every day either as it was or
as it now is, and the next run carries on. One export at a time per folder (a lock file).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from lifelog.api.export_days import days
from lifelog.api.jsonl import KINDS
from lifelog.errors import LifelogError, UsageError
from lifelog.paths import atomic_private_file, fsync_path
from lifelog.store.parquet import FILES, SCHEMA_VERSION, ParquetWriter

MANIFEST = "_lifelog_export.json"  # "_" first: Spark and Hive readers skip it
LOCK = ".lifelog_export.lock"
STAGING = ".lifelog-staging-"  # + the pid: where days are written before they are swapped in
MANIFEST_FORMAT = "lifelog-parquet"


@dataclass
class Target:
    """Where and as whom: the folder, and the ``person`` and ``machine`` columns."""

    folder: Path
    person: str
    machine: str


@dataclass
class Report:
    written: list[str] = field(default_factory=list)  # days written (new or changed)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # days in the range that now hold nothing
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))  # rows written
    bytes: int = 0  # bytes of Parquet written

    def as_dict(self, folder: Path, seconds: float) -> dict:
        return {
            "format": "parquet",
            "folder": str(folder),
            "days_written": self.written,
            "days_unchanged": self.unchanged,
            "days_removed": self.removed,
            "rows_written": self.rows,
            "bytes_written": self.bytes,
            "seconds": round(seconds, 2),
        }


def export_parquet(chunks: Iterable[bytes], target: Target, first: date | None, last: date | None) -> dict:
    """Write the stream's days ``first``..``last`` (UTC, either open) into ``target.folder``;
    the report. Rows of earlier days (spans that began before the range and lasted into it)
    are left to the export that covers their day."""
    started = time.monotonic()
    folder = target.folder
    report = Report()
    with _locked(folder):
        manifest = _load_manifest(folder)
        if not (folder / MANIFEST).exists():
            _save_manifest(folder, manifest)  # first, so a folder with days always has one
        staging = _staging(folder)
        seen: set[str] = set()
        try:
            with ParquetWriter(staging) as writer:
                for day, rows in days(chunks):
                    if first and day < first:
                        continue
                    seen.add(day.isoformat())
                    _one_day(writer, staging, manifest, target, day, rows, report)
            _remove_emptied(folder, manifest, seen, first, last, report)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report.as_dict(folder, time.monotonic() - started)


def _one_day(writer, staging: Path, manifest: dict, target: Target, day: date, rows, report: Report) -> None:
    name = day.isoformat()
    data = {kind: b"\n".join(rows[kind]) + b"\n" if rows[kind] else b"" for kind in KINDS}
    digests = {kind: _digest(data[kind], target) for kind in KINDS}
    final = target.folder / f"day={name}"
    known = manifest["days"].get(name) or {}
    if {k: (known.get(k) or {}).get("sha256") for k in KINDS} == digests and _complete(final):
        report.unchanged += 1
        return
    new = staging / f"day={name}"
    new.mkdir()
    entry = {}
    for kind in KINDS:
        lines = new / f"{kind}.jsonl"
        lines.write_bytes(data[kind])
        parquet = new / FILES[kind]
        count = writer.write(kind, lines, parquet, target.person, target.machine)
        lines.unlink()
        size = parquet.stat().st_size
        entry[kind] = {"sha256": digests[kind], "rows": count, "bytes": size}
        report.rows[kind] += count
        report.bytes += size
    _swap_in(new, final, staging)
    manifest["days"][name] = entry
    _save_manifest(target.folder, manifest)
    report.written.append(name)


def _remove_emptied(folder: Path, manifest: dict, seen: set[str], first, last, report: Report) -> None:
    """Take out days of the range that were exported before and now hold nothing."""
    for name in sorted(manifest["days"]):
        day = date.fromisoformat(name)
        if name in seen or (first and day < first) or (last and day > last):
            continue
        shutil.rmtree(folder / f"day={name}", ignore_errors=True)
        del manifest["days"][name]
        _save_manifest(folder, manifest)
        report.removed.append(name)


def _digest(data: bytes, target: Target) -> str:
    """The hash of a day's lines of one kind, as these columns show them."""
    h = hashlib.sha256(f"{SCHEMA_VERSION}\0{target.person}\0{target.machine}\0".encode())
    h.update(data)
    return h.hexdigest()


def _complete(day_folder: Path) -> bool:
    return all((day_folder / name).is_file() for name in FILES.values())


def _swap_in(new: Path, final: Path, staging: Path) -> None:
    """Put the day folder ``new`` at ``final``, replacing what stood there, by renames: a reader
    sees the old day or the new one, never part of either."""
    for path in new.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    old = staging / f"old-{final.name}"
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    fsync_path(final.parent)


def _staging(folder: Path) -> Path:
    """A new staging folder on the same disk as ``folder`` but outside it (a reader globbing
    ``folder/**/*.parquet`` must never see a day being written): beside it when its parent is
    writable and on the same device, else inside it, hidden."""
    parent = folder.resolve().parent
    prefix = f".{folder.resolve().name}{STAGING}"
    beside = parent / f"{prefix}{os.getpid()}"
    same_disk = os.access(parent, os.W_OK) and os.stat(parent).st_dev == os.stat(folder).st_dev
    for stale in [*parent.glob(glob.escape(prefix) + "*"), *folder.glob(f"{STAGING}*")]:
        shutil.rmtree(stale, ignore_errors=True)  # a crashed export's: we hold the lock now
    staging = beside if same_disk else folder / f"{STAGING}{os.getpid()}"
    staging.mkdir(mode=0o700)
    return staging


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock file while exporting into it; refuse if another export holds it."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"Another export is writing into {folder}: wait for it to end, then run again.") from None
        yield
    finally:
        os.close(fd)


def prepare(folder: Path) -> None:
    """Check that ``folder`` can take an export before anything is read: a folder (created if
    missing), writable, and empty or an earlier export's. UsageError otherwise."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"Cannot export Parquet to {folder}: it is a file. Parquet goes into a folder: -o DIR.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"Cannot create {folder}: {exc.strerror or exc}.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write into {folder}: {os.strerror(errno.EACCES)}.")
    ours = {MANIFEST, LOCK}
    if not (folder / MANIFEST).exists() and any(
        p.name not in ours and not p.name.startswith(STAGING) for p in folder.iterdir()
    ):
        raise UsageError(
            f"{folder} is not empty and holds no lifelog Parquet export: choose a new or empty folder "
            "(a re-run replaces the day folders it wrote)."
        )


def _load_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.exists():
        return {"lifelog": MANIFEST_FORMAT, "schema": SCHEMA_VERSION, "days": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("lifelog") != MANIFEST_FORMAT or not isinstance(manifest.get("days"), dict):
            raise ValueError("not a lifelog Parquet manifest")
    except (OSError, ValueError) as exc:
        raise LifelogError(
            f"Cannot read {path} ({exc}): remove it to write every day again, or export into a new folder."
        ) from None
    return manifest


def _save_manifest(folder: Path, manifest: dict) -> None:
    manifest["updated"] = datetime.now().astimezone().isoformat(timespec="seconds")
    with atomic_private_file(folder / MANIFEST) as fh:
        fh.write((json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
