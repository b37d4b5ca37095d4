"""SQL fragments and row mapping shared by the reader, the writer and search.

Only fixed SQL text lives in strings; every value, user input above all, is a parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

import duckdb

from lifelog.models import TextSpan, Transcript

SPAN_COLUMNS = 'id, t_start, t_end, monitor, app, "window", text, top, "left", frame_id'
TRANSCRIPT_COLUMNS = (
    "id, t_start, t_end, source, engine, text, tokens, chunk_id, language,"
    " (SELECT coalesce(v.name, 'Speaker ' || v.id) FROM voices v WHERE v.id = transcripts.speaker)"
)


@dataclass(frozen=True)
class Corpus:
    """A searchable table: text seen (spans) or heard (transcripts), each with its own postings."""

    kind: str  # SearchHit.kind of its rows: "seen" or "heard"
    table: str
    columns: str  # its columns as read into rows, id first, t_start second
    has_app: bool  # whether rows carry an app name (search's app= filter keeps only these)

    @property
    def postings(self) -> str:
        """Sorted runs of postings (see ``store/search_index.py``)."""
        return f"{self.table}_postings"

    @property
    def tail(self) -> str:
        """Postings of the newest rows, in the order they were added."""
        return f"{self.table}_postings_tail"


SPANS = Corpus("seen", "text_spans", SPAN_COLUMNS, has_app=True)
TRANSCRIPTS = Corpus("heard", "transcripts", TRANSCRIPT_COLUMNS, has_app=False)
CORPORA = (SPANS, TRANSCRIPTS)


@overload
def utc_naive(ts: datetime) -> datetime: ...
@overload
def utc_naive(ts: None) -> None: ...
@overload
def utc_naive(ts: datetime | None) -> datetime | None: ...
def utc_naive(ts: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC; convert an aware one, pass a naive one through."""
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def one(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, a ``RETURNING`` count)."""
    row = result.fetchone()
    if row is None:
        raise duckdb.Error("a query that returns one row returned none")
    return row


def to_json_param(value: object) -> str:
    """One JSON parameter instead of many bound values (binding costs ~0.15 ms a value)."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return utc_naive(value).isoformat(sep=" ")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def ids_filter(column: str = "id") -> str:
    """A filter on ``column`` against a JSON id list given as three parameters (min, max, list).

    The BETWEEN lets DuckDB skip row groups by their min/max before checking the list.
    """
    return f"{column} BETWEEN ? AND ? AND list_contains(from_json(?, '[\"BIGINT\"]'), {column})"


def ids_params(ids: list[int]) -> list:
    return [min(ids), max(ids), to_json_param(ids)]


def time_range(since: datetime | None, until: datetime | None, start: str, end: str) -> tuple[list[str], list]:
    """Conditions for rows overlapping [since, until): ``end >= since AND start < until``."""
    conds, params = [], []
    if since is not None:
        conds.append(f"{end} >= ?")
        params.append(utc_naive(since))
    if until is not None:
        conds.append(f"{start} < ?")
        params.append(utc_naive(until))
    return conds, params


def where(conds: list[str]) -> str:
    return " WHERE " + " AND ".join(conds) if conds else ""


def span_from_row(row: tuple) -> TextSpan:
    id_, t_start, t_end, monitor, app, window, text, top, left, frame_id = row[:10]
    return TextSpan(
        t_start=t_start,
        t_end=t_end,
        monitor=monitor,
        app=app,
        window=window,
        text=text,
        top=top,
        left=left,
        frame_id=frame_id,
        id=id_,
    )


def transcript_from_row(row: tuple) -> Transcript:
    id_, t_start, t_end, source, engine, text, tokens, chunk_id, language, speaker = row[:10]
    return Transcript(
        t_start=t_start,
        t_end=t_end,
        source=source,
        engine=engine,
        text=text,
        tokens=tokens,
        chunk_id=chunk_id,
        id=id_,
        language=language or "",
        speaker=speaker or "",
    )


def meta_get(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def meta_set(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])
