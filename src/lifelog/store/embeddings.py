"""Vectors of timeline chunks for semantic search: what is pending, storing them, the nearest.

A **chunk** is one minute of one window seen (monitor, app, window: the text spans whose
``t_start`` falls in that minute) or one minute of one audio source heard (its transcripts).
A chunk seen is embedded in *parts*, each what a person reads as one thing (a chat message, a
paragraph, a command with its output: the layout marks where one begins) with the ids of its
lines, so a question is answered by the message that holds it, not by a minute that also holds
twenty others (:func:`parts`: each distinct line once, units too short to carry a topic merged
with the next, a long one cut at ``PART_CHARS``). Speech heard is embedded as one text per chunk
(:func:`chunk_text`). Each text is cut to ``CHUNK_TOKENS`` model tokens: embedding 512 tokens
costs 0.8 CPU s, 384 tokens 0.45, 256 tokens 0.3, 128 tokens 0.14 (BENCHMARKS.md).
``chunk_vectors`` (migrations 6, 14) holds one row per part, chunk and model, with the highest
span / transcript id the chunk included; its ``model`` column holds :func:`vector_model` (the
embedder's id and the chunk text's version), so a new definition of the text makes every chunk
pending again.

Pending work is found from two watermarks per model in ``meta`` (``embed_span_id:<model>``,
``embed_transcript_id:<model>``, that same versioned model): every row at or below them is in
a stored chunk. Rows above them are grouped into chunks; only minutes that ended ``SETTLE_S``
ago are taken, so the minute being recorded is embedded once, when it is complete. A closed minute that gets more
rows later (a spool processed late, an import) is pending again and re-embedded whole. The
chunks are taken in the order of their first new row, and the watermark moves to just below
the first chunk not taken, so a bounded pass never skips a row; a chunk whose stored
``last_id`` shows nothing new is not embedded again.

Embedding takes seconds and must not hold the owner's write lock, so :func:`embed_store`
reads a batch (:func:`pending`), embeds it outside any transaction, and writes it
(:func:`store_vectors`) only if the watermarks have not moved meanwhile.

:func:`nearest` ranks chunks by inner product (the cosine: vectors are normalised) in
DuckDB, brute force over the range. Vectors are stored as int8 with one scale each
(:func:`quantize`): DuckDB compresses FLOAT columns with ALP-RD, whose decoding made a scan
of 100k chunks take ~570 ms; int8 takes ~130 ms and a quarter of the space (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from lifelog.store.sql import meta_get, meta_set, one, to_json_param, utc_naive

CHUNK = timedelta(seconds=60)
SETTLE_S = 120.0  # a minute is embedded once it ended this long ago
SCAN_ROWS = 100_000  # ids looked at past the watermark per batch: a huge backlog is read in slices
DIM = 384  # chunk_vectors.vector is TINYINT[384] times scale (migration 6)
CHUNK_TEXT = 3  # the version of parts() / chunk_text(); raise it whenever what is embedded changes
CHUNK_TOKENS = 384  # model tokens embedded per text at most (prefix and specials included)
PART_CHARS = 400  # a unit longer than this is embedded in pieces of about this many characters
MIN_PART_CHARS = 60  # a shorter unit ("Hey!", a menu item) is embedded with the next one
MAX_PARTS = 16  # parts embedded per chunk at most (a dense minute's first ~6k characters)
SEEN, HEARD = "seen", "heard"

_KEY_TYPE = (
    '[{"chunk_start": "TIMESTAMP", "kind": "VARCHAR", "monitor": "INTEGER", "app": "VARCHAR",'
    ' "window": "VARCHAR", "source": "VARCHAR"}]'
)
_ROW_TYPE = _KEY_TYPE[:-2] + (
    ', "part": "INTEGER", "line_ids": "BIGINT[]", "n_lines": "INTEGER", "last_id": "BIGINT",'
    ' "scale": "FLOAT", "vector": "TINYINT[]"}]'
)
_KEY_COLS = 'chunk_start, kind, monitor, app, "window", source'


@dataclass(frozen=True)
class Part:
    """A text embedded for a chunk and the ids of the lines seen it holds (none for speech)."""

    text: str
    line_ids: tuple[int, ...] = ()


@dataclass
class Chunk:
    chunk_start: datetime
    kind: str  # seen or heard
    monitor: int  # -1 for heard
    app: str
    window: str
    source: str  # '' for seen
    parts: list[Part] = field(default_factory=list)
    n_lines: int = 0
    last_id: int = 0

    def key(self) -> tuple:
        return (self.chunk_start, self.kind, self.monitor, self.app, self.window, self.source)


@dataclass
class ChunkHit:
    chunk_start: datetime
    chunk_end: datetime
    kind: str
    monitor: int | None  # None for heard
    app: str
    window: str
    source: str  # '' for seen
    score: float  # cosine similarity to the query
    part: int = 0  # which part of the chunk
    line_ids: tuple[int, ...] = ()  # the lines seen the part holds (none: the whole chunk)


@dataclass
class Pending:
    """A batch of chunks to embed, and where the watermarks move once they are stored."""

    model: str
    chunks: list[Chunk] = field(default_factory=list)
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)  # meta key -> (from, to)

    def advances(self) -> bool:
        return bool(self.chunks) or any(a != b for a, b in self.marks.values())

    def texts(self) -> list[str]:
        """Every part's text, chunk by chunk: what :func:`store_vectors` wants vectors of."""
        return [p.text for c in self.chunks for p in c.parts]


