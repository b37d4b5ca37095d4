"""Writes inside one ``Store.write()`` transaction: frames, merged text spans, text heard
(audio chunks, transcripts), events, sessions; every span and transcript is indexed for
search in the same transaction (``search_index.py``), and the summaries of past hours that
gained lines are recomputed before it commits (``hours.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from lifelog.errors import StoreError
from lifelog.models import AudioChunkRecord, FrameRecord, HeardVoice, OcrLine, Transcript
from lifelog.store import digests, embeddings, exchange, hours, lessons, memory, search_index, tokens, voices
from lifelog.store.reader import RECORDING_COLUMNS, Reader
from lifelog.store.sql import (
    SPANS,
    TRANSCRIPTS,
    ids_filter,
    ids_params,
    one,
    to_json_param,
    utc_naive,
)

_NEW_SPANS_TYPE = (
    '[{"t": "TIMESTAMP", "monitor": "INTEGER", "app": "VARCHAR", "window": "VARCHAR",'
    ' "text": "VARCHAR", "top": "INTEGER", "left": "INTEGER", "frame_id": "BIGINT", "tokens": "INTEGER",'
    ' "ord": "INTEGER", "lead": "VARCHAR"}]'
)
_NEW_TRANSCRIPTS_TYPE = (
    '[{"t_start": "TIMESTAMP", "t_end": "TIMESTAMP", "source": "VARCHAR", "engine": "VARCHAR",'
    ' "text": "VARCHAR", "tokens": "INTEGER", "chunk_id": "BIGINT", "language": "VARCHAR", "speaker": "BIGINT"}]'
)


@dataclass
class _OpenSpan:
    id: int
    text: str
    top: int
    left: int


class Writer(Reader):
    """Everything a Reader does, plus writes. Valid inside its ``Store.write()`` block only."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: Path | None = None):
        super().__init__(con, db_path)
        self._open: dict[int, list[_OpenSpan]] = {}  # open spans per monitor, loaded lazily
        self._hours: set[datetime] = set()  # the hours lines were added to

    def add_frame(self, frame: FrameRecord) -> int:
        left, top, right, bottom = frame.region
        return one(
            self._con.execute(
                'INSERT INTO frames (ts, monitor, width, height, app, "window", image_ref,'
                " region_left, region_top, region_right, region_bottom, keyframe, ocr_ms, ocr_failed, source_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    utc_naive(frame.ts),
                    frame.monitor,
                    frame.width,
                    frame.height,
                    frame.app,
                    frame.window,
                    frame.image_ref,
                    left,
                    top,
                    right,
                    bottom,
                    frame.keyframe,
                    frame.ocr_ms,
                    frame.ocr_failed,
                    frame.source_key,
                ],
            )
        )[0]

    def stored_keys(self, table: str, keys: list[str], since: datetime, until: datetime) -> set[str]:
        """Which of ``keys`` (spool file names) rows of ``table`` (``frames`` or
        ``audio_chunks``) stored between ``since`` and ``until`` already carry. The time range
        lets DuckDB skip row groups by their zonemaps, so this stays cheap as the table grows."""
        column = {"frames": "ts", "audio_chunks": "t_start"}[table]
        keys = [k for k in keys if k]
        if not keys:
            return set()
        rows = self._con.execute(
            f"SELECT DISTINCT source_key FROM {table} WHERE {column} BETWEEN ? AND ?"
            " AND list_contains(from_json(?, '[\"VARCHAR\"]'), source_key)",
            [utc_naive(since), utc_naive(until), to_json_param(keys)],
        ).fetchall()
        return {r[0] for r in rows}

    def observe_lines(
        self, frame_id: int, ts: datetime, monitor: int, app: str, window: str, lines: list[OcrLine]
    ) -> tuple[int, int]:
        """Merge the lines visible on ``monitor`` at ``ts`` into text spans.

        A line is stored with its own app and window title when it has them (the window it was
        read from), else with ``app`` and ``window`` (the focused one), and with its place in
        reading order and what goes before it when shown (``OcrLine.ord``, ``OcrLine.lead``).
        A line whose text equals an open span's on that monitor extends the span to ``ts``
        (a multiset match: two identical lines need two spans; among equal texts the span
        nearest the line's position wins). Other lines open new spans. Open spans left
        unmatched close with ``t_end = ts``, the moment they were no longer seen. Blank
        lines are ignored. Returns ``(new_spans, extended_spans)``.
        """
        ts = utc_naive(ts)
        by_text: dict[str, list[_OpenSpan]] = {}
        for span in self._open_spans(monitor):
            by_text.setdefault(span.text, []).append(span)
        extended: list[_OpenSpan] = []
        fresh: list[OcrLine] = []
        for line in lines:
            if not line.text.strip():
                continue
            candidates = by_text.get(line.text)
            if candidates:
                best = min(candidates, key=lambda s: abs(s.top - line.box[1]) + abs(s.left - line.box[0]))
                candidates.remove(best)
                extended.append(best)
            else:
                fresh.append(line)
        gone = [s.id for group in by_text.values() for s in group]
        self._set_end(gone, ts, close=True)
        self._set_end([s.id for s in extended], ts, close=False)
        created = self._insert_spans(frame_id, ts, monitor, app, window, fresh)
        self._open[monitor] = extended + created
        return len(created), len(extended)

    def close_spans(self, ts: datetime, monitor: int | None = None) -> int:
        """Close the open spans (of one monitor, or all) at ``ts``; returns how many.

        ``t_end`` never moves backwards: after a crash, pass ``datetime.min`` to close the
        leftover spans at the last moment they were seen.
        """
        sql = "UPDATE text_spans SET open = false, t_end = greatest(t_end, ?) WHERE open"
        params: list = [utc_naive(ts)]
        if monitor is not None:
            sql += " AND monitor = ?"
            params.append(monitor)
            self._open.pop(monitor, None)
        else:
            self._open.clear()
        return one(self._con.execute(sql, params))[0]

    def close_crashed_recordings(self) -> datetime | None:
        """After a crash: close the spans left open where they were last seen, and end each
        recording that never ended at the last moment anything was recorded. Returns that
        moment (where the gap while nothing recorded begins), or None if nothing had crashed."""
        self.close_spans(datetime.min)
        crashed = one(self._con.execute("SELECT count(*) FROM recordings WHERE ended IS NULL"))[0]
        if not crashed:
            return None
        last = one(
            self._con.execute(
                "SELECT greatest((SELECT max(ts) FROM frames), (SELECT max(ts) FROM events),"
                " (SELECT max(t_end) FROM audio_chunks), (SELECT max(started) FROM recordings WHERE ended IS NULL))"
            )
        )[0]
        self._con.execute("UPDATE recordings SET ended = ? WHERE ended IS NULL", [last])
        return last

    def add_audio_chunk(self, chunk: AudioChunkRecord) -> int:
        """Store one stretch of voiced audio; returns its id (for its transcripts' chunk_id)."""
        return one(
            self._con.execute(
                "INSERT INTO audio_chunks (t_start, t_end, source, audio_ref, voiced_s, source_key)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    utc_naive(chunk.t_start),
                    utc_naive(chunk.t_end),
                    chunk.source,
                    chunk.audio_ref,
                    chunk.voiced_s,
                    chunk.source_key,
                ],
            )
        )[0]

    def add_voices(self, found: list[HeardVoice], source: str, at: datetime) -> list[int]:
        """The voice id of each voice told apart in a chunk or recording (``store/voices.py``):
        known voices matched, new ones added. Give them to ``add_transcripts``."""
        return voices.assign(self._con, found, source, at)

    def mark_calls(self, source: str, at: datetime) -> dict | None:
        """Mark the stretch of ``source``'s speech around ``at`` as a call when two or more
        voices spoke in it (``voices.mark_calls``)."""
        return voices.mark_calls(self._con, source, at)

    def put_digests(self, made: list[digests.Digest]) -> int:
        """Store digests made from what was read earlier; an hour's is skipped when the hour
        changed since (its basis moved on: it is due again). Returns how many were stored."""
        stored = 0
        for d in made:
            if d.level == "hour" and digests.hour_basis(self._con, d.start) != d.basis.partition("|")[0]:
                continue
            digests.put(self._con, d)
            stored += 1
        return stored

    def add_lesson(self, text: str, sources: list[dict] | None = None, model: str = "") -> dict:
        """Keep a lesson (``store/lessons.py``); UsageError for an empty or overlong one."""
        return lessons.add(self._con, text, sources, model)

    def edit_lesson(self, lesson_id: int, text: str) -> dict:
        return lessons.edit(self._con, lesson_id, text)

    def remove_lesson(self, lesson_id: int) -> dict:
        return lessons.remove(self._con, lesson_id)

    def name_voice(self, speaker: str, name: str) -> dict:
        """Name a voice (``voices.name``); UsageError for one not heard or a name taken. The
        digests that named it otherwise go, to be made again under the new name."""
        named = voices.name(self._con, speaker, name)
        digests.drop_hours(self._con, digests.voice_hours(self._con, named["id"]))
        return named

    def add_transcripts(self, rows: list[Transcript], voice_ids: list[int] | None = None) -> int:
        """Store text heard, all rows in one statement (one JSON parameter); returns how many. A
        row's speaker is ``voice_ids[row.heard_as]``, else the voice its ``speaker`` label names
        (a row from another timeline: a name not known yet becomes a voice)."""
        if not rows:
            return 0
        speakers: dict[str, int | None] = {}
        for t in rows:
            if t.heard_as is None and t.speaker and t.speaker not in speakers:
                speakers[t.speaker] = voices.by_label(self._con, t.speaker, create=True)
        payload = [
            {
                "t_start": t.t_start,
                "t_end": t.t_end,
                "source": t.source,
                "engine": t.engine,
                "text": t.text,
                "tokens": t.tokens,
                "chunk_id": t.chunk_id,
                "language": t.language,
                "speaker": voice_ids[t.heard_as]
                if voice_ids is not None and t.heard_as is not None
                else speakers.get(t.speaker),
            }
            for t in rows
        ]
        created = self._con.execute(
            "INSERT INTO transcripts (t_start, t_end, source, engine, text, tokens, chunk_id, language, speaker)"
            " SELECT t_start, t_end, source, engine, text, tokens, chunk_id, language, speaker"
            f" FROM (SELECT unnest(from_json(?, '{_NEW_TRANSCRIPTS_TYPE}'), recursive := true))"
            " RETURNING id, text, t_start, NULL",
            [to_json_param(payload)],
        ).fetchall()
        search_index.add(self._con, TRANSCRIPTS, created)
        self._hours.update(hours.hour_of(row[2]) for row in created)
        return len(created)

    def merge_rows(self, kind: str, rows: list[tuple]) -> int:
        """Store rows from elsewhere (``seen``, ``heard`` or ``event`` tuples, see
        ``store/exchange.py``) unless already stored, counted and indexed; returns how many."""
        return exchange.merge(self._con, kind, rows, hours=self._hours)

    def merge_staged(self, kind: str, staged: dict) -> list[int]:
        """:meth:`merge_rows` of rows staged beforehand (``exchange.stage``, outside any
        transaction); the ids of the rows inserted."""
        return exchange.merge_staged(self._con, kind, staged, hours=self._hours)

    def remove_merged(self, kind: str, lo: int, hi: int) -> int:
        """Take back the ``kind`` rows with ids ``lo..hi`` that a merge inserted; how many went."""
        if kind == "lesson":
            return memory.remove_lessons(self._con, lo, hi)
        return exchange.remove_range(self._con, kind, lo, hi, hours=self._hours)

    def merge_lessons(self, rows: list[tuple]) -> list[int]:
        """Keep the lessons from elsewhere not kept yet (``store/memory.py``); the ids inserted."""
        return memory.merge_lessons(self._con, rows)

    def merge_digests(self, rows: list[tuple]) -> tuple[int, int]:
        """Keep the digests from elsewhere that say what this timeline now holds (``store/memory.py``),
        after the summaries of the hours this transaction changed; ``(kept, stale)``."""
        self.finish()
        return memory.merge_digests(self._con, rows)

    def make_index_room(self, kind: str, postings: int, tail_max: int = search_index.TAIL_MAX) -> bool:
        """Move the search tail of ``kind``'s rows (``seen`` or ``heard``) into a sorted run now
        if ``postings`` more would bring it to ``tail_max``: an import slice does it in a
        transaction of its own with a smaller ``tail_max``, so no move holds the write lock long
        (moving 1M postings took 0.4-2.5 s by load). True if it did."""
        corpus = {"seen": SPANS, "heard": TRANSCRIPTS}.get(kind)
        if corpus is None:
            return False
        if one(self._con.execute(f"SELECT count(*) FROM {corpus.tail}"))[0] + postings < tail_max:
            return False
        search_index.merge_tail(self._con, corpus)
        return True

    def add_event(self, ts: datetime, kind: str, detail: dict | None = None) -> None:
        """Record a timeline event (record_start, record_stop, gap, ocr_failure, ...). A number
        that is not finite (a rate of 0/0) is stored as null: NaN is not JSON, and an export of
        it would be invalid."""
        self._con.execute(
            "INSERT INTO events (ts, kind, detail) VALUES (?, ?, ?)",
            [utc_naive(ts), kind, finite_json(detail) if detail else None],
        )

    def upsert_recording(self, rec: dict) -> None:
        """Insert or update the recording session ``rec["id"]``; absent keys keep their value."""
        unknown = set(rec) - set(RECORDING_COLUMNS)
        if unknown or not rec.get("id"):
            raise StoreError(
                f"Bad recording row: unknown keys {sorted(unknown)} or no id. "
                f"Valid keys: {', '.join(RECORDING_COLUMNS)}."
            )
        values = {k: utc_naive(v) if isinstance(v, datetime) else v for k, v in rec.items()}
        rec_id = str(values.pop("id"))
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)  # keys checked against RECORDING_COLUMNS
            updated = self._con.execute(
                f"UPDATE recordings SET {sets} WHERE id = ? RETURNING id", [*values.values(), rec_id]
            ).fetchall()
        else:
            updated = self._con.execute("SELECT id FROM recordings WHERE id = ?", [rec_id]).fetchall()
        if updated:
            return
        if values.get("started") is None:
            raise StoreError(f"Recording {rec_id} is new, so it needs a 'started' time.")
        cols = ["id", *values]
        self._con.execute(
            f"INSERT INTO recordings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [rec_id, *values.values()],
        )

    def store_vectors(self, batch, vectors) -> int:
        """The vectors of a batch read by ``pending_chunks``; 0 when another embedder moved on
        since (``embeddings.store_vectors``)."""
        return embeddings.store_vectors(self._con, batch, vectors)

    def summarise_hours(self, now: datetime | None = None) -> datetime | None:
        """Summarise the hours up to the one being recorded (``hours.advance``); returns the
        watermark: every hour before it has summaries."""
        return hours.advance(self._con, now)

    def finish(self) -> int:
        """Recompute the summaries of the past hours this transaction added lines to; called
        by ``Store.write()`` just before it commits. Returns how many hours were."""
        touched, self._hours = self._hours, set()
        return hours.refresh_hours(self._con, touched)

    def refresh_search_index(self, *, min_new_spans: int | None = 1, min_new_transcripts: int | None = 1) -> bool:
        """Index spans and transcripts that were stored without being indexed, if at least
        ``min_new_*`` of them wait (``None`` leaves that table alone); True if any were.

        Every row this Writer stores is indexed in the same transaction, so this normally
        finds nothing: it is a cheap check (two counts over the newest rows), and at most
        ``search_index.CATCH_UP_ROWS`` rows per table are indexed per call. Nothing is rebuilt.
        """
        spans = min_new_spans is not None and search_index.catch_up(self._con, SPANS, min_rows=min_new_spans)
        heard = min_new_transcripts is not None and search_index.catch_up(
            self._con, TRANSCRIPTS, min_rows=min_new_transcripts
        )
        return bool(spans or heard)

    # -- helpers -----------------------------------------------------------------------

    def _open_spans(self, monitor: int) -> list[_OpenSpan]:
        if monitor not in self._open:
            rows = self._con.execute(
                'SELECT id, text, top, "left" FROM text_spans WHERE open AND monitor = ? ORDER BY id',
                [monitor],
            ).fetchall()
            self._open[monitor] = [_OpenSpan(*r) for r in rows]
        return self._open[monitor]

    def _set_end(self, ids: list[int], ts: datetime, *, close: bool) -> None:
        if not ids:
            return
        sets = "open = false, t_end = greatest(t_end, ?)" if close else "t_end = greatest(t_end, ?)"
        self._con.execute(f"UPDATE text_spans SET {sets} WHERE {ids_filter()}", [ts, *ids_params(ids)])

    def _insert_spans(
        self, frame_id: int, ts: datetime, monitor: int, app: str, window: str, lines: list[OcrLine]
    ) -> list[_OpenSpan]:
        if not lines:
            return []
        counts = tokens.count_many([line.text for line in lines])
        rows = [
            {
                "t": ts,
                "monitor": monitor,
                "app": app if line.app is None else line.app,
                "window": window if line.window is None else line.window,
                "text": line.text,
                "top": line.box[1],
                "left": line.box[0],
                "frame_id": frame_id,
                "tokens": n,
                "ord": line.ord,
                "lead": line.lead,
            }
            for line, n in zip(lines, counts)
        ]
        created = self._con.execute(
            'INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text, top, "left", frame_id, tokens,'
            " ord, lead)"
            ' SELECT t, t, monitor, app, "window", text, top, "left", frame_id, tokens, ord, lead'
            f" FROM (SELECT unnest(from_json(?, '{_NEW_SPANS_TYPE}'), recursive := true))"
            ' RETURNING id, text, top, "left", app',
            [to_json_param(rows)],
        ).fetchall()
        search_index.add(self._con, SPANS, [(id_, text, ts, row_app) for id_, text, _, _, row_app in created])
        self._hours.add(hours.hour_of(ts))
        return sorted((_OpenSpan(*r[:4]) for r in created), key=lambda s: s.id)


def finite_json(detail: dict) -> str:
    """``detail`` as JSON, with NaN and infinities as null (``json.dumps`` would write them bare)."""
    text = json.dumps(detail, default=str)
    if "NaN" in text or "Infinity" in text:  # cheap test; a string holding the word is re-encoded the same
        text = json.dumps(json.loads(text, parse_constant=lambda _: None), allow_nan=False)
    return text
