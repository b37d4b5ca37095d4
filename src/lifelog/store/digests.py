"""Digests kept in the timeline (issue 22): a short account of each hour, day and week, made
from the lines and speech of its range (``replay/digest.py`` writes them), so a window over
months says what happened in older time, not only how long each window was open.

One table, ``digests`` (migration 12): per level (``hour``, ``day``, ``week``) and start, the
text shown in a window, what it was made from as JSON (each line chosen with its moment,
window or speaker, so a reader can go back to it), the model that wrote it (``extractive``
without one), its o200k token count, and its *basis*: a fingerprint of what it was made from.

A digest is made again only when its basis changes:

* an hour's basis is its summary in ``hour_totals`` (lines, stored tokens, first and last start
  per kind; ``store/hours.py`` recomputes that whenever a line of a past hour is added, changed
  or deleted), so only summarised hours (before the watermark) are digested;
* a day's basis is the text of its hour digests, a week's the text of its day digests, so a
  changed hour carries up to its day and week, and nothing else is recomputed.

Privacy: a digest holds text of its range. Whenever lines of past hours change
(``hours.refresh_hours``: forget, a rewrite, an import, a late line) or a voice is renamed, the
digests of those hours and of the days and weeks holding them are deleted in the same
transaction (:func:`drop_hours`), so forgotten text never outlives its lines in a digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from lifelog.store import voices
from lifelog.store.sql import utc_naive, where

LEVELS = ("hour", "day", "week")
SPAN = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
HOUR_BASIS = (
    "md5(string_agg(kind || ':' || lines || ':' || tokens || ':' || coalesce(first::VARCHAR, '') || ':'"
    " || coalesce(last::VARCHAR, ''), ';' ORDER BY kind))"
)


@dataclass
class Digest:
    """One digest as stored."""

    level: str
    start: datetime
    end: datetime
    text: str
    sources: dict = field(default_factory=dict)  # {"lines": [...], "places": [...], "heard": [...]}
    model: str = "extractive"
    tokens: int = 0
    basis: str = ""
    made_at: datetime | None = None

    def json(self) -> dict:
        return {
            "level": self.level,
            "start": self.start.isoformat() + "Z",
            "end": self.end.isoformat() + "Z",
            "text": self.text,
            "sources": self.sources,
            "model": self.model,
            "tokens": self.tokens,
            "made_at": self.made_at.isoformat() + "Z" if self.made_at else None,
        }


@dataclass(frozen=True)
class HourMaterial:
    """What an hour's digest is made from: the lines that began in it, its speech, and where
    its time went (from the hour's summary)."""

    hour: datetime
    basis: str
    seen: list[tuple]  # (t_start, t_end, monitor, app, window, text), in time then reading order
    heard: list[tuple]  # (t_start, t_end, source, speaker label or '', text)
    places: list[tuple]  # (app, window, seconds), most time first


def create_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE digests (
            level   VARCHAR   NOT NULL,   -- hour, day or week
            start   TIMESTAMP NOT NULL,   -- UTC; a week starts on Monday
            "end"   TIMESTAMP NOT NULL,
            text    VARCHAR   NOT NULL,   -- as shown in a window
            sources VARCHAR   NOT NULL,   -- JSON: lines chosen (each with its moment), places, voices
            model   VARCHAR   NOT NULL,   -- 'extractive', or the model that wrote it
            tokens  INTEGER   NOT NULL,   -- o200k count of text
            basis   VARCHAR   NOT NULL,   -- fingerprint of what it was made from
            made_at TIMESTAMP NOT NULL
        )
    """)


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()"
            " AND table_schema = 'main' AND table_name = 'digests'"
        ).fetchone()[0]  # type: ignore[index]
    )


# -- what is due ------------------------------------------------------------------------------


def due_hours(
    con: duckdb.DuckDBPyConnection, upto: datetime | None, since: datetime | None = None, writer: str = ""
) -> list[tuple]:
    """``(hour, basis)`` of the summarised hours before ``upto`` (the watermark) from ``since``
    on whose digest is missing, was made from something else, or by another writer than
    ``writer`` (a model's name; "" extractive), newest first."""
    if upto is None:
        return []
    conds, params = ["hour < ?"], [utc_naive(upto)]
    if since is not None:
        conds.append("hour >= ?")
        params.append(utc_naive(since).replace(minute=0, second=0, microsecond=0))
    return con.execute(
        f"WITH b AS (SELECT hour, {HOUR_BASIS} AS basis FROM hour_totals{where(conds)} GROUP BY hour)"
        " SELECT b.hour, b.basis FROM b LEFT JOIN digests d ON d.level = 'hour' AND d.start = b.hour"
        " WHERE d.basis IS DISTINCT FROM b.basis || ? ORDER BY b.hour DESC",
        [*params, suffix(writer)],
    ).fetchall()


def hour_basis(con: duckdb.DuckDBPyConnection, hour: datetime) -> str | None:
    row = con.execute(f"SELECT {HOUR_BASIS} FROM hour_totals WHERE hour = ?", [hour]).fetchone()
    return row[0] if row else None


def backlog(con: duckdb.DuckDBPyConnection, upto: datetime | None, writer: str = "") -> int:
    """How many summarised hours wait for a digest (``lifelog status``)."""
    return len(due_hours(con, upto, writer=writer)) if _exists(con) else 0


def suffix(writer: str) -> str:
    """What a digest's basis ends with for ``writer``: a model's digests are due again when
    the model changes, and all of them when digests turn extractive again."""
    return f"|{writer}" if writer else ""


def material(con: duckdb.DuckDBPyConnection, hour: datetime, basis: str) -> HourMaterial:
    end = hour + SPAN["hour"]
    seen = con.execute(
        'SELECT t_start, t_end, monitor, app, "window", text FROM text_spans WHERE t_start >= ? AND t_start < ?'
        ' ORDER BY t_start, ord, top, "left", id',
        [hour, end],
    ).fetchall()
    heard = con.execute(
        f"SELECT t_start, t_end, source, coalesce({voices.label_of('transcripts.speaker')}, ''), text FROM transcripts"
        " WHERE t_start >= ? AND t_start < ? ORDER BY t_start, id",
        [hour, end],
    ).fetchall()
    places = con.execute(
        'SELECT app, "window", sum(seconds) AS s FROM hour_seen WHERE hour = ? GROUP BY app, "window"'
        ' ORDER BY s DESC, app, "window"',
        [hour],
    ).fetchall()
    return HourMaterial(hour, basis, seen, heard, places)


def due_above(con: duckdb.DuckDBPyConnection, level: str, starts: Iterable[datetime], writer: str = "") -> list[tuple]:
    """For each ``level`` (day or week) range starting at one of ``starts``: ``(start, basis,
    digests below)`` where its digest is missing or its basis (the text of the digests one
    level below, in order) changed. The digests below are :class:`Digest`\\ s."""
    below = LEVELS[LEVELS.index(level) - 1]
    out = []
    for start in sorted(set(starts)):
        parts = between(con, start, start + SPAN[level], below)
        if not parts:
            continue
        basis = text_basis(parts) + suffix(writer)
        row = con.execute("SELECT basis FROM digests WHERE level = ? AND start = ?", [level, start]).fetchone()
        if row is None or row[0] != basis:
            out.append((start, basis, parts))
    return out


def text_basis(parts: list[Digest]) -> str:
    """The basis of a day or week (without a writer's mark): the text of its digests one level below."""
    return hashlib.md5("\x1e".join(d.text for d in parts).encode()).hexdigest()


def start_of(ts: datetime, level: str) -> datetime:
    ts = utc_naive(ts)
    if level == "hour":
        return ts.replace(minute=0, second=0, microsecond=0)
    day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday()) if level == "week" else day


# -- writing and reading ----------------------------------------------------------------------


def put(con: duckdb.DuckDBPyConnection, digest: Digest, made_at: datetime | None = None) -> None:
    """Store ``digest`` in place of the one of its level and start, made now (or at ``made_at``)."""
    con.execute("DELETE FROM digests WHERE level = ? AND start = ?", [digest.level, digest.start])
    con.execute(
        'INSERT INTO digests (level, start, "end", text, sources, model, tokens, basis, made_at)'
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            digest.level,
            digest.start,
            digest.end,
            digest.text,
            json.dumps(digest.sources, ensure_ascii=False, default=str),
            digest.model,
            digest.tokens,
            digest.basis,
            made_at or datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def between(
    con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None, level: str | None = None
) -> list[Digest]:
    """The digests that start in [since, until) (of ``level``, or every level), by start."""
    conds: list[str] = []
    params: list = []
    if since is not None:
        conds.append("start >= ?")
        params.append(utc_naive(since))
    if until is not None:
        conds.append("start < ?")
        params.append(utc_naive(until))
    if level is not None:
        conds.append("level = ?")
        params.append(level)
    rows = con.execute(
        f'SELECT level, start, "end", text, sources, model, tokens, basis, made_at FROM digests{where(conds)}'
        " ORDER BY start, level",
        params,
    ).fetchall()
    return [Digest(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8]) for r in rows]


def drop_hours(con: duckdb.DuckDBPyConnection, hours: Iterable[datetime]) -> int:
    """Delete the digests of ``hours`` and of the days and weeks holding them (their text may
    hold what changed or was forgotten); returns how many went."""
    hours = sorted({start_of(h, "hour") for h in hours})
    if not hours or not _exists(con):
        return 0
    starts = {(level, start_of(h, level)) for h in hours for level in LEVELS}
    gone = con.execute(
        "DELETE FROM digests WHERE (level, start) IN (SELECT unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[])) RETURNING 1",
        [[lv for lv, _ in starts], [s for _, s in starts]],
    ).fetchall()
    return len(gone)


def missing_above(con: duckdb.DuckDBPyConnection, level: str, since: datetime | None = None) -> list[datetime]:
    """Starts of the days (or weeks) that hold digests one level below but none of their own."""
    below = LEVELS[LEVELS.index(level) - 1]
    conds, params = ["level = ?"], [below]  # type: list[str], list
    if since is not None:
        conds.append("start >= ?")
        params.append(start_of(since, level))
    rows = con.execute(  # (DuckDB's date_trunc starts a week on Monday, as start_of does)
        f"SELECT DISTINCT date_trunc('{level}', start) AS s FROM digests{where(conds)}"
        " EXCEPT SELECT start FROM digests WHERE level = ? ORDER BY s",
        [*params, level],
    ).fetchall()
    return [r[0] for r in rows]


def voice_hours(con: duckdb.DuckDBPyConnection, voice_id: int) -> list[datetime]:
    """The hours in which a voice spoke (its digests name it)."""
    rows = con.execute(
        "SELECT DISTINCT date_trunc('hour', t_start) FROM transcripts WHERE speaker = ?", [voice_id]
    ).fetchall()
    return [r[0] for r in rows]
