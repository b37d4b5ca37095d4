"""Forget: take rows out of the timeline by time range, app, window title or text, with all
that was derived from them, in ONE transaction.

What goes, for a :class:`Selection` (its criteria combine: AND):

* text seen (``text_spans``) overlapping the range, of the app, under a matching window title,
  or whose text or window title holds the text; text heard (``transcripts``) overlapping the
  range or holding the text (a transcript has no app or title, so ``app``/``title`` leave it);
* their search postings (``search_index``: rows out, document counts down), the vectors of
  the chunks they were in (``embeddings``), and the summaries of the hours they began in,
  recomputed (``hours.refresh_hours``), app names nothing is filed under any more;
* frames taken in the range, of the app, under a matching title or with the text in their
  title, and every frame that may show a forgotten line: on its monitor, while it was seen
  (from its start until its end, the moment it was gone). A stored frame rebuilds the whole
  screen (``images.py``), so every one of them shows it, whatever region changed; a line
  keeps only its top-left corner, too little to black out just its box. Their image files
  are returned, for the caller to delete after the commit (the frame store rebuilds a kept
  frame that was built on a deleted one as a whole screen);
* audio chunks overlapping the range (time alone) or that a forgotten transcript was heard
  in, and their audio files (returned likewise);
* events: in a time range alone, the events in it, replaced by one ``gap`` event whose
  reason is ``forgotten`` (a context window then says so); with a text or title, the
  details of events that hold it are cleared.

DuckDB keeps deleted rows in free blocks and in the WAL: a caller that wants the bytes gone
rewrites the file afterwards (``rewrite.py``). Every SQL string stays in this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

import duckdb

from lifelog.errors import UsageError
from lifelog.store import hours, voices
from lifelog.store.sql import CORPORA, utc_naive, where

_TEMP = {
    "spans": "forget_spans",
    "heard": "forget_heard",
    "frames": "forget_frames",
    "chunks": "forget_chunks",
    "events": "forget_events",
}


@dataclass(frozen=True)
class Selection:
    """What to forget; None leaves a criterion out. ``title`` is a regular expression on window
    titles, ``matching`` a text matched case-insensitively; times are naive UTC."""

    since: datetime | None = None
    until: datetime | None = None
    app: str | None = None
    title: str | None = None
    matching: str | None = None

    def check(self) -> Selection:
        if not any(v not in (None, "") for v in asdict(self).values()):
            raise UsageError("Say what to forget: --last, --since/--until, --app, --title or --matching.")
        if self.since and self.until and self.until <= self.since:
            raise UsageError("--until must be after --since.")
        if self.matching is not None and not self.matching.strip():
            raise UsageError("--matching needs some text to look for.")
        if self.title is not None:
            try:
                re.compile(self.title)
            except re.error as exc:
                raise UsageError(f"Bad --title regular expression {self.title!r}: {exc}.") from None
        return self

    @property
    def timed_only(self) -> bool:
        return self.app is None and self.title is None and self.matching is None

    def as_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict) -> Selection:
        times = {k: datetime.fromisoformat(d[k]) if d.get(k) else None for k in ("since", "until")}
        return cls(**times, app=d.get("app"), title=d.get("title"), matching=d.get("matching"))


@dataclass
class Report:
    """What was (or, in a dry run, would be) forgotten."""

    lines: int = 0
    transcripts: int = 0
    frames: int = 0
    audio_chunks: int = 0
    events: int = 0
    vectors: int = 0
    hours: int = 0
    voices: int = 0  # voices none of whose speech is left, removed with their embeddings
    frame_refs: list[str] = field(default_factory=list)
    audio_refs: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.lines + self.transcripts + self.frames + self.audio_chunks + self.events + self.vectors


def forget(
    con: duckdb.DuckDBPyConnection,
    sel: Selection,
    *,
    apply: bool = True,
    staged: Callable[[Report], None] | None = None,
) -> Report:
    """Find what ``sel`` selects and, with ``apply``, delete it, in the caller's transaction;
    ``staged`` is told what goes before anything is deleted (to note the files to delete)."""
    try:
        _stage(con, sel)
        report = _count(con)
        if apply and report.rows:
            if staged is not None:
                staged(report)
            report.vectors = _delete_vectors(con, sel)
            _delete(con, sel)
            report.hours = hours.refresh_hours(con, _touched_hours(con))
            _drop_unused_apps(con)
            report.voices = voices.prune(con)  # a voice's embedding goes with the last of its speech
        elif not apply:
            report.vectors = _count_vectors(con, sel)
        return report
    except duckdb.InvalidInputException as exc:  # RE2 refused a pattern Python accepted
        raise UsageError(f"Bad --title regular expression {sel.title!r}: {exc}.") from None
    finally:
        for table in _TEMP.values():
            con.execute(f"DROP TABLE IF EXISTS temp.{table}")


# -- what goes ------------------------------------------------------------------------------


def _stage(con, sel: Selection) -> None:
    """One temporary table per kind of row, holding what goes (ids and what the rest needs)."""
    conds, params = _span_conds(sel)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_TEMP['spans']} AS SELECT id, t_start, t_end, monitor, top,"
        f' "left", app, "window" FROM text_spans{where(conds)}',
        params,
    )
    conds, params = _heard_conds(sel)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_TEMP['heard']} AS SELECT id, t_start, source, chunk_id"
        f" FROM transcripts{where(conds)}",
        params,
    )
    _stage_frames(con, sel)
    _stage_chunks(con, sel)
    _stage_events(con, sel)


def _span_conds(sel: Selection) -> tuple[list[str], list]:
    conds, params = _overlap(sel, "t_start", "t_end")
    conds, params = _who(sel, conds, params)
    if sel.matching is not None:
        conds.append('(contains(lower(text), ?) OR contains(lower("window"), ?))')
        params += [sel.matching.lower()] * 2
    return conds, params


def _heard_conds(sel: Selection) -> tuple[list[str], list]:
    if sel.app is not None or sel.title is not None:
        return ["false"], []
    conds, params = _overlap(sel, "t_start", "t_end")
    if sel.matching is not None:
        conds.append("contains(lower(text), ?)")
        params.append(sel.matching.lower())
    return conds, params


def _stage_frames(con, sel: Selection) -> None:
    """Frames selected themselves, and (unless the range alone selects) those that may show a
    forgotten line, within the range."""
    conds, params = _overlap(sel, "ts", "ts")
    conds, params = _who(sel, conds, params)
    if sel.matching is not None:
        conds.append('contains(lower("window"), ?)')
        params.append(sel.matching.lower())
    sql = f"SELECT id, image_ref FROM frames{where(conds)}"
    if not sel.timed_only:
        within, more = _overlap(sel, "f.ts", "f.ts")
        sql += (
            f" UNION SELECT f.id, f.image_ref FROM frames f JOIN {_TEMP['spans']} s"
            " ON f.monitor = s.monitor AND f.ts >= s.t_start AND (f.ts < s.t_end OR f.ts = s.t_start)"
            + "".join(f" AND {c}" for c in within)
        )
        params = [*params, *more]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TEMP['frames']} AS {sql}", params)


def _stage_chunks(con, sel: Selection) -> None:
    """Audio chunks a forgotten transcript was heard in; with the range alone, all in it."""
    sql = f"SELECT id, audio_ref FROM audio_chunks WHERE id IN (SELECT chunk_id FROM {_TEMP['heard']})"
    params: list = []
    if sel.timed_only:
        conds, params = _overlap(sel, "t_start", "t_end")
        sql += f" UNION SELECT id, audio_ref FROM audio_chunks{where(conds)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TEMP['chunks']} AS {sql}", params)


def _stage_events(con, sel: Selection) -> None:
    """Events in a range alone (they go), or whose details hold the text or title (cleared)."""
    conds, params = _overlap(sel, "ts", "ts")
    if sel.timed_only:
        pass
    elif sel.matching is not None or sel.title is not None:
        conds.append("detail IS NOT NULL")
        if sel.matching is not None:
            conds.append("contains(lower(detail), ?)")
            params.append(sel.matching.lower())
        if sel.title is not None:
            conds.append("regexp_matches(detail, ?)")
            params.append(sel.title)
    else:
        conds.append("false")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TEMP['events']} AS SELECT id FROM events{where(conds)}", params)


def _overlap(sel: Selection, start: str, end: str) -> tuple[list[str], list]:
    """Rows overlapping [since, until): ``end >= since AND start < until``."""
    conds, params = [], []
    if sel.since is not None:
        conds.append(f"{end} >= ?")
        params.append(utc_naive(sel.since))
    if sel.until is not None:
        conds.append(f"{start} < ?")
        params.append(utc_naive(sel.until))
    return conds, params


def _who(sel: Selection, conds: list[str], params: list) -> tuple[list[str], list]:
    """The app (its name, any case) and the window title (a regular expression)."""
    if sel.app is not None:
        conds, params = [*conds, "lower(app) = ?"], [*params, sel.app.lower()]
    if sel.title is not None:
        conds, params = [*conds, 'regexp_matches("window", ?)'], [*params, sel.title]
    return conds, params


def _count(con) -> Report:
    n = {k: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for k, t in _TEMP.items()}
    frame_refs = [
        r[0] for r in con.execute(f"SELECT image_ref FROM {_TEMP['frames']} WHERE image_ref <> ''").fetchall()
    ]
    audio_refs = [
        r[0] for r in con.execute(f"SELECT audio_ref FROM {_TEMP['chunks']} WHERE audio_ref <> ''").fetchall()
    ]
    return Report(
        lines=n["spans"],
        transcripts=n["heard"],
        frames=n["frames"],
        audio_chunks=n["chunks"],
        events=n["events"],
        frame_refs=frame_refs,
        audio_refs=audio_refs,
    )


# -- deleting ---------------------------------------------------------------------------------

_VECTOR_KEYS = (
    f"SELECT DISTINCT date_trunc('minute', t_start), 'seen', monitor, app, \"window\", '' FROM {_TEMP['spans']}"
    f" UNION SELECT DISTINCT date_trunc('minute', t_start), 'heard', -1, '', '', source FROM {_TEMP['heard']}"
)
_VECTOR_COLS = 'chunk_start, kind, monitor, app, "window", source'


def _vector_conds(sel: Selection) -> tuple[str, list]:
    """Chunk vectors of forgotten rows, and those of a forgotten app, title or text (in range)."""
    conds, params = [f"({_VECTOR_COLS}) IN ({_VECTOR_KEYS})"], []
    extra: list[str] = []
    more: list = []
    if sel.app is not None or sel.title is not None or sel.matching is not None:
        extra, more = _who(sel, [], [])
        if sel.matching is not None:
            extra.append('contains(lower("window"), ?)')
            more.append(sel.matching.lower())
        within, w_params = _overlap(sel, "chunk_start", "chunk_start")
        extra, more = [*extra, *within], [*more, *w_params]
        conds.append("(" + " AND ".join(extra) + ")")
        params += more
    return " OR ".join(conds), params


def _count_vectors(con, sel: Selection) -> int:
    cond, params = _vector_conds(sel)
    return con.execute(f"SELECT count(*) FROM chunk_vectors WHERE {cond}", params).fetchone()[0]


def _delete_vectors(con, sel: Selection) -> int:
    cond, params = _vector_conds(sel)
    return con.execute(f"DELETE FROM chunk_vectors WHERE {cond}", params).fetchone()[0]


def _delete(con, sel: Selection) -> None:
    for corpus, temp in zip(CORPORA, (_TEMP["spans"], _TEMP["heard"])):
        _unindex(con, corpus, temp)
        con.execute(f"DELETE FROM {corpus.table} WHERE id IN (SELECT id FROM {temp})")
    con.execute(f"DELETE FROM frames WHERE id IN (SELECT id FROM {_TEMP['frames']})")
    con.execute(f"DELETE FROM audio_chunks WHERE id IN (SELECT id FROM {_TEMP['chunks']})")
    con.execute(f"UPDATE transcripts SET chunk_id = NULL WHERE chunk_id IN (SELECT id FROM {_TEMP['chunks']})")
    if sel.timed_only:
        con.execute(f"DELETE FROM events WHERE id IN (SELECT id FROM {_TEMP['events']})")
        if sel.since is not None:  # the range reads as a gap: forgotten, not empty
            detail = {"reason": "forgotten", **({"until": str(utc_naive(sel.until))} if sel.until else {})}
            con.execute(
                "INSERT INTO events (ts, kind, detail) VALUES (?, 'gap', ?)", [utc_naive(sel.since), json.dumps(detail)]
            )
    else:
        con.execute(f"UPDATE events SET detail = NULL WHERE id IN (SELECT id FROM {_TEMP['events']})")


def _unindex(con, corpus, temp: str) -> None:
    """Take the forgotten rows' postings out of the index and its counts (``search_index``)."""
    docs, length = con.execute(
        f"SELECT count(*), coalesce(sum(len), 0) FROM (SELECT doc, any_value(len) AS len FROM"
        f" (SELECT doc, len FROM {corpus.postings} UNION ALL SELECT doc, len FROM {corpus.tail})"
        f" WHERE doc IN (SELECT id FROM {temp}) GROUP BY doc)"
    ).fetchone()
    for table in (corpus.postings, corpus.tail):
        con.execute(f"DELETE FROM {table} WHERE doc IN (SELECT id FROM {temp})")
    con.execute(
        "UPDATE search_stats SET docs = docs - ?, total_len = total_len - ? WHERE corpus = ?",
        [docs, int(length), corpus.table],
    )