@dataclass(frozen=True)
class _Source:
    kind: str
    table: str
    key_cols: str  # grouping columns besides the minute
    mark: str

    def key(self, model: str) -> str:
        return f"{self.mark}:{model}"


_SOURCES = (
    _Source(SEEN, "text_spans", 'monitor, app, "window"', "embed_span_id"),
    _Source(HEARD, "transcripts", "source", "embed_transcript_id"),
)


def vector_model(model: str) -> str:
    """What ``chunk_vectors.model`` and the watermarks hold for embedder ``model``: its id and
    the chunk text's definition, so vectors of another definition (or of the bare id, before
    version 2) are stale: every chunk is pending again, and its row is replaced when it is
    re-embedded (:func:`nearest` uses a stale row until then)."""
    return f"{model}/text{CHUNK_TEXT}-{CHUNK_TOKENS}"


def pending(con: duckdb.DuckDBPyConnection, limit: int, *, model: str, now: datetime | None = None) -> Pending:
    """Up to ``limit`` chunks to (re-)embed with their text, screen chunks first."""
    cutoff = _cutoff(now)
    model = vector_model(model)
    batch = Pending(model)
    for src in _SOURCES:
        left = limit - len(batch.chunks)
        mark = _mark(con, src, model)
        keys, to = _pending_keys(con, src, mark, cutoff, left) if left > 0 else ([], mark)
        batch.marks[src.key(model)] = (mark, to)
        batch.chunks += _fill(con, src, keys, model)
    return batch


def backlog(con: duckdb.DuckDBPyConnection, *, model: str, now: datetime | None = None) -> int:
    """Chunks of settled minutes waiting to be embedded (or re-embedded) with ``model``."""
    cutoff = _cutoff(now)
    model = vector_model(model)
    total = 0
    for src in _SOURCES:
        total += one(
            con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT date_trunc('minute', t_start), {src.key_cols}"
                f" FROM {src.table} WHERE id > ? AND t_start < ?)",
                [_mark(con, src, model), cutoff],
            )
        )[0]
    return total


