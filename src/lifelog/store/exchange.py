"""Whole timelines in and out: every row of a time range in time order, read in batches
from one snapshot; rows from elsewhere merged in without duplicates.

The line format these rows travel in is ``lifelog.api.jsonl``'s; here they are plain tuples:

* ``seen``:  ``(t_start, t_end, monitor, app, window, text, top, left)``
* ``heard``: ``(t_start, t_end, source, engine, text, language, speaker)`` (``language`` and
  ``speaker``, a voice's label, may be left off when merging: "")
* ``event``: ``(ts, kind, detail)``, ``detail`` the stored JSON text or None

A row's natural key says whether it is already there: a span by ``(t_start, monitor, app,
window, text, top, left)`` (two equal lines seen at once at two places are two spans), a
transcript by ``(t_start, source, text)``, an event by ``(ts, kind, detail)``. Ids are not
part of any key: they differ between machines.

Reading never holds a range in memory: each table is read a time window at a time (windows
sized to about ``BATCH_ROWS`` rows, on the start column, which DuckDB's zonemaps find without
an index), and the three tables are merged by time. Ties are broken by the whole key, so the
order depends on the rows only, never on their ids: a timeline exported, imported elsewhere
and exported again gives the same lines.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from lifelog.store import search_index, tokens, voices
from lifelog.store.sql import SPANS, TRANSCRIPTS, one, time_range, utc_naive, where

KINDS = ("seen", "heard", "event")
BATCH_ROWS = 20_000
_MIN_STEP = _MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1)
# Rows as :func:`stage` makes them: column arrays, and ``terms`` (each text's search terms).
Staged = dict[str, Any]


@dataclass(frozen=True)
class _Table:
    name: str
    start: str  # the time column rows are ordered and windowed by
    end: str
    columns: str
    order: str  # a total order over the natural key, time first


_TABLES = {
    "seen": _Table(
        "text_spans",
        "t_start",
        "t_end",
        't_start, t_end, monitor, app, "window", text, top, "left", coalesce(ord, 0), coalesce(lead, \'\')',
        't_start, monitor, top, "left", app, "window", text, t_end, id',
    ),
    "heard": _Table(
        "transcripts",
        "t_start",
        "t_end",
        "t_start, t_end, source, engine, text, coalesce(language, ''),"
        " coalesce((SELECT coalesce(v.name, 'Speaker ' || v.id) FROM voices v WHERE v.id = transcripts.speaker), '')",
        "t_start, source, text, t_end, engine, id",
    ),
    "event": _Table("events", "ts", "ts", "ts, kind, detail", "ts, kind, detail NULLS FIRST, id"),
}


class RowStream:
    """The rows of ``[since, until)`` (rows overlapping it, as every read command takes a
    range), all three kinds merged by time. ``counts`` is known before the first row; both
    come from one transaction, so a recorder writing meanwhile changes neither. Iterate
    once, then ``close()``."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None, *, batch: int = BATCH_ROWS
    ) -> None:
        self._con = con
        self._batch = batch
        self._ranges = {k: time_range(since, until, t.start, t.end) for k, t in _TABLES.items()}
        con.begin()
        self._open = True
        self._extents = {k: self._extent(k) for k in KINDS}
        self.counts = {k: self._extents[k][2] for k in KINDS}

    def __iter__(self) -> Iterator[tuple[str, tuple]]:
        merged = heapq.merge(*(self._keyed(kind, rank) for rank, kind in enumerate(KINDS)))
        return ((kind, row) for _, _, kind, row in merged)

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._con.rollback()  # it only read
            except duckdb.Error:
                pass

    def _keyed(self, kind: str, rank: int) -> Iterator[tuple]:
        for row in self._rows(kind):
            yield row[0], rank, kind, row

    def _extent(self, kind: str) -> tuple:
        """``(first start, last start, rows)`` of the kind in the range."""
        t = _TABLES[kind]
        conds, params = self._ranges[kind]
        return one(
            self._con.execute(f"SELECT min({t.start}), max({t.start}), count(*) FROM {t.name}{where(conds)}", params)
        )

    def _rows(self, kind: str) -> Iterator[tuple]:
        """The kind's rows in order, one window of start times at a time. Each window is counted
        first and narrowed until it holds at most twice ``batch`` rows (rows that start in the
        same microsecond cannot be split); empty stretches are jumped over."""
        lo, hi, n = self._extents[kind]
        if not n:
            return
        t = _TABLES[kind]
        conds, params = self._ranges[kind]
        window = [*conds, f"{t.start} >= ?", f"{t.start} < ?"]
        count_sql = f"SELECT count(*) FROM {t.name}{where(window)}"
        rows_sql = f"SELECT {t.columns} FROM {t.name}{where(window)} ORDER BY {t.order}"
        next_sql = f"SELECT min({t.start}) FROM {t.name}{where([*conds, f'{t.start} >= ?'])}"
        step = max((hi - lo) * (self._batch / n), _MIN_STEP)
        a = lo
        while a is not None and a <= hi:
            b = a + step
            found = one(self._con.execute(count_sql, [*params, a, b]))[0]
            if found > 2 * self._batch and step > _MIN_STEP:
                step = max(step * (self._batch / found), _MIN_STEP)
                continue
            if found:
                yield from self._con.execute(rows_sql, [*params, a, b]).fetchall()
                a = b
            else:
                a = one(self._con.execute(next_sql, [*params, b]))[0]
            if found < self._batch // 2:
                step *= min(2.0, self._batch / max(found, 1))


