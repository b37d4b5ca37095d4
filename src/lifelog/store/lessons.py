"""Lessons (issue 22): short notes on what to do next time, kept in the timeline and placed first
in a window (``context --lessons``, ``ask``), written by hand (``lessons add``) or by a model
reviewing a range (``lessons reflect``), each with the moments it came from.

One table, ``lessons`` (migration 13): id, text, sources (JSON), the model that wrote it ('' by
hand), when it was made and last changed. Listed in id order, so the block they make in a window
is the same bytes call after call until a lesson changes (provider prompt caches hit).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from lifelog.errors import UsageError

MAX_CHARS = 500  # a lesson is one or two sentences


def clean(text: str) -> str:
    """A lesson's text on one line; UsageError for none or too long."""
    text = " ".join(str(text).split())
    if not text:
        raise UsageError("Empty lesson: say what to do (or not) next time.")
    if len(text) > MAX_CHARS:
        raise UsageError(
            f"A lesson is at most {MAX_CHARS} characters (this one has {len(text)}): keep it to a sentence or two."
        )
    return text


def add(con: duckdb.DuckDBPyConnection, text: str, sources: list[dict] | None = None, model: str = "") -> dict:
    now = datetime.now(UTC).replace(tzinfo=None)
    (lid,) = con.execute(
        "INSERT INTO lessons (text, sources, model, created, updated) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [clean(text), json.dumps(sources or [], ensure_ascii=False), model, now, now],
    ).fetchone()  # type: ignore[misc]
    return get(con, lid)


def get(con: duckdb.DuckDBPyConnection, lesson_id: int) -> dict:
    row = con.execute(
        "SELECT id, text, sources, model, created, updated FROM lessons WHERE id = ?", [lesson_id]
    ).fetchone()
    if row is None:
        raise UsageError(f"No lesson {lesson_id} (`lifelog lessons` lists them).")
    return _json(row)


def listing(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute("SELECT id, text, sources, model, created, updated FROM lessons ORDER BY id").fetchall()
    return [_json(r) for r in rows]


def edit(con: duckdb.DuckDBPyConnection, lesson_id: int, text: str) -> dict:
    get(con, lesson_id)
    con.execute(
        "UPDATE lessons SET text = ?, updated = ? WHERE id = ?",
        [clean(text), datetime.now(UTC).replace(tzinfo=None), lesson_id],
    )
    return get(con, lesson_id)


def remove(con: duckdb.DuckDBPyConnection, lesson_id: int) -> dict:
    gone = get(con, lesson_id)
    con.execute("DELETE FROM lessons WHERE id = ?", [lesson_id])
    return gone


def block(lessons: list[dict]) -> str:
    """The lessons as a window's first block (Markdown), '' for none: the same bytes while they
    stay the same."""
    if not lessons:
        return ""
    return "## Lessons (kept first; from earlier work)\n\n" + "\n".join(f"- {x['text']}" for x in lessons) + "\n\n"


def _json(row: tuple) -> dict:
    lid, text, sources, model, created, updated = row
    return {
        "id": lid,
        "text": text,
        "sources": json.loads(sources),
        "model": model or None,
        "created": created.isoformat() + "Z",
        "updated": updated.isoformat() + "Z",
    }
