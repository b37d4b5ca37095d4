"""The full-text index: postings tables inside the DuckDB file, kept up in the same
transaction as the rows they index.

Per searchable table (``text_spans``, ``transcripts``; see ``sql.Corpus``):

* ``<table>_postings_tail``: one row per (term, row) of the newest rows, appended by every
  write batch in insertion order (a batch of 2 frames x 35 new lines adds ~500 rows; the
  index's share of such a batch is 6-10 ms on a 2-core VM, see BENCHMARKS.md).
* ``<table>_postings``: sorted runs. When the tail holds ``TAIL_MAX`` postings, the next
  write moves it here sorted by (term, doc) in one statement (~0.3 s for 1M postings) and
  empties it. Runs are never rewritten, so no write ever touches more than one tail's worth
  of the index. A term's postings then sit in one stretch of each run, which DuckDB's
  per-segment min/max (zonemaps) find without an ART index; the tail is scanned whole.
* ``search_stats``: per table, how many rows are indexed (``docs``), their total length in
  terms (for BM25's average) and the highest row id indexed (``max_id``).
* ``search_apps``: a number for each app name seen (a few hundred rows).

A posting is ``(term, doc, tf, len, t_start, app)``: the term's 64-bit id (``terms.term_id``),
the row id, how often the term occurs in the row, the row's length in terms, the row's start
time and its app's number in ``search_apps`` (0 for none). A row's start and app never
change, so search ranks ties and filters by time and app without reading the rows.
Document frequencies are counted from the postings at query time, so nothing but the one
stats row is ever updated.

Rows reach the index through :func:`add` (``Writer`` calls it for every span and
transcript it inserts); :func:`catch_up` indexes rows that were stored some other way, in
id order, a bounded number per call; migration 4 calls :func:`backfill` once for the rows
that existed before it; migration 10 calls :func:`refold` once, for the rows indexed before
Chinese was folded to Simplified (``terms.fold``). To remove rows (``forget``), call :func:`remove` with their ids (:func:`remove_range` for an
import's range of ids).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import duckdb
import numpy as np

from lifelog.store.sql import CORPORA, SPANS, TRANSCRIPTS, Corpus, ids_filter, ids_params, one, to_json_param
from lifelog.store.terms import FOLD, term_id, terms

TAIL_MAX = 1_000_000
"""Postings in a tail before it becomes a sorted run: scanning a full tail costs ~2 ms a
term, sorting it into a run ~0.3 s once per ~150,000 lines of text (2-core x86-64)."""
CATCH_UP_ROWS = 50_000
"""Most rows :func:`catch_up` indexes in one call."""
BACKFILL_CHUNK = 100_000
_ROW_COLUMNS = {SPANS.table: "id, text, t_start, app", TRANSCRIPTS.table: "id, text, t_start, NULL"}
MAX_COUNT = 65_535  # tf and len are USMALLINT

POSTING_COLUMNS = "term, doc, tf, len, t_start, app"
_ARRAYS = ("term", "doc", "tf", "len", "t_start", "app")
_POSTINGS_DDL = (
    "term BIGINT NOT NULL, doc BIGINT NOT NULL, tf USMALLINT NOT NULL, len USMALLINT NOT NULL,"
    " t_start TIMESTAMP NOT NULL, app INTEGER NOT NULL"
)


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The index's tables (migration 4), empty, with one stats row per table."""
    con.execute(
        "CREATE TABLE search_stats (corpus VARCHAR NOT NULL, docs BIGINT NOT NULL,"
        " total_len BIGINT NOT NULL, max_id BIGINT NOT NULL)"
    )
    con.execute("CREATE TABLE search_apps (id INTEGER NOT NULL, app VARCHAR NOT NULL)")
    for corpus in CORPORA:
        con.execute(f"CREATE TABLE {corpus.postings} ({_POSTINGS_DDL})")
        con.execute(f"CREATE TABLE {corpus.tail} ({_POSTINGS_DDL})")
        con.execute("INSERT INTO search_stats VALUES (?, 0, 0, 0)", [corpus.table])