def store_vectors(con: duckdb.DuckDBPyConnection, batch: Pending, vectors) -> int:
    """Replace the batch's chunks' vectors (one per part, in the order of ``batch.texts()``) and
    move the watermarks, unless another embedder moved them since the batch was read (then
    nothing is written: 0). Returns how many chunks were stored."""
    for key, (start, _) in batch.marks.items():
        if int(meta_get(con, key) or 0) != start:
            return 0
    parts = [(c, i, p) for c in batch.chunks for i, p in enumerate(c.parts)]
    floats = _floats(vectors)
    if len(floats) != len(parts):
        raise ValueError(f"{len(floats)} vectors for {len(parts)} parts")
    rows = [
        {
            "chunk_start": c.chunk_start,
            "kind": c.kind,
            "monitor": c.monitor,
            "app": c.app,
            "window": c.window,
            "source": c.source,
            "part": i,
            "line_ids": list(p.line_ids),
            "n_lines": c.n_lines,
            "last_id": c.last_id,
            "scale": scale,
            "vector": q,
        }
        for (c, i, p), (scale, q) in zip(parts, map(quantize, floats))
    ]
    if rows:
        _delete_keys(con, batch)
        con.execute(
            f"INSERT INTO chunk_vectors ({_KEY_COLS}, part, line_ids, model, n_lines, last_id, scale, vector)"
            f" SELECT {_KEY_COLS}, part, line_ids, ?, n_lines, last_id, scale, vector::TINYINT[{DIM}]"
            f" FROM (SELECT unnest(from_json(?, '{_ROW_TYPE}'), recursive := true))",
            [batch.model, to_json_param(rows)],
        )
    for key, (_, to) in batch.marks.items():
        meta_set(con, key, str(to))
    return len(batch.chunks)


