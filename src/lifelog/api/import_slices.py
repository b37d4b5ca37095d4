"""A JSONL import merged in short slices, taken back whole if it fails: the recorder's writes
never wait long behind it, and each file stays all or nothing.

The rows of a checked file are staged (parsed, redacted, token-counted: ``exchange.stage``)
outside any transaction, then merged a slice at a time, each slice its own write transaction
held for about :data:`SLICE_S` (its size adapts to what the last one took); the recorder's
batches go in between. Before a slice commits, the ids it inserted are noted in an undo
journal beside the database (``.import-*.undo``, fsynced): while a slice holds the write lock
nobody else inserts, so each table's ``lo..hi`` holds that slice's rows only.

If a slice fails, the slices before it are taken back (a slice a transaction) and the journal
removed. If the process dies, the next owner start, or the next import, takes them back
(:func:`take_back_abandoned`). A journal is flocked while its import runs, so a running
import's is never touched. While an import runs, readers see its rows appear slice by slice;
after it failed, none of them.

The file's digests and lessons come last, a slice each. Lessons are journaled by id like lines.
Digests are not: one is kept only where it matches the lines now stored (``store/memory.py``),
and taking back lines drops the digests of their hours, as every change of a past hour does.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lifelog.api.upload import UPLOAD_PREFIX
from lifelog.store.exchange import KINDS, stage

UNDONE = (*KINDS, "lesson")  # what a journal takes back (digests go with their hours' lines)

if TYPE_CHECKING:
    from lifelog.store import Store

log = logging.getLogger(__name__)

SLICE_S = 0.25  # a slice's target time under the write lock
FIRST_SLICE_ROWS = 2_000
MIN_SLICE_ROWS = 200
MAX_SLICE_ROWS = 5_000  # more, and a commit that folds the WAL into the file (0.3-0.8 s) comes on top
WHOLE_CHUNK_ROWS = 20_000  # rows per statement in one transaction (no owner)
IMPORT_TAIL_MAX = 250_000  # postings in the search tail before an import moves it into a run


class SliceSize:
    """Rows per slice, steered toward :data:`SLICE_S` by what the last slice took."""

    def __init__(self) -> None:
        self.rows = FIRST_SLICE_ROWS
        self.slices = 0
        self.slowest_s = 0.0

    def took(self, seconds: float, rows: int) -> None:
        self.slices += 1
        self.slowest_s = max(self.slowest_s, seconds)
        if rows >= self.rows // 2:  # a short last slice says little about the rate
            wanted = rows * SLICE_S / max(seconds, 1e-3)
            self.rows = int(min(MAX_SLICE_ROWS, max(MIN_SLICE_ROWS, min(wanted, 2 * self.rows))))


class Journal:
    """The undo journal of one running import: one JSON line ``[kind, lo, hi]`` per slice."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(f"{UPLOAD_PREFIX}{secrets.token_hex(8)}.undo")
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # held while the import runs: nobody takes it back meanwhile

    def note(self, kind: str, ids: list[int]) -> None:
        os.write(self.fd, (json.dumps([kind, min(ids), max(ids)]) + "\n").encode())
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)  # drops the flock


def publish(store: Store, slices: Iterator[tuple[str, list[tuple]]], size: SliceSize) -> dict[str, int]:
    """Merge each ``(kind, rows)`` slice in its own transaction, noted in a journal; on any
    failure take back what went in, then raise. Returns the rows inserted per kind.

    Without an owner (a command's short-lived file) it is all one transaction, as DuckDB keeps
    it whole: no recorder writes in this process, and each transaction would reopen the file."""
    if not store.is_owner:
        return _publish_whole(store, slices, size)
    inserted = dict.fromkeys(KINDS, 0)
    journal = Journal(store.db_path)
    try:
        for kind, rows in slices:
            if kind in KINDS:
                inserted[kind] += _merge_slice(store, journal, kind, rows, size)
                continue
            with store.write() as w:
                ids = _merge_memory(w, kind, rows, inserted)
                if ids:
                    journal.note(kind, ids)
    except BaseException:
        _take_back_after_failure(store, journal)
        raise
    journal.close()
    journal.path.unlink()
    return inserted