def add(con: duckdb.DuckDBPyConnection, corpus: Corpus, rows: Iterable[tuple], known: dict | None = None) -> None:
    """Index new rows ``(id, text, t_start, app)`` of ``corpus`` (``app`` None for
    transcripts), in the caller's transaction; ``known`` maps texts to their
    :func:`text_terms`, worked out beforehand (outside the transaction)."""
    rows = list(rows)
    if not rows:
        return
    _append(con, corpus, rows, known)
    if one(con.execute(f"SELECT count(*) FROM {corpus.tail}"))[0] >= TAIL_MAX:
        merge_tail(con, corpus)


def merge_tail(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> None:
    """Move the tail into a new sorted run."""
    con.execute(f"INSERT INTO {corpus.postings} SELECT {POSTING_COLUMNS} FROM {corpus.tail} ORDER BY term, doc")
    con.execute(f"DELETE FROM {corpus.tail}")


def stats(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> tuple[int, int, int]:
    """``(docs, total_len, max_id)`` of ``corpus``'s index."""
    row = con.execute("SELECT docs, total_len, max_id FROM search_stats WHERE corpus = ?", [corpus.table]).fetchone()
    return row if row else (0, 0, 0)


def unindexed(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> int:
    """Rows of ``corpus`` newer than its index (0 unless they were stored without :func:`add`)."""
    max_id = stats(con, corpus)[2]
    return one(con.execute(f"SELECT count(*) FROM {corpus.table} WHERE id > ?", [max_id]))[0]


def catch_up(con: duckdb.DuckDBPyConnection, corpus: Corpus, *, min_rows: int = 1) -> int:
    """Index up to ``CATCH_UP_ROWS`` rows newer than the index, oldest first, if at least
    ``min_rows`` are waiting; returns how many were indexed."""
    max_id = stats(con, corpus)[2]
    waiting = one(con.execute(f"SELECT count(*) FROM {corpus.table} WHERE id > ?", [max_id]))[0]
    if waiting == 0 or waiting < min_rows:
        return 0
    rows = con.execute(
        f"SELECT {_ROW_COLUMNS[corpus.table]} FROM {corpus.table} WHERE id > ? ORDER BY id LIMIT ?",
        [max_id, CATCH_UP_ROWS],
    ).fetchall()
    add(con, corpus, rows)
    return len(rows)


def backfill(con: duckdb.DuckDBPyConnection) -> None:
    """Index every row of every corpus (migration 4: once, over the rows stored before it).

    Reads id ranges (DuckDB skips row groups by their min/max id), so each chunk costs its
    own rows, not a scan of the table. Every ``TAIL_MAX`` postings go straight into a sorted
    run (nothing is written twice); the rest into the tail.
    """
    for corpus in CORPORA:
        lo, hi = one(con.execute(f"SELECT coalesce(min(id), 1), coalesce(max(id), 0) FROM {corpus.table}"))
        pending: list[dict] = []
        for start in range(lo, hi + 1, BACKFILL_CHUNK):
            rows = con.execute(
                f"SELECT {_ROW_COLUMNS[corpus.table]} FROM {corpus.table} WHERE id BETWEEN ? AND ?",
                [start, start + BACKFILL_CHUNK - 1],
            ).fetchall()
            if rows:
                pending.append(_postings(sorted(rows), app_ids(con, {r[3] for r in rows})))
                _count(con, corpus, rows, pending[-1]["total"])
            if sum(len(p["term"]) for p in pending) >= TAIL_MAX:
                _insert(con, corpus.postings, _concat(pending), order=True)
                pending = []
        if pending:
            _insert(con, corpus.tail, _concat(pending))


_COMPATIBILITY = r"\x{2E80}-\x{2FDF}\x{3200}-\x{33FF}\x{F900}-\x{FAFF}\x{1F200}-\x{1F2FF}\x{2F800}-\x{2FA1F}"
"""Blocks whose characters NFKC may turn into a Traditional one (Kangxi radicals, enclosed
and compatibility ideographs): a row holding one is indexed again too, to be safe."""


def refold(con: duckdb.DuckDBPyConnection) -> int:
    """Index again the rows indexed before Chinese was folded to Simplified (migration 10):
    those holding a Traditional character (``terms.FOLD``). Returns how many.

    One regular-expression scan of each table finds them (an English-only timeline has none,
    and nothing is written); their postings are deleted in one statement per table and made
    again, as :func:`backfill` makes them. Folding changes characters, not how many terms a
    row has, so the document counts and lengths in ``search_stats`` stay as they are. Safe to
    run again: a row indexed folded is indexed the same way a second time.
    """
    pattern = f"[{''.join(sorted(chr(c) for c in FOLD))}{_COMPATIBILITY}]"  # CJK ideographs: nothing to quote
    done = 0
    for corpus in CORPORA:
        max_id = stats(con, corpus)[2]
        ids = np.array(
            [
                r[0]
                for r in con.execute(
                    f"SELECT id FROM {corpus.table} WHERE id <= ? AND regexp_matches(text, '{pattern}') ORDER BY id",
                    [max_id],
                ).fetchall()
            ],
            dtype=np.int64,
        )
        if not len(ids):
            continue
        done += len(ids)
        _lifelog_refold_ids = {"id": ids}  # read by DuckDB's replacement scan, see _insert
        for table in (corpus.postings, corpus.tail):
            con.execute(f"DELETE FROM {table} WHERE doc IN (SELECT id FROM _lifelog_refold_ids)")
        pending: list[dict] = []
        for start in range(0, len(ids), BACKFILL_CHUNK):
            chunk = ids[start : start + BACKFILL_CHUNK]
            _lifelog_refold_ids = {"id": chunk}
            rows = con.execute(
                f"SELECT {_ROW_COLUMNS[corpus.table]} FROM {corpus.table} WHERE id BETWEEN ? AND ?"
                " AND id IN (SELECT id FROM _lifelog_refold_ids) ORDER BY id",
                [int(chunk[0]), int(chunk[-1])],
            ).fetchall()
            if rows:
                pending.append(_postings(rows, app_ids(con, {r[3] for r in rows})))
            if sum(len(p["term"]) for p in pending) >= TAIL_MAX:
                _insert(con, corpus.postings, _concat(pending), order=True)
                pending = []
        if pending:
            _insert(con, corpus.tail, _concat(pending))
            if one(con.execute(f"SELECT count(*) FROM {corpus.tail}"))[0] >= TAIL_MAX:
                merge_tail(con, corpus)
    return done


def remove(con: duckdb.DuckDBPyConnection, corpus: Corpus, ids: list[int]) -> None:
    """Take rows out of the index (``forget``), in the transaction that deletes them."""
    if ids:
        _remove_where(con, corpus, ids_filter("doc"), ids_params(ids))


def remove_range(con: duckdb.DuckDBPyConnection, corpus: Corpus, lo: int, hi: int) -> None:
    """Take the rows with ids ``lo..hi`` out of the index (an import taking back its rows)."""
    _remove_where(con, corpus, "doc BETWEEN ? AND ?", [lo, hi])


def _remove_where(con: duckdb.DuckDBPyConnection, corpus: Corpus, cond: str, params: list) -> None:
    docs, length = one(
        con.execute(
            f"SELECT count(*), coalesce(sum(len), 0) FROM (SELECT doc, any_value(len) AS len FROM"
            f" (SELECT doc, len FROM {corpus.postings} UNION ALL SELECT doc, len FROM {corpus.tail})"
            f" WHERE {cond} GROUP BY doc)",
            params,
        )
    )
    for table in (corpus.postings, corpus.tail):
        con.execute(f"DELETE FROM {table} WHERE {cond}", params)
    con.execute(
        "UPDATE search_stats SET docs = docs - ?, total_len = total_len - ? WHERE corpus = ?",
        [docs, int(length), corpus.table],
    )


def _append(con: duckdb.DuckDBPyConnection, corpus: Corpus, rows: list[tuple], known: dict | None = None) -> None:
    postings = _postings(rows, app_ids(con, {r[3] for r in rows}), known)
    _insert(con, corpus.tail, postings)
    _count(con, corpus, rows, postings["total"])


def app_ids(con: duckdb.DuckDBPyConnection, names: set[str | None]) -> dict[str | None, int]:
    """Each app name's number in ``search_apps``, numbering new names (None and '' -> 0)."""
    present = {n for n in names if n}
    known: dict[str | None, int] = (
        dict(
            con.execute(
                "SELECT app, id FROM search_apps WHERE list_contains(from_json(?, '[\"VARCHAR\"]'), app)",
                [to_json_param(sorted(present))],
            ).fetchall()
        )
        if present
        else {}
    )
    for name in sorted(present - set(known)):
        known[name] = one(
            con.execute(
                "INSERT INTO search_apps SELECT coalesce(max(id), 0) + 1, ? FROM search_apps RETURNING id", [name]
            )
        )[0]
    return {None: 0, "": 0, **known}


def text_terms(text: str) -> tuple[list[int], list[int], int]:
    """A text's term ids, how often each occurs in it, and its length in terms."""
    found = terms(text)
    counts = Counter(found)
    return [term_id(term) for term in counts], [min(tf, MAX_COUNT) for tf in counts.values()], len(found)


def _postings(rows: list[tuple], apps: dict[str | None, int], known: dict | None = None) -> dict:
    """Column arrays of the postings of ``rows`` (``id, text, t_start, app``), plus their total length.

    Per-row values are converted once and repeated per posting: converting a datetime per
    posting cost ~2 us, as much as tokenizing the row (1M-row imports, BENCHMARKS.md)."""
    term_ids: list[int] = []
    tfs: list[int] = []
    per_row: list[int] = []  # postings of each row
    lens: list[int] = []
    total = 0
    known = known or {}
    for _, text, _, _ in rows:
        ids, counts, length = known.get(text) or text_terms(text)
        total += length
        term_ids += ids
        tfs += counts
        per_row.append(len(ids))
        lens.append(min(length, MAX_COUNT))
    repeat = np.array(per_row, dtype=np.int64)

    def each(values, dtype) -> np.ndarray:
        return np.repeat(np.array(values, dtype=dtype), repeat)

    return {
        "term": np.array(term_ids, dtype=np.int64),
        "doc": each([r[0] for r in rows], np.int64),
        "tf": np.array(tfs, dtype=np.uint16),
        "len": each(lens, np.uint16),
        "t_start": each([r[2] for r in rows], "datetime64[us]"),
        "app": each([apps[r[3]] for r in rows], np.int32),
        "total": total,
    }


def _concat(parts: list[dict]) -> dict:
    return {k: np.concatenate([p[k] for p in parts]) for k in _ARRAYS}


def _insert(con: duckdb.DuckDBPyConnection, table: str, postings: dict, *, order: bool = False) -> None:
    if not len(postings["term"]):
        return
    # Read by DuckDB's replacement scan (this local variable's name in the SQL), not
    # con.register(): a registered object stays referenced until the transaction ends, so one
    # long transaction (an import, migration 4) would keep every batch's arrays in memory.
    _lifelog_new_postings = {k: postings[k] for k in _ARRAYS}
    con.execute(
        f"INSERT INTO {table} SELECT {POSTING_COLUMNS} FROM _lifelog_new_postings"
        + (" ORDER BY term, doc" if order else "")
    )


def _count(con: duckdb.DuckDBPyConnection, corpus: Corpus, rows: list, total: int) -> None:
    """Add ``rows`` to the corpus's document count, total length and highest id."""
    con.execute(
        "UPDATE search_stats SET docs = docs + ?, total_len = total_len + ?, max_id = greatest(max_id, ?)"
        " WHERE corpus = ?",
        [len(rows), total, max(r[0] for r in rows), corpus.table],
    )