def embed_store(
    store,
    embedder,
    *,
    max_chunks: int,
    batch: int = 8,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Embed up to ``max_chunks`` pending chunks of ``store``: each batch is read in a short
    ``store.read()``, embedded outside any transaction, and written in one short ``store.write()``;
    returns how many were stored."""
    done = 0
    while done < max_chunks and not should_stop():
        with store.read() as reader:
            work = reader.pending_chunks(min(batch, max_chunks - done), model=embedder.id, now=now)
        if not work.advances():
            break
        vectors = embedder.passages(work.texts(), max_tokens=CHUNK_TOKENS)
        with store.write() as writer:
            stored = writer.store_vectors(work, vectors)
        done += stored
        if progress is not None:
            progress(stored)
    return done


def nearest(
    con: duckdb.DuckDBPyConnection,
    query_vector,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    k: int = 20,
    model: str | None = None,
    kind: str | None = None,
) -> list[ChunkHit]:
    """The ``k`` parts of chunks overlapping [since, until) most similar to ``query_vector`` (a
    normalised vector from the same model), best first (a chunk may come more than once, for
    several of its parts). Vectors of an older chunk text count
    until their chunk is re-embedded (it then has one row again), so an upgrade re-embedding a
    year oldest first leaves no hole in semantic search meanwhile."""
    conds: list[str] = ["true"]
    params: list[object] = []
    if since is not None:
        conds.append("chunk_start > ?")
        params.append(utc_naive(since) - CHUNK)
    if until is not None:
        conds.append("chunk_start < ?")
        params.append(utc_naive(until))
    if model is not None:  # any chunk text of it: a stale vector serves until its chunk is re-embedded
        conds.append("(model = ? OR starts_with(model, ?))")
        params += [model, model + "/"]
    if kind is not None:
        conds.append("kind = ?")
        params.append(kind)
    rows = con.execute(
        f"SELECT {_KEY_COLS}, part, coalesce(line_ids, []), scale * array_inner_product(vector::FLOAT[{DIM}],"
        f" from_json(?, '[\"FLOAT\"]')::FLOAT[{DIM}]) AS score"
        f" FROM chunk_vectors WHERE {' AND '.join(conds)} ORDER BY score DESC, chunk_start, part LIMIT ?",
        # one JSON parameter: a bound list of 384 floats costs ~27 ms (see db.py on binding)
        [to_json_param(_floats([query_vector])[0]), *params, k],
    ).fetchall()
    return [
        ChunkHit(
            start,
            start + CHUNK,
            kind_,
            monitor if kind_ == SEEN else None,
            app,
            window,
            source,
            float(score),
            part,
            tuple(ids),
        )
        for start, kind_, monitor, app, window, source, part, ids, score in rows
    ]


# -- helpers -------------------------------------------------------------------------------------


def quantize(vector: list[float]) -> tuple[float, list[int]]:
    """``(scale, ints)`` with ``ints * scale`` ≈ ``vector``: int8 per component, one scale per
    vector (its largest magnitude / 127). Cosines move by < 0.01, rankings practically not."""
    scale = max(abs(x) for x in vector) / 127 or 1.0
    return scale, [round(x / scale) for x in vector]


def _floats(vectors) -> list[list[float]]:
    """Rows of a (n, DIM) array (numpy or lists) as lists of floats, checked."""
    rows = [[float(x) for x in v] for v in vectors]
    if any(len(r) != DIM for r in rows):
        raise ValueError(f"chunk vectors must have {DIM} dimensions")
    return rows


def _cutoff(now: datetime | None) -> datetime:
    """Rows that began before this are in settled minutes (ended ``SETTLE_S`` ago or more)."""
    from lifelog.timespec import utcnow

    last = (utc_naive(now) if now is not None else utcnow()) - timedelta(seconds=SETTLE_S) - CHUNK
    return last.replace(second=0, microsecond=0) + CHUNK  # the end of the last settled minute


def _mark(con, src: _Source, model: str) -> int:
    return int(meta_get(con, src.key(model)) or 0)


def _pending_keys(con, src: _Source, mark: int, cutoff: datetime, limit: int) -> tuple[list[tuple], int]:
    """Chunk keys (minute, *key_cols) with rows above ``mark`` in settled minutes, first new
    row first, at most ``limit``; and the watermark once they are stored. Only the next
    ``SCAN_ROWS`` ids are grouped (a chunk's rows past them are read with it all the same),
    so a pass over an upgraded year does not aggregate millions of rows."""
    first = con.execute(f"SELECT min(id) FROM {src.table} WHERE id > ?", [mark]).fetchone()[0]
    if first is None:
        return [], mark
    hi = con.execute(
        f"SELECT coalesce((SELECT min(id) - 1 FROM {src.table} WHERE id > $1 AND id <= $3 AND t_start >= $2),"
        f" (SELECT max(id) FROM {src.table} WHERE id > $1 AND id <= $3))",
        [mark, cutoff, first + SCAN_ROWS - 1],
    ).fetchone()[0]
    keys = con.execute(
        f"SELECT date_trunc('minute', t_start) AS m, {src.key_cols}, min(id) AS first FROM {src.table}"
        f" WHERE id > ? AND id <= ? GROUP BY ALL ORDER BY first LIMIT ?",
        [mark, hi, limit + 1],
    ).fetchall()
    if len(keys) > limit:
        hi = keys[limit][-1] - 1
    return [k[:-1] for k in keys[:limit]], hi


def _fill(con, src: _Source, keys: list[tuple], model: str) -> list[Chunk]:
    """The chunks of ``keys`` with all their rows (old and new), less those stored unchanged."""
    chunks: dict[tuple, Chunk] = {}
    rows: dict[tuple, list[tuple]] = {}
    for minute in sorted({k[0] for k in keys}):
        wanted = {k for k in keys if k[0] == minute}
        for row in _minute_rows(con, src, minute):
            key = (minute, *row[:-3])
            if key not in wanted:
                continue
            if key not in chunks:
                chunks[key] = _new_chunk(src, key)
                rows[key] = []
            chunk = chunks[key]
            chunk.n_lines += 1
            chunk.last_id = max(chunk.last_id, row[-3])
            rows[key].append(row[-3:])
    stored = _stored_last_ids(con, [c for c in chunks.values()], model)
    for key, c in chunks.items():
        if src.kind == SEEN:
            c.parts = parts(rows[key], title=" — ".join(p for p in (c.app, c.window) if p))
        else:
            text = chunk_text([r[2] for r in rows[key]])
            c.parts = [Part(text)] if text else []
    return [c for c in chunks.values() if c.parts and stored.get(c.key()) != (c.last_id, c.n_lines)]


def parts(rows: list[tuple], *, title: str = "") -> list[Part]:
    """The parts a chunk seen is embedded in, from its rows ``(id, t_start, text)`` in window
    order: its units (a new one where the layout marks one, the text starting with a newline,
    or where the next line appeared at another moment), each distinct line once; a unit shorter
    than ``MIN_PART_CHARS`` goes with the next (the last with the one before), one longer than
    ``PART_CHARS`` is cut at a line;
    at most ``MAX_PARTS``. The window's title leads the first part (its topic, when it has one)."""
    out: list[Part] = []
    lines: list[str] = []
    ids: list[int] = []
    seen: set[str] = set()
    size = 0

    def close() -> None:
        nonlocal size
        if lines:
            out.append(Part("\n".join(lines), tuple(ids)))
        lines.clear()
        ids.clear()
        size = 0

    last_t = None
    for id_, t, raw in rows:
        if len(out) == MAX_PARTS:
            break
        text = raw.strip()
        new_unit = raw.startswith("\n") or (last_t is not None and t != last_t)
        last_t = t
        if new_unit and size >= MIN_PART_CHARS:
            close()
        if not text or text in seen:
            continue
        seen.add(text)
        if size and size + len(text) > PART_CHARS:
            close()
        if not out and not lines and title:
            lines.append(title)
        lines.append(text)
        ids.append(id_)
        size += len(text) + 1
    if lines and size < MIN_PART_CHARS and out and len(out[-1].text) + size <= PART_CHARS:
        last = out.pop()  # a short last unit has no next: it goes with the one before
        lines[:0], ids[:0] = last.text.split("\n"), list(last.line_ids)
    if len(out) < MAX_PARTS:
        close()
    return out


def chunk_text(lines: list[str]) -> str:
    """What is embedded for a chunk of speech: its lines in order, each distinct line once,
    joined by spaces. The embedder then cuts it to ``CHUNK_TOKENS``."""
    return " ".join(line for line in dict.fromkeys(line.strip() for line in lines) if line)


def _minute_rows(con, src: _Source, minute: datetime) -> list[tuple]:
    """``(*key_cols, id, t_start, text)`` of the rows begun in ``minute``, in window order; a
    line seen with what goes before it when shown (a newline where a unit begins)."""
    order, text = (
        ('t_start, ord, top, "left", id', "coalesce(lead, '') || text") if src.kind == SEEN else ("t_start, id", "text")
    )
    return con.execute(
        f"SELECT {src.key_cols}, id, t_start, {text} FROM {src.table} WHERE t_start >= ? AND t_start < ? ORDER BY {order}",
        [minute, minute + CHUNK],
    ).fetchall()


def _new_chunk(src: _Source, key: tuple) -> Chunk:
    if src.kind == SEEN:
        minute, monitor, app, window = key
        return Chunk(minute, SEEN, monitor, app, window, "")
    minute, source = key
    return Chunk(minute, HEARD, -1, "", "", source)


def _stored_last_ids(con, chunks: list[Chunk], model: str) -> dict[tuple, tuple[int, int]]:
    if not chunks:
        return {}
    starts = [c.chunk_start for c in chunks]
    rows = con.execute(
        f"SELECT {_KEY_COLS}, last_id, n_lines FROM chunk_vectors WHERE model = ? AND chunk_start BETWEEN ? AND ?",
        [model, min(starts), max(starts)],
    ).fetchall()
    return {tuple(r[:6]): (r[6], r[7]) for r in rows}


def _delete_keys(con, batch: Pending) -> None:
    keys = [
        {
            "chunk_start": c.chunk_start,
            "kind": c.kind,
            "monitor": c.monitor,
            "app": c.app,
            "window": c.window,
            "source": c.source,
        }
        for c in batch.chunks
    ]
    starts = [c.chunk_start for c in batch.chunks]
    con.execute(  # this model's rows of these chunks, of any chunk text (stale ones go as they are replaced)
        f"DELETE FROM chunk_vectors WHERE split_part(model, '/', 1) = ? AND chunk_start BETWEEN ? AND ?"
        f" AND ({_KEY_COLS}) IN (SELECT ({_KEY_COLS})"
        f" FROM (SELECT unnest(from_json(?, '{_KEY_TYPE}'), recursive := true)))",
        [batch.model.split("/")[0], min(starts), max(starts), to_json_param(keys)],
    )
