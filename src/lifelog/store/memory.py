"""Digests and lessons in and out of a timeline file (the optional ``digest`` and ``lesson`` rows
of ``api/jsonl.py``), beside ``exchange.py``'s lines.

Rows are plain tuples, as ``exchange`` has them:

* ``digest``: ``(level, start, end, text, sources, model, basis, made_at)``, ``sources`` the
  stored JSON text (or None for none), ``made_at`` None when not known;
* ``lesson``: ``(created, updated, text, sources, model)``, ``sources`` JSON text of a list.

A lesson is known by its text: one kept already, or earlier in the rows, is skipped, so an
import is idempotent. A digest says what the lines of its range hold, so it is kept only where
it still does: its basis (less its writer's mark, ``digests.suffix``) must be the one this
timeline now has for its range; one whose range holds other lines here (another machine's too, a
forget) is stale and left out, for the digester to make again. A digest of the same level and
start that is current already stays (the first one wins).
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from lifelog.store import digests, hours, lessons, tokens
from lifelog.store.sql import utc_naive, where


def digest_rows(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> list[tuple]:
    """The digests that start in [since, until) as rows, by start, hour before day before week."""
    found = digests.between(con, since, until)
    found.sort(key=lambda d: (d.start, digests.LEVELS.index(d.level)))
    return [
        (
            d.level,
            d.start,
            d.end,
            d.text,
            json.dumps(d.sources, ensure_ascii=False, default=str) if d.sources else None,
            d.model,
            d.basis,
            d.made_at,
        )
        for d in found
    ]


def lesson_rows(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> list[tuple]:
    """The lessons made in [since, until) as rows, by when made, then text."""
    conds, params = [], []
    if since is not None:
        conds.append("created >= ?")
        params.append(utc_naive(since))
    if until is not None:
        conds.append("created < ?")
        params.append(utc_naive(until))
    rows = con.execute(
        f"SELECT created, updated, text, sources, model FROM lessons{where(conds)} ORDER BY created, text, id", params
    ).fetchall()
    return [(c, u, t, None if s in ("", "[]") else s, m) for c, u, t, s, m in rows]


def merge_lessons(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> list[int]:
    """Insert the lessons whose text is not kept yet (nor earlier in ``rows``), in the caller's
    transaction; the ids inserted, in order."""
    known = {t for (t,) in con.execute("SELECT text FROM lessons").fetchall()}
    ids = []
    for created, updated, text, sources, model in rows:
        text = lessons.clean(text)
        if text in known:
            continue
        known.add(text)
        (lid,) = con.execute(
            "INSERT INTO lessons (text, sources, model, created, updated) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [text, sources or "[]", model, created, updated or created],
        ).fetchone()  # type: ignore[misc]
        ids.append(lid)
    return ids


def remove_lessons(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> int:
    """Delete the lessons with ids ``lo..hi`` (an import taken back); how many went."""
    return len(con.execute("DELETE FROM lessons WHERE id BETWEEN ? AND ? RETURNING 1", [lo, hi]).fetchall())


def merge_digests(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> tuple[int, int]:
    """Keep the digests that say what this timeline now holds (hours first, so a day's basis
    sees the hours kept), in the caller's transaction, after the lines were merged and their
    hours summarised (``hours.advance`` is run first: an hour is digested once summarised).
    Returns ``(kept, stale)``; the rest were there already."""
    hours.advance(con)
    kept = stale = 0
    order = sorted(rows, key=lambda r: (digests.LEVELS.index(r[0]), utc_naive(r[1])))
    for level, start, end, text, sources, model, basis, made_at in order:
        start, end = utc_naive(start), utc_naive(end)
        base = _basis_here(con, level, start) if start == digests.start_of(start, level) else None
        if base is None or end != start + digests.SPAN[level] or _made_from(basis) != base:
            stale += 1
            continue
        there = con.execute("SELECT basis FROM digests WHERE level = ? AND start = ?", [level, start]).fetchone()
        if there is not None and _made_from(there[0]) == base:
            continue  # a current digest of this range is kept already
        digests.put(
            con,
            digests.Digest(
                level,
                start,
                end,
                text,
                json.loads(sources) if sources else {},
                model,
                tokens.count_many([text])[0],
                basis,
            ),
            made_at=utc_naive(made_at) if made_at else None,
        )
        kept += 1
    return kept, stale


def _basis_here(con: duckdb.DuckDBPyConnection, level: str, start: datetime) -> str | None:
    """This timeline's basis for the range (without a writer's mark), None when it has none: an
    hour not summarised, a day or week without digests below."""
    if level == "hour":
        return digests.hour_basis(con, start)
    below = digests.LEVELS[digests.LEVELS.index(level) - 1]
    parts = digests.between(con, start, start + digests.SPAN[level], below)
    return digests.text_basis(parts) if parts else None


def _made_from(basis: str) -> str:
    """A basis without its writer's mark (``|model``: the model asked to write it)."""
    return basis.partition("|")[0]
