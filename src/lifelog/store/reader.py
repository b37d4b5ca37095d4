"""Time-range reads, stats and search over one open connection (read-only or not)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb

from lifelog.models import (
    FrameRecord,
    SearchHit,
    StoreStats,
    TextSpan,
)
from lifelog.store import digests, embeddings, hours, lessons, memory, search_index, voices
from lifelog.store import search as _search
from lifelog.store.digests import Digest, HourMaterial
from lifelog.store.embeddings import ChunkHit
from lifelog.store.exchange import RowStream
from lifelog.store.rows import HeardInStretch, HeardRow, HourCost, SeenInStretch, Totals, named
from lifelog.store.sql import (
    SPAN_COLUMNS,
    SPANS,
    TRANSCRIPTS,
    one,
    span_from_row,
    time_range,
    utc_naive,
    where,
)

FRAME_COLUMNS = (
    'id, ts, monitor, width, height, app, "window", image_ref, '
    "region_left, region_top, region_right, region_bottom, keyframe, ocr_ms, ocr_failed, source_key"
)
RECORDING_COUNTERS = (
    "frames_seen",
    "frames_kept",
    "frames_skipped",
    "ocr_failures",
    "audio_chunks",
    "audio_voiced_ms",
    "audio_silent_ms",
)
RECORDING_COLUMNS = ("id", "started", "ended", "fps", *RECORDING_COUNTERS)
SHOWN_TEXT = "coalesce(lead, '') || text"  # a span as shown: indentation, blank line or heading mark first


class Reader:
    """Queries over the timeline. Obtain one from ``Store.read()``; valid inside that block."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: Path | None = None):
        self._con = con
        self._db_path = db_path

    def query(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """The rows of one query on this view's connection, for tests and checks that read the
        tables directly (``tests/support/rows.py``). lifelog's own reads are the methods here:
        its SQL lives in ``store/``, so code outside it does not call this."""
        return self._con.execute(sql, list(params)).fetchall()

    def spans_between(self, since: datetime | None, until: datetime | None) -> list[TextSpan]:
        """Spans visible at some time in [since, until), in a deterministic on-screen order."""
        conds, params = time_range(since, until, "t_start", "t_end")
        rows = self._con.execute(
            f'SELECT {SPAN_COLUMNS} FROM text_spans{where(conds)} ORDER BY t_start, monitor, ord, top, "left", id',
            params,
        ).fetchall()
        return [span_from_row(r) for r in rows]

    # -- context windows: rows without objects, costs and outlines by query -----------------
    def seen_columns(
        self,
        since: datetime | None,
        until: datetime | None,
        *,
        start_from: datetime | None = None,
        before: datetime | None = None,
    ) -> dict:
        """The spans visible in [since, until) in on-screen order (or with ``start_from`` only
        those that began at or after it) as numpy columns, strings apart: a window's tail is read
        this way, with no Python object per row and each distinct string fetched once.

        - ``rows``: ``t`` (begun before ``since``: at ``since``), ``monitor``, ``tokens``,
          ``key`` (a 64-bit hash of monitor, app, window and the text without its leading
          blank lines: the same line shown again), ``chars`` (that text's length), ``place``
          (a hash of app and window) and ``text`` (a hash of the text as shown), in on-screen
          order;
        - ``texts``: ``text`` (the hash) and ``shown`` (the text), one row per hash;
        - ``places``: ``place``, ``app`` and ``window``, one row per hash.

        ``before`` bounds the starts (a newer stretch already read)."""
        conds, params = self._starting(since, None if before else until, start_from, "t_start", "t_end")
        if before is not None:
            conds.append("t_start < ?")
            params.append(utc_naive(before))
        clamped = list(params)
        t = self._clamped(since if start_from is None else None, clamped)
        rows = self._con.execute(
            f'SELECT {t} AS t, monitor, tokens, hash(monitor, app, "window", ltrim({SHOWN_TEXT}, chr(10))) AS key, '
            f'length(ltrim({SHOWN_TEXT}, chr(10))) AS chars, hash(app, "window") AS place, '
            f"hash({SHOWN_TEXT}) AS text FROM text_spans{where(conds)} "
            'ORDER BY t_start, monitor, ord, top, "left", id',
            clamped,
        ).fetchnumpy()
        texts = self._con.execute(
            f"SELECT hash({SHOWN_TEXT}) AS text, any_value({SHOWN_TEXT}) AS shown FROM text_spans{where(conds)} "
            "GROUP BY 1",
            params,
        ).fetchnumpy()
        places = self._con.execute(
            f'SELECT hash(app, "window") AS place, any_value(app) AS app, any_value("window") AS "window" '
            f"FROM text_spans{where(conds)} GROUP BY 1",
            params,
        ).fetchnumpy()
        return {"rows": rows, "texts": texts, "places": places}

    def heard_columns(
        self,
        since: datetime | None,
        until: datetime | None,
        *,
        start_from: datetime | None = None,
        before: datetime | None = None,
    ) -> list[HeardRow]:
        """The transcripts heard in [since, until) (``t``: their start), or with ``start_from``
        those that began at or after it; ``before`` bounds the starts as in ``seen_columns``
        (speech is sparse: rows, not columns)."""
        conds, params = self._starting(since, None if before else until, start_from, "t_start", "t_end")
        if before is not None:
            conds.append("t_start < ?")
            params.append(utc_naive(before))
        return named(
            HeardRow,
            self._con.execute(
                f"SELECT t_start, {voices.heard_source()}, text, tokens FROM transcripts{where(conds)}"
                " ORDER BY t_start, source, id",
                params,
            ).fetchall(),
        )

    def seen_rows_within(self, stretches: list[tuple[datetime, datetime]]) -> list[SeenInStretch]:
        """For each stretch (by its index in ``stretches``), the spans visible in it, a span begun
        earlier placed at the stretch's start, by time, then on-screen order. A span in several
        stretches is in each."""
        return named(
            SeenInStretch,
            self._within(
                "text_spans",
                f'monitor, app, "window", {SHOWN_TEXT}, tokens',
                'monitor, t_start, ord, top, "left", id',
                stretches,
            ),
        )

    def heard_rows_within(self, stretches: list[tuple[datetime, datetime]]) -> list[HeardInStretch]:
        """The same for speech."""
        columns = f"{voices.heard_source('s.speaker')} AS source, text, tokens"
        return named(HeardInStretch, self._within("transcripts", columns, "source, id", stretches))

    def _within(self, table: str, columns: str, order: str, stretches) -> list[tuple]:
        """``(stretch, t, id, *columns)`` rows."""
        if not stretches:
            return []
        # one range join; the outer bounds let zonemaps skip what lies outside all of them
        return self._con.execute(
            f"SELECT r.i, greatest(s.t_start, r.a) AS t, id, {columns} FROM {table} s"
            " JOIN (SELECT unnest(range(len(?::TIMESTAMP[]))) AS i, unnest(?::TIMESTAMP[]) AS a,"
            " unnest(?::TIMESTAMP[]) AS b) r ON s.t_end >= r.a AND s.t_start < r.b"
            f" WHERE s.t_end >= ? AND s.t_start < ? ORDER BY t, {order}, r.i",
            [
                [utc_naive(a) for a, _ in stretches],
                [utc_naive(a) for a, _ in stretches],
                [utc_naive(b) for _, b in stretches],
                utc_naive(min(a for a, _ in stretches)),
                utc_naive(max(b for _, b in stretches)),
            ],
        ).fetchall()

    def token_costs(self, since: datetime | None, until: datetime | None) -> list[HourCost]:
        """Per hour (by start time, a span begun before ``since`` counting at ``since``), the
        stored o200k tokens of the lines seen and heard plus one per line, oldest first.
        Whole past hours come from their stored summaries (``store/hours.py``)."""
        return hours.token_costs(self._con, since, until)

    def outline_rows(self, since: datetime | None, upto: datetime | None) -> dict:
        """What an outline of [since, upto) says per hour, aggregated in the database (a span
        begun before ``since`` counts at ``since``; whole past hours come from their stored
        summaries, ``store/hours.py``):

        - ``seen``: ``(hour, app, window, seconds, lines, first line)``, where a window's
          seconds run from each moment it showed a change until the next change anywhere in
          the hour (its end for the last), at least 1 s and at most 300 s;
        - ``heard``: ``(hour, source, minutes with speech)``;
        - ``totals``: lines, stored tokens, first and last time of the rows (``Totals``).
        """
        return hours.outline_rows(self._con, since, upto)

    def outline_totals(self, since: datetime | None, upto: datetime | None) -> Totals:
        """``outline_rows(since, upto)["totals"]`` alone: lines, stored tokens, first and last
        time."""
        return hours.outline_totals(self._con, since, upto)

    def _live_token_costs(self, since: datetime | None, until: datetime | None) -> list[HourCost]:
        """``token_costs`` from the rows alone, without summaries (what they must equal)."""
        return hours.token_costs(self._con, since, until, cached=False)

    def _live_outline_rows(self, since: datetime | None, upto: datetime | None) -> dict:
        """``outline_rows`` from the rows alone, without summaries (what they must equal)."""
        return hours.outline_rows(self._con, since, upto, cached=False)

    @staticmethod
    def _clamped(since: datetime | None, params: list) -> str:
        """The row's time in a slice: its start, or ``since`` when it began earlier (the ``?``
        is bound first: insert its parameter at the front)."""
        if since is None:
            return "t_start"
        params.insert(0, utc_naive(since))
        return "greatest(t_start, ?)"

    @staticmethod
    def _starting(since, until, start_from, start: str, end: str) -> tuple[list[str], list]:
        if start_from is None or (since is not None and start_from <= since):
            return time_range(since, until, start, end)
        conds, params = time_range(None, until, start, end)
        return [f"{start} >= ?", *conds], [utc_naive(start_from), *params]

    def frames_between(self, since: datetime | None, until: datetime | None) -> list[FrameRecord]:
        conds, params = time_range(since, until, "ts", "ts")
        rows = self._con.execute(
            f"SELECT {FRAME_COLUMNS} FROM frames{where(conds)} ORDER BY ts, monitor, id", params
        ).fetchall()
        return [_frame_from_row(r) for r in rows]

    def screen_before(self, monitor: int, ts: datetime, width: int, height: int) -> list[FrameRecord]:
        """The stored frames that rebuild what ``monitor`` showed just before ``ts``: its last
        keyframe of that size and every frame after it, in time order (empty if none)."""
        rows = self._con.execute(
            f"SELECT {FRAME_COLUMNS} FROM frames WHERE monitor = ? AND ts < ? AND ts >= ("
            " SELECT max(ts) FROM frames WHERE monitor = ? AND ts < ? AND keyframe AND width = ? AND height = ?"
            ") ORDER BY ts, id",
            [monitor, utc_naive(ts), monitor, utc_naive(ts), width, height],
        ).fetchall()
        return [_frame_from_row(r) for r in rows]

    def frame_at(self, at: datetime, monitor: int | None = None) -> FrameRecord | None:
        """The last frame with an image stored at or before ``at`` (on ``monitor``, or on any),
        or None."""
        conds: list[str] = ["ts <= ?", "image_ref <> ''"]
        params: list[object] = [utc_naive(at)]
        if monitor is not None:
            conds.append("monitor = ?")
            params.append(monitor)
        row = self._con.execute(
            f"SELECT {FRAME_COLUMNS} FROM frames{where(conds)} ORDER BY ts DESC, id DESC LIMIT 1", params
        ).fetchone()
        return _frame_from_row(row) if row else None

    def last_frames(self, since: datetime, at: datetime) -> list[FrameRecord]:
        """Each monitor's last frame with an image in [since, at], by monitor."""
        rows = self._con.execute(
            f"SELECT {FRAME_COLUMNS} FROM frames WHERE ts >= ? AND ts <= ? AND image_ref <> '' "
            "QUALIFY row_number() OVER (PARTITION BY monitor ORDER BY ts DESC, id DESC) = 1 ORDER BY monitor",
            [utc_naive(since), utc_naive(at)],
        ).fetchall()
        return [_frame_from_row(r) for r in rows]

    def events_between(self, since: datetime | None, until: datetime | None) -> list[dict]:
        conds, params = time_range(since, until, "ts", "ts")
        rows = self._con.execute(
            f"SELECT ts, kind, detail FROM events{where(conds)} ORDER BY ts, id", params
        ).fetchall()
        return [{"ts": ts, "kind": kind, "detail": json.loads(d) if d else {}} for ts, kind, d in rows]

    def timeline_rows(self, since: datetime | None, until: datetime | None) -> RowStream:
        """Every span, transcript and event overlapping [since, until), merged in time order and
        read in batches from one snapshot (``store/exchange.py``); close it when done."""
        return RowStream(self._con, since, until)

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        app: str | None = None,
        limit: int = 20,
        kinds: tuple[str, ...] = ("seen", "heard"),
        speaker: str | None = None,
    ) -> list[SearchHit]:
        """Full-text search over text seen and heard, one ranking; see ``store/search.py``.

        ``app`` keeps spans of matching apps only, so it leaves out transcripts; ``speaker``
        keeps what that voice said (``voices.matching``), so it leaves out spans; ``kinds``
        restricts the search to ``("seen",)`` (spans) or ``("heard",)`` (transcripts).
        """
        if speaker is not None:
            said = voices.matching(self._con, speaker)
            if not said:
                return []
            kinds = tuple(k for k in kinds if k == "heard")
        return _search.search(
            self._con,
            query,
            since=since,
            until=until,
            app=app,
            limit=limit,
            kinds=tuple(kinds),
            speakers=said if speaker is not None else None,
        )

    def said_by(self, words: set[str], since: datetime | None, until: datetime | None, limit: int) -> list[tuple]:
        """``(minute, source)`` of the minutes in which a voice named by ``words`` (every word
        of its name among them, lower case) spoke, most speech first: a question about "the
        call with Dana" is about what Dana said."""
        ids = voices.named_in(self._con, words)
        if not ids:
            return []
        conds, params = time_range(since, until, "t_start", "t_end")
        conds.append(f"speaker IN ({', '.join(str(int(i)) for i in ids)})")
        return self._con.execute(
            f"SELECT date_trunc('minute', t_start) AS m, source FROM transcripts{where(conds)}"
            " GROUP BY ALL ORDER BY sum(epoch(t_end) - epoch(t_start)) DESC, m LIMIT ?",
            [*params, limit],
        ).fetchall()

    def speakers(self) -> list[dict]:
        """The voices heard, most heard first (``store/voices.py``)."""
        return voices.listing(self._con)

    def digests(self, since: datetime | None, until: datetime | None, level: str | None = None) -> list[Digest]:
        """The digests starting in [since, until), of ``level`` or every level (``store/digests.py``)."""
        return digests.between(self._con, since, until, level)

    def digests_due(self, since: datetime | None = None, writer: str = "") -> list[tuple]:
        """``(hour, basis)`` of the summarised hours whose digest is missing or stale (or by
        another writer than ``writer``, a model's name), newest first."""
        return digests.due_hours(self._con, hours.watermark(self._con), since, writer)

    def digest_material(self, hour: datetime, basis: str) -> HourMaterial:
        return digests.material(self._con, hour, basis)

    def digests_due_above(self, level: str, starts, writer: str = "") -> list[tuple]:
        """The days or weeks starting at ``starts`` whose digest is missing or stale (``digests.due_above``)."""
        return digests.due_above(self._con, level, starts, writer)

    def digests_missing_above(self, level: str, since: datetime | None = None) -> list[datetime]:
        return digests.missing_above(self._con, level, since)

    def digest_backlog(self, writer: str = "") -> int:
        """Summarised hours waiting for a digest (by ``writer``, a model's name; "" extractive)."""
        return digests.backlog(self._con, hours.watermark(self._con), writer)

    def memory_rows(self, since: datetime | None, until: datetime | None) -> list[tuple[str, tuple]]:
        """The range's digests, then its lessons, as ``(kind, row)`` for an export (``store/memory.py``)."""
        return [("digest", r) for r in memory.digest_rows(self._con, since, until)] + [
            ("lesson", r) for r in memory.lesson_rows(self._con, since, until)
        ]

    def lessons(self) -> list[dict]:
        """The lessons kept, in id order (``store/lessons.py``)."""
        return lessons.listing(self._con)

    def recordings(self) -> list[dict]:
        rows = self._con.execute(
            f"SELECT {', '.join(RECORDING_COLUMNS)} FROM recordings ORDER BY started, id"
        ).fetchall()
        return [dict(zip(RECORDING_COLUMNS, r)) for r in rows]

    def stats(self) -> StoreStats:
        (frames, keyframes, ocr_failed, spans, open_spans, events, transcripts, chunks, voiced, first, last) = one(
            self._con.execute("""
            SELECT (SELECT count(*) FROM frames),
                   (SELECT count(*) FROM frames WHERE keyframe),
                   (SELECT count(*) FROM frames WHERE ocr_failed),
                   (SELECT count(*) FROM text_spans),
                   (SELECT count(*) FROM text_spans WHERE open),
                   (SELECT count(*) FROM events),
                   (SELECT count(*) FROM transcripts),
                   (SELECT count(*) FROM audio_chunks),
                   (SELECT coalesce(sum(voiced_s), 0) FROM audio_chunks),
                   least((SELECT min(ts) FROM frames), (SELECT min(t_start) FROM text_spans),
                         (SELECT min(t_start) FROM transcripts)),
                   greatest((SELECT max(ts) FROM frames), (SELECT max(t_end) FROM text_spans),
                            (SELECT max(t_end) FROM transcripts))
        """)
        )
        sums = ", ".join(f"coalesce(sum({c}), 0)" for c in RECORDING_COUNTERS)  # fixed names
        recordings, *totals = one(self._con.execute(f"SELECT count(*), {sums} FROM recordings"))
        counters = {"recordings": recordings, **dict(zip(RECORDING_COUNTERS, (int(v) for v in totals)))}
        counters.update(
            events=events,
            open_spans=open_spans,
            unindexed_spans=search_index.unindexed(self._con, SPANS),
            unindexed_transcripts=search_index.unindexed(self._con, TRANSCRIPTS),
        )
        return StoreStats(
            frames=frames,
            keyframes=keyframes,
            ocr_failures=ocr_failed,
            text_spans=spans,
            transcripts=transcripts,
            audio_chunks=chunks,
            audio_voiced_s=float(voiced),
            first_ts=first,
            last_ts=last,
            db_bytes=self._db_bytes(),
            counters=counters,
        )

    # -- semantic search: vectors of minutes of the timeline (store/embeddings.py) -----------
    def nearest_chunks(
        self,
        query_vector,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        k: int = 20,
        model: str | None = None,
        kind: str | None = None,
    ) -> list[ChunkHit]:
        """The ``k`` embedded chunks overlapping [since, until) most similar to ``query_vector``
        (normalised, from ``model``), best first."""
        return embeddings.nearest(self._con, query_vector, since=since, until=until, k=k, model=model, kind=kind)

    def embedding_backlog(self, model: str) -> int:
        """Chunks of settled minutes not yet embedded (or changed since) with ``model``."""
        return embeddings.backlog(self._con, model=model)

    def pending_chunks(self, limit: int, *, model: str, now: datetime | None = None) -> embeddings.Pending:
        """Up to ``limit`` chunks to (re-)embed with ``model``, with their text (``embeddings.pending``)."""
        return embeddings.pending(self._con, limit, model=model, now=now)

    def _db_bytes(self) -> int:
        if self._db_path is None:
            return 0
        total = 0
        for path in (self._db_path, self._db_path.with_name(self._db_path.name + ".wal")):
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
        return total


def _frame_from_row(row: tuple) -> FrameRecord:
    (
        id_,
        ts,
        monitor,
        width,
        height,
        app,
        window,
        image_ref,
        left,
        top,
        right,
        bottom,
        keyframe,
        ocr_ms,
        ocr_failed,
        source_key,
    ) = row
    return FrameRecord(
        ts=ts,
        monitor=monitor,
        width=width,
        height=height,
        app=app,
        window=window,
        image_ref=image_ref,
        region=(left, top, right, bottom),
        keyframe=keyframe,
        ocr_ms=ocr_ms,
        ocr_failed=ocr_failed,
        id=id_,
        source_key=source_key or "",
    )