def _touched_hours(con) -> set[datetime]:
    rows = con.execute(
        f"SELECT DISTINCT date_trunc('hour', t_start) FROM {_TEMP['spans']}"
        f" UNION SELECT DISTINCT date_trunc('hour', t_start) FROM {_TEMP['heard']}"
    ).fetchall()
    return {r[0] for r in rows}


def _drop_unused_apps(con) -> None:
    """App names no text is filed under any more leave the search index's list of apps."""
    con.execute("DELETE FROM search_apps WHERE app NOT IN (SELECT DISTINCT app FROM text_spans)")


def forget_in(store, sel: Selection, *, apply: bool = True, staged: Callable[[Report], None] | None = None) -> Report:
    """:func:`forget` in one ``store.write()`` transaction (a dry run commits nothing it changed)."""
    with store.write() as writer:
        return forget(writer._con, sel, apply=apply, staged=staged)


def unreferenced(store, frame_refs: list[str], audio_refs: list[str]) -> tuple[list[str], list[str]]:
    """Those of the files no row refers to (any more): after a crash, the files a forget that
    committed still had to delete, and none that a forget rolled back still needs."""
    with store.read() as r:
        used = {
            (kind, ref)
            for kind, ref in r._con.execute(
                "SELECT 'frame', image_ref FROM frames WHERE list_contains(?::VARCHAR[], image_ref)"
                " UNION ALL SELECT 'audio', audio_ref FROM audio_chunks WHERE list_contains(?::VARCHAR[], audio_ref)",
                [frame_refs, audio_refs],
            ).fetchall()
        }
    return ([f for f in frame_refs if ("frame", f) not in used], [a for a in audio_refs if ("audio", a) not in used])