def _publish_whole(store: Store, slices: Iterator[tuple[str, list[tuple]]], size: SliceSize) -> dict[str, int]:
    inserted = dict.fromkeys(KINDS, 0)
    size.rows = WHOLE_CHUNK_ROWS
    started = time.monotonic()
    with store.write() as w:
        for kind, rows in slices:
            if kind in KINDS:
                inserted[kind] += len(w.merge_staged(kind, stage(kind, rows)))
            else:
                _merge_memory(w, kind, rows, inserted)
    size.took(time.monotonic() - started, 0)
    return inserted


def _merge_memory(w, kind: str, rows: list[tuple], inserted: dict[str, int]) -> list[int]:
    """Merge the file's digests or lessons (``store/memory.py``), counted in ``inserted`` (stale
    digests under ``stale``); the ids of the lessons inserted, to journal."""
    if kind == "digest":
        kept, stale = w.merge_digests(rows)
        inserted["digest"] = inserted.get("digest", 0) + kept
        inserted["stale"] = inserted.get("stale", 0) + stale
        return []
    ids = w.merge_lessons(rows)
    inserted[kind] = inserted.get(kind, 0) + len(ids)
    return ids


def _merge_slice(store: Store, journal: Journal, kind: str, rows: list[tuple], size: SliceSize) -> int:
    staged = stage(kind, rows)  # the costly part, before taking the write lock
    if "terms" in staged:  # the search tail moved into a run first, on its own, while it is short
        with store.write() as w:
            w.make_index_room(kind, sum(len(staged["terms"][t][0]) for t in staged["text"]), IMPORT_TAIL_MAX)
    started = time.monotonic()
    with store.write() as w:
        ids = w.merge_staged(kind, staged)
        if ids:
            journal.note(kind, ids)  # before the commit: a committed slice is always noted
    size.took(time.monotonic() - started, len(rows))
    return len(ids)


def _take_back_after_failure(store: Store, journal: Journal) -> None:
    try:
        take_back(store, journal.path)
    except Exception as exc:  # the journal stays: the next owner start or import finishes it
        log.warning("taking back a failed import failed (%s); it is taken back later", exc)
    finally:
        journal.close()


def take_back(store: Store, path: Path) -> int:
    """Delete the rows the journal at ``path`` notes, newest slice first, a slice a
    transaction, then the journal; returns how many rows went."""
    gone = 0
    for kind, lo, hi in reversed(_noted(path)):
        with store.write() as w:
            gone += w.remove_merged(kind, lo, hi)
    path.unlink(missing_ok=True)
    return gone


def _noted(path: Path) -> list[tuple[str, int, int]]:
    """The journal's slices; a line cut short by a crash is skipped (its slice never committed)."""
    slices = []
    for line in path.read_text().splitlines():
        try:
            kind, lo, hi = json.loads(line)
        except ValueError:
            continue
        if kind in UNDONE and isinstance(lo, int) and isinstance(hi, int):
            slices.append((kind, lo, hi))
    return slices


def take_back_abandoned(store: Store) -> int:
    """Take back every import whose process died mid-way (its journal unlocked); rows removed."""
    gone = 0
    for path in sorted(store.db_path.parent.glob(f"{UPLOAD_PREFIX}*.undo")):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # an import running now
        finally:
            os.close(fd)
        n = take_back(store, path)
        log.warning("took back %d rows of an import that was cut short (%s)", n, path.name)
        gone += n
    return gone


def finish_pending(store: Store) -> int:
    """At owner start: remove uploads an owner that died left, take back its imports cut short."""
    for path in store.db_path.parent.glob(f"{UPLOAD_PREFIX}*.jsonl"):
        path.unlink(missing_ok=True)
    return take_back_abandoned(store)