def merge(con: duckdb.DuckDBPyConnection, kind: str, rows: list[tuple], *, hours: set | None = None) -> int:
    """Insert the ``kind`` rows (tuples as in the module docstring) that are not stored yet,
    in the caller's transaction, with their o200k token counts and indexed for search, as
    every write does; duplicates within ``rows`` count once. Returns how many were inserted
    (in the order given). The hours lines were added to go into ``hours`` (their summaries
    are the caller's to recompute: ``hours.refresh_hours``)."""
    return len(merge_staged(con, kind, stage(kind, rows), hours=hours)) if rows else 0


def merge_staged(con: duckdb.DuckDBPyConnection, kind: str, staged: Staged, *, hours: set | None = None) -> list[int]:
    """:func:`merge` of rows already staged (:func:`stage`); the ids of the rows inserted."""
    if not len(staged["n"]):
        return []
    times = staged["ts" if kind == "event" else "t_start"]
    # read by DuckDB's replacement scan, not con.register(): see search_index._insert
    _lifelog_merge = {k: v for k, v in staged.items() if k != "terms"}
    if kind == "heard":  # a speaker's label names a voice of this timeline, made if it has none yet
        ids = {label: voices.by_label(con, label, create=True) for label in set(staged["speaker"]) if label}
        _lifelog_merge["speaker"] = np.array([ids.get(label, -1) for label in staged["speaker"]], dtype=np.int64)
    created = con.execute(_MERGE_SQL[kind], [times.min().item(), times.max().item()]).fetchall()
    if kind != "event":
        search_index.add(con, SPANS if kind == "seen" else TRANSCRIPTS, created, staged["terms"])
    if hours is not None and kind != "event":
        hours.update(t.replace(minute=0, second=0, microsecond=0) for _, _, t, _ in created)
    return [row[0] for row in created]


def remove_range(con: duckdb.DuckDBPyConnection, kind: str, lo: int, hi: int, *, hours: set | None = None) -> int:
    """Delete the ``kind`` rows with ids ``lo..hi`` and their postings, in the caller's
    transaction (an import taking back what it merged); the hours they were in go into
    ``hours``. Returns how many rows were deleted."""
    table = _TABLES[kind]
    if kind != "event":
        search_index.remove_range(con, SPANS if kind == "seen" else TRANSCRIPTS, lo, hi)
    gone = con.execute(
        f"DELETE FROM {table.name} WHERE id BETWEEN ? AND ? RETURNING {table.start}", [lo, hi]
    ).fetchall()
    if hours is not None and kind != "event":
        hours.update(t.replace(minute=0, second=0, microsecond=0) for (t,) in gone)
    return len(gone)


