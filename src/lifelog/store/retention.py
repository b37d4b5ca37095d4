"""Retention: what the ``keep_*`` ages and the ``storage_max`` budget take back, in slices.

By age: frame images older than ``keep_images`` go (the frames' rows stay, their
``image_ref`` emptied, so the text read from them stays), audio files older than
``keep_audio`` (``audio_ref`` emptied), and text older than ``keep_text``: spans and
transcripts with their search postings and chunk vectors. Hour summaries stay: they are what
``context`` outlines of old time, so it still says what happened. Only hours already summarised
(before the watermark, ``hours.py``) lose text; their summaries are not recomputed.

By budget, when the data folder holds more than ``storage_max``, oldest first and never the
newest recorded day: frame images are first thinned, day by day, to the first keyframe of
each :data:`THIN_EVERY` per monitor; then whole days of images go; then audio; then text,
an hour at a time, until the bytes it is estimated to free cover the excess (the database
reuses freed blocks, so its usage shows the effect once they are checkpointed).

Each slice is one short transaction (at most :data:`SLICE_ROWS` rows). Files are removed
after their rows commit, never before, so a row never points at a file that is gone through
retention; the slice's transaction also records its files in ``meta`` (:data:`JOURNAL`),
and the next pass removes what a crash (kill -9) between the commit and the unlinking left.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifelog.paths import Paths
from lifelog.store import hours, usage
from lifelog.store.images import FrameImages
from lifelog.store.sql import SPANS, TRANSCRIPTS, ids_filter, ids_params, meta_get, meta_set, to_json_param, utc_naive

log = logging.getLogger(__name__)

SLICE_ROWS = 2_000  # rows per transaction: a slice writes in milliseconds
TEXT_SLICE_ROWS = 20_000  # text rows per transaction (their postings go with them)
THIN_EVERY = timedelta(minutes=10)  # a thinned day keeps one keyframe per monitor this often
JOURNAL = "retention_unlinking"  # meta: files whose rows committed, still to remove
LAST = "retention_last"  # meta: the last pass's report (``lifelog status``)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    keep_images_s: float = 0.0  # 0: for ever
    keep_audio_s: float = 0.0
    keep_text_s: float = 0.0
    budget: int = 0  # bytes; 0: no budget

    @classmethod
    def from_settings(cls, settings) -> Policy:
        from lifelog.config import parse_age

        return cls(
            parse_age(settings.keep_images),
            parse_age(settings.keep_audio),
            parse_age(settings.keep_text),
            settings.storage_max_bytes,
        )


@dataclass
class Report:
    """What one pass took back."""

    at: str = ""
    seconds: float = 0.0
    images: int = 0  # frame images removed (thinned ones included)
    thinned: int = 0  # of which by thinning a day
    audio: int = 0
    spans: int = 0
    transcripts: int = 0
    bytes_freed: int = 0  # files removed, plus the estimate for text
    usage: int = 0  # the data folder after the pass (text's share estimated)
    budget: int = 0
    over_budget: bool = False  # still over: the newest day alone is more than the budget

    def removed_anything(self) -> bool:
        return bool(self.images or self.audio or self.spans or self.transcripts)


class _Kind:
    """Files referenced from a table: frame images or audio."""

    def __init__(self, table: str, ts: str, ref: str, root: Path) -> None:
        self.table, self.ts, self.ref, self.root = table, ts, ref, root

    def remove(self, refs: list[str]) -> int:
        """Remove the files of ``refs`` (missing ones are skipped); returns the bytes freed.
        Frame images go through ``FrameImages.delete_many``: a compact frame that a later one
        is built on has that one rebuilt first."""
        sizes = 0
        for ref in refs:
            try:
                sizes += (self.root / ref).stat().st_size
            except OSError:
                pass
        try:
            if self.table == "frames":
                FrameImages(self.root).delete_many(refs)
            else:
                for ref in refs:
                    (self.root / ref).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            log.warning("cannot remove some of %d files under %s: %s", len(refs), self.root, exc)
        return sizes - sum(_size(self.root / ref) for ref in refs)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _frames(paths: Paths) -> _Kind:
    return _Kind("frames", "ts", "image_ref", paths.frames)


def _audio(paths: Paths) -> _Kind:
    return _Kind("audio_chunks", "t_start", "audio_ref", paths.audio)


def run_pass(
    store,
    paths: Paths,
    policy: Policy,
    *,
    now: datetime | None = None,
    sizes: usage.FolderSizes | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Report:
    """One retention pass over ``store`` (an owner's or a short-lived one); see the module."""
    t0 = time.monotonic()
    now = utc_naive(now) if now is not None else datetime.now(UTC).replace(tzinfo=None)
    sizes = sizes or usage.FolderSizes()
    report = Report(at=now.isoformat() + "Z", budget=policy.budget)
    frames, audio = _frames(paths), _audio(paths)
    finish_unlinks(store, paths)
    for kind, keep, field_ in ((frames, policy.keep_images_s, "images"), (audio, policy.keep_audio_s, "audio")):
        if keep and not should_stop():
            n, freed = drop_files(store, kind, now - timedelta(seconds=keep), should_stop)
            setattr(report, field_, getattr(report, field_) + n)
            report.bytes_freed += freed
    if policy.keep_text_s and not should_stop():
        _add_text(report, drop_text(store, now - timedelta(seconds=policy.keep_text_s), should_stop))
    used = measure(store, paths, sizes)
    if policy.budget and used > policy.budget and not should_stop():
        used = _fit_budget(store, paths, policy.budget, used, report, frames, audio, should_stop)
    report.usage, report.over_budget = used, bool(policy.budget and used > policy.budget)
    report.seconds = round(time.monotonic() - t0, 3)
    with store.write() as w:
        meta_set(w._con, LAST, json.dumps(asdict(report)))
    return report


def _fit_budget(store, paths, budget, used, report, frames, audio, should_stop) -> int:
    protect = _newest_day(store)  # the day being recorded is never taken by the budget
    if protect is None:
        return used
    for day in _days(store, frames, protect):  # thin oldest first
        if used <= budget or should_stop():
            return used
        n, freed = thin_day(store, frames, day, should_stop)
        report.images, report.thinned, report.bytes_freed, used = (
            report.images + n,
            report.thinned + n,
            report.bytes_freed + freed,
            used - freed,
        )
    for kind, field_ in ((frames, "images"), (audio, "audio")):
        for day in _days(store, kind, protect):
            if used <= budget or should_stop():
                return used
            n, freed = drop_files(store, kind, day + DAY, should_stop)
            setattr(report, field_, getattr(report, field_) + n)
            report.bytes_freed, used = report.bytes_freed + freed, used - freed
    if used > budget and not should_stop():
        used -= _text_for_budget(store, paths, used - budget, protect, report, should_stop)
    return used


def measure(store, paths: Paths, sizes: usage.FolderSizes | None = None) -> int:
    """The data folder's bytes, the database counted by the blocks it uses."""
    return sum(usage.usage(paths, db_used=db_used_bytes(store), sizes=sizes).values())


def db_used_bytes(store) -> int | None:
    with store.read() as r:
        if r._db_path is None:
            return None
        row = r._con.execute("SELECT used_blocks * block_size FROM pragma_database_size()").fetchone()
    return int(row[0]) if row else None


# -- files: frame images and audio -----------------------------------------------------------


def drop_files(store, kind: _Kind, before: datetime, should_stop=lambda: False) -> tuple[int, int]:
    """Remove every file of ``kind`` whose row is older than ``before``; ``(files, bytes)``."""
    sql = (
        f"SELECT id, {kind.ref} FROM {kind.table} WHERE {kind.ref} <> '' AND {kind.ts} < ?"
        f" ORDER BY {kind.ts}, id LIMIT ?"
    )
    return _drop_slices(store, kind, sql, [utc_naive(before)], should_stop)


def thin_day(store, frames: _Kind, day: datetime, should_stop=lambda: False) -> tuple[int, int]:
    """Keep, of ``day``'s frame images, only the first keyframe of each :data:`THIN_EVERY` per
    monitor (a keyframe rebuilds its screen alone); ``(files, bytes)`` removed."""
    minutes = int(THIN_EVERY.total_seconds() // 60)
    sql = (
        "SELECT id, image_ref FROM (SELECT id, ts, image_ref, keyframe, row_number() OVER (PARTITION BY monitor,"
        f" time_bucket(INTERVAL {minutes} MINUTE, ts), keyframe ORDER BY ts, id) AS n FROM frames"
        " WHERE image_ref <> '' AND ts >= ? AND ts < ?) WHERE NOT (keyframe AND n = 1) ORDER BY ts, id LIMIT ?"
    )
    return _drop_slices(store, frames, sql, [day, day + DAY], should_stop)


def _drop_slices(store, kind: _Kind, sql: str, params: list, should_stop) -> tuple[int, int]:
    files = freed = 0
    while not should_stop():
        with store.write() as w:
            rows = w._con.execute(sql, [*params, SLICE_ROWS]).fetchall()
            if not rows:
                break
            ids = [r[0] for r in rows]
            w._con.execute(f"UPDATE {kind.table} SET {kind.ref} = '' WHERE {ids_filter()}", ids_params(ids))
            meta_set(w._con, JOURNAL, json.dumps({"table": kind.table, "refs": [r[1] for r in rows]}))
        files += len(rows)
        freed += kind.remove([r[1] for r in rows])
        _clear_journal(store)
    return files, freed


def finish_unlinks(store, paths: Paths) -> int:
    """Remove the files a slice committed but a crash kept from removing; returns the bytes freed."""
    with store.read() as r:
        pending = meta_get(r._con, JOURNAL) if r._db_path is not None else None
    if not pending:
        return 0
    entry = json.loads(pending)
    kind = _frames(paths) if entry["table"] == "frames" else _audio(paths)
    freed = kind.remove(entry["refs"])
    _clear_journal(store)
    log.info("removed the %d files a retention pass left behind", len(entry["refs"]))
    return freed


def _clear_journal(store) -> None:
    with store.write() as w:
        w._con.execute("DELETE FROM meta WHERE key = ?", [JOURNAL])


def _days(store, kind: _Kind, before: datetime) -> list[datetime]:
    """The days (UTC) before ``before`` that still hold files of ``kind``, oldest first."""
    with store.read() as r:
        rows = r._con.execute(
            f"SELECT DISTINCT date_trunc('day', {kind.ts})::TIMESTAMP AS d FROM {kind.table}"
            f" WHERE {kind.ref} <> '' AND {kind.ts} < ? ORDER BY d",
            [before],
        ).fetchall()
    return [row[0] for row in rows]


def _newest_day(store) -> datetime | None:
    with store.read() as r:
        newest = r._con.execute(
            "SELECT greatest((SELECT max(ts) FROM frames), (SELECT max(t_start) FROM text_spans),"
            " (SELECT max(t_start) FROM transcripts), (SELECT max(t_start) FROM audio_chunks))"
        ).fetchone()[0]
    return None if newest is None else newest.replace(hour=0, minute=0, second=0, microsecond=0)


# -- text ------------------------------------------------------------------------------------


def drop_text(store, before: datetime, should_stop=lambda: False) -> tuple[int, int]:
    """Delete the spans and transcripts that began before ``before`` and before the hour
    summaries' watermark (their hours stay outlined), with their postings and the chunk
    vectors of their minutes; ``(spans, transcripts)``."""
    with store.read() as r:
        upto = hours.watermark(r._con) if r._db_path is not None else None
    if upto is None:
        return 0, 0
    before = min(utc_naive(before), upto)
    spans = _delete_rows(store, SPANS, before, " AND NOT open", should_stop)
    heard = _delete_rows(store, TRANSCRIPTS, before, "", should_stop)
    minute = before.replace(second=0, microsecond=0)
    with store.write() as w:  # chunks whose whole minute lies before ``before``
        w._con.execute("DELETE FROM chunk_vectors WHERE chunk_start < ?", [minute])
    return spans, heard


def _delete_rows(store, corpus, before: datetime, extra: str, should_stop) -> int:
    """Delete ``corpus``'s rows that began before ``before`` (and match ``extra``), oldest
    first, about :data:`TEXT_SLICE_ROWS` a transaction, with their postings."""
    done = 0
    while not should_stop():
        with store.write() as w:
            con = w._con
            hi = con.execute(
                f"SELECT t_start FROM {corpus.table} WHERE t_start < ?{extra} ORDER BY t_start LIMIT 1 OFFSET ?",
                [before, TEXT_SLICE_ROWS],
            ).fetchone()
            hi = before if hi is None else hi[0] + timedelta(microseconds=1)
            kept = [
                r[0]
                for r in con.execute(  # rows of the slice that stay (open spans)
                    f"SELECT id FROM {corpus.table} WHERE t_start < ? AND NOT (true{extra})", [hi]
                ).fetchall()
            ]
            n = _remove_postings(con, corpus, hi, kept)
            deleted = con.execute(f"DELETE FROM {corpus.table} WHERE t_start < ?{extra}", [hi]).fetchone()[0]
        done += deleted
        if not deleted and not n:
            break
    return done


def _remove_postings(con, corpus, before: datetime, kept: list[int]) -> int:
    """``search_index.remove`` for every row that began before ``before`` but ``kept``: a
    posting carries its row's start, so this needs no list of ids (a list of 20,000 ids
    checked against every posting made a slice take seconds)."""
    keep = to_json_param(kept)
    cond = "t_start < ? AND NOT list_contains(from_json(?, '[\"BIGINT\"]'), doc)"
    docs, length = con.execute(
        f"SELECT count(*), coalesce(sum(len), 0) FROM (SELECT doc, any_value(len) AS len FROM"
        f" (SELECT doc, len, t_start FROM {corpus.postings} UNION ALL SELECT doc, len, t_start FROM {corpus.tail})"
        f" WHERE {cond} GROUP BY doc)",
        [before, keep],
    ).fetchone()
    for table in (corpus.postings, corpus.tail):
        con.execute(f"DELETE FROM {table} WHERE {cond}", [before, keep])
    con.execute(
        "UPDATE search_stats SET docs = docs - ?, total_len = total_len - ? WHERE corpus = ?",
        [docs, int(length), corpus.table],
    )
    return docs


def _text_for_budget(store, paths, excess: int, protect: datetime, report: Report, should_stop) -> int:
    """Delete the oldest hours of text until they are estimated to free ``excess`` bytes (the
    database's used bytes shared evenly over its lines); returns that estimate."""
    with store.read() as r:
        if r._db_path is None:
            return 0
        con = r._con
        lines = con.execute("SELECT (SELECT count(*) FROM text_spans) + (SELECT count(*) FROM transcripts)").fetchone()[
            0
        ]
        per_hour = con.execute(
            "SELECT h, sum(n) FROM (SELECT date_trunc('hour', t_start) AS h, count(*) AS n FROM text_spans GROUP BY h"
            " UNION ALL SELECT date_trunc('hour', t_start), count(*) FROM transcripts GROUP BY 1)"
            " WHERE h < ? GROUP BY h ORDER BY h",
            [protect],
        ).fetchall()
    if not lines or not per_hour:
        return 0
    per_line = (db_used_bytes(store) or 0) / lines
    freed, until = 0.0, None
    for hour, n in per_hour:
        if freed >= excess:
            break
        freed, until = freed + n * per_line, hour + timedelta(hours=1)
    if until is None:
        return 0
    spans, heard = drop_text(store, until, should_stop)
    _add_text(report, (spans, heard))
    estimate = int((spans + heard) * per_line)
    report.bytes_freed += estimate
    return estimate


def _add_text(report: Report, counts: tuple[int, int]) -> None:
    report.spans += counts[0]
    report.transcripts += counts[1]


def last_report(reader) -> dict | None:
    """The last pass's :class:`Report` as a dict (None if no pass ran on this timeline)."""
    if reader._db_path is None:
        return None
    value = meta_get(reader._con, LAST)
    return json.loads(value) if value else None