def stage(kind: str, rows: list[tuple]) -> Staged:
    """The rows as :func:`merge_staged` takes them: column arrays with their token counts,
    plus ``n``, their order, and ``terms``, each text's search terms. Needs no connection, so an import prepares its next slice while
    others write."""
    cols = list(zip(*rows))
    if kind == "seen":
        t_start, t_end, monitor, app, window, text, top, left = cols[:8]
        order = [row[8] if len(row) > 8 else 0 for row in rows]  # reading order and what goes before
        lead = [row[9] if len(row) > 9 else "" for row in rows]  # the text (migration 8), if given
        staged = {
            "t_start": _times(t_start),
            "t_end": _times(t_end),
            "monitor": np.array(monitor, dtype=np.int32),
            "app": _strings(app),
            "window": _strings(window),
            "text": _strings(text),
            "top": np.array(top, dtype=np.int32),
            "left": np.array(left, dtype=np.int32),
            "ord": np.array(order, dtype=np.int32),
            "lead": _strings(lead),
            "tokens": np.array(tokens.count_many(list(text)), dtype=np.int32),
        }
    elif kind == "heard":
        t_start, t_end, source, engine, text = cols[:5]
        language = [row[5] if len(row) > 5 else "" for row in rows]
        speaker = [row[6] if len(row) > 6 else "" for row in rows]
        staged = {
            "t_start": _times(t_start),
            "t_end": _times(t_end),
            "source": _strings(source),
            "engine": _strings(engine),
            "text": _strings(text),
            "language": _strings(language),
            "speaker": _strings(speaker),  # a label until merge_staged makes it the voice's id
            "tokens": np.array(tokens.count_many(list(text)), dtype=np.int32),
        }
    else:
        ts, kinds, detail = cols
        return {
            "n": np.arange(len(rows), dtype=np.int64),
            "ts": _times(ts),
            "kind": _strings(kinds),
            "detail": _strings(detail),
        }
    # each text's search terms too: indexing the rows inserted then only numbers them
    return {
        "n": np.arange(len(rows), dtype=np.int64),
        **staged,
        "terms": {t: search_index.text_terms(t) for t in set(text)},
    }


def _times(values) -> np.ndarray:
    """As microseconds since the epoch: 5x faster than numpy converting each datetime."""
    return np.array([(utc_naive(v) - _EPOCH) // _MICROSECOND for v in values], dtype=np.int64).view("datetime64[us]")


def _strings(values) -> np.ndarray:
    return np.array(values, dtype=object)


def _merge_sql(
    table: str,
    columns: list[str],
    key: list[str],
    start: str,
    returning: str,
    extra: dict[str, str] | None = None,
    nullable: tuple[str, ...] = (),
) -> str:
    """``INSERT`` the staged rows whose key is in neither the table (in the staged time range:
    zonemaps skip the rest) nor earlier staged rows."""
    quoted = [f'"{c}"' for c in columns]
    same = " AND ".join(f's."{c}" {"IS NOT DISTINCT FROM" if c in nullable else "="} t."{c}"' for c in key)
    partition = ", ".join(f'"{c}"' for c in key)
    extra = extra or {}
    return (
        f"INSERT INTO {table} ({', '.join(quoted + list(extra))})"
        f" SELECT {', '.join([f's.{q}' for q in quoted] + list(extra.values()))}"
        f" FROM (SELECT *, row_number() OVER (PARTITION BY {partition}"
        f" ORDER BY n) AS copy FROM _lifelog_merge) s"
        f" WHERE s.copy = 1 AND NOT EXISTS (SELECT 1 FROM {table} t"
        f" WHERE t.{start} BETWEEN ? AND ? AND {same})"
        f" ORDER BY s.n RETURNING {returning}"
    )


_MERGE_SQL = {
    "seen": _merge_sql(
        "text_spans",
        ["t_start", "t_end", "monitor", "app", "window", "text", "top", "left", "ord", "lead", "tokens"],
        ["t_start", "monitor", "app", "window", "text", "top", "left"],
        "t_start",
        "id, text, t_start, app",
        extra={"open": "false"},
    ),
    "heard": _merge_sql(
        "transcripts",
        ["t_start", "t_end", "source", "engine", "text", "tokens", "language"],
        ["t_start", "source", "text"],
        "t_start",
        "id, text, t_start, NULL",
        extra={"speaker": "nullif(s.speaker, -1)"},
    ),
    "event": _merge_sql("events", ["ts", "kind", "detail"], ["ts", "kind", "detail"], "ts", "id", nullable=("detail",)),
}
