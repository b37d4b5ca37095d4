"""Per-hour aggregates for outlines and costs (``Reader.outline_rows``, ``Reader.token_costs``),
and their stored summaries, so a window over months reads hours, not millions of lines.

Both reads group the lines of a range by hour. An hour's groups depend only on the rows that
began in it, except in the hour holding a read's ``since``, where a row begun earlier counts
at ``since``. So whole past hours are summarised once, in three tables (migration 9):

* ``hour_seen``: per hour, app and window: seconds, lines and first line (``seen`` of
  ``outline_rows``);
* ``hour_heard``: per hour and source: minutes with speech (``heard``);
* ``hour_totals``: per hour and kind (``seen``, ``heard``): lines, stored tokens (NULL as 0),
  first and last start (``totals``); an hour's cost (``token_costs``) is its lines plus tokens.

The watermark, the ``meta`` key :data:`WATERMARK`, is an hour: every hour before it has exact
summaries. It only moves forward (:func:`advance`: the owner, every few minutes and when it
opens the file) and stays behind the hour being recorded, so recording never recomputes one.
A write that adds rows to hours before it recomputes those hours in its own transaction
(:func:`refresh_hours`, from ``Writer.finish``): a late line (a spool backlog after a crash,
an import) never leaves a summary stale. A write that changes or deletes lines of past hours
(their start, text, tokens, app, window, monitor or place) must do the same; a row's end
never matters to a summarised hour.

A read takes the whole hours of its range that lie after the hour holding ``since`` and
before the watermark from the summaries, and the rest (that first hour, and the hours from
the watermark on) from the rows with the same SQL, restricted by start: the result is the
one the rows alone give (``cached=False``), row for row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from lifelog.store import digests
from lifelog.store.rows import HourCost, Totals
from lifelog.store.sql import meta_get, meta_set, one, time_range, utc_naive, where

WATERMARK = "hours_summarised_upto"
HOUR = timedelta(hours=1)
SETTLE = timedelta(minutes=5)  # an hour is summarised once this long has passed since its end
STRETCH = timedelta(days=7)  # hours summarised in one pass: a week of lines aggregates in ~100 MB
_TABLES = (("seen", "text_spans"), ("heard", "transcripts"))


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE hour_seen (
            hour       TIMESTAMP NOT NULL,
            app        VARCHAR   NOT NULL,
            "window"   VARCHAR   NOT NULL,
            seconds    DOUBLE    NOT NULL,
            lines      BIGINT    NOT NULL,
            first_line VARCHAR   NOT NULL
        );
        CREATE TABLE hour_heard (
            hour    TIMESTAMP NOT NULL,
            source  VARCHAR   NOT NULL,
            minutes BIGINT    NOT NULL
        );
        CREATE TABLE hour_totals (
            hour   TIMESTAMP NOT NULL,
            kind   VARCHAR   NOT NULL,  -- seen, heard
            lines  BIGINT    NOT NULL,
            tokens BIGINT    NOT NULL,
            first  TIMESTAMP NOT NULL,
            last   TIMESTAMP NOT NULL
        );
    """)


# -- the watermark and the summaries' upkeep ---------------------------------------------------


def watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    value = meta_get(con, WATERMARK)
    return datetime.fromisoformat(value) if value else None


def hour_of(ts: datetime) -> datetime:
    return utc_naive(ts).replace(minute=0, second=0, microsecond=0)


def advance(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> datetime | None:
    """Summarise the hours up to the earlier of the hour holding ``now`` less :data:`SETTLE`
    and the hour of the newest line, and move the watermark there; returns the watermark
    (None while nothing is stored). Set-based, a stretch of :data:`STRETCH` a pass."""
    old = watermark(con)
    now = utc_naive(now) if now is not None else datetime.now(UTC).replace(tzinfo=None)
    newest = one(
        con.execute(
            "SELECT greatest((SELECT max(t_start) FROM text_spans WHERE t_start >= ?),"
            " (SELECT max(t_start) FROM transcripts WHERE t_start >= ?))",
            [old or datetime.min] * 2,
        )
    )[0]
    if newest is None:
        return old
    upto = min(hour_of(now - SETTLE), hour_of(newest))
    if old is not None and upto <= old:
        return old
    _delete(con, *_bounds("hour", old, upto))
    start = _first_start(con, old)
    while start is not None and hour_of(start) < upto:  # a stretch at a time: bounded memory
        stop = min(hour_of(start) + STRETCH, upto)
        _insert(con, _Slice.starting(hour_of(start), stop))
        start = _first_start(con, stop)
    meta_set(con, WATERMARK, upto.isoformat())
    return upto


def _first_start(con: duckdb.DuckDBPyConnection, at: datetime | None) -> datetime | None:
    """The first start of a line at or after ``at`` (None: ever)."""
    return one(
        con.execute(
            "SELECT least((SELECT min(t_start) FROM text_spans WHERE t_start >= ?),"
            " (SELECT min(t_start) FROM transcripts WHERE t_start >= ?))",
            [at or datetime.min] * 2,
        )
    )[0]


def refresh_hours(con: duckdb.DuckDBPyConnection, hours: set[datetime]) -> int:
    """Recompute the summaries of those of ``hours`` (hour starts) that lie before the
    watermark, after rows were added to them; returns how many hours were."""
    upto = watermark(con) if hours else None
    stale = sorted(h for h in hours if upto is not None and h < upto)
    if not stale:
        return 0
    listed = "list_contains(?::TIMESTAMP[], {})"
    _delete(con, [listed.format("hour")], [stale])
    digests.drop_hours(con, stale)  # their text may hold what changed or went
    left = stale
    while left:  # a stretch at a time, as advance() does
        some = [h for h in left if h < left[0] + STRETCH]
        left = left[len(some) :]
        rows = _Slice.starting(some[0], some[-1] + HOUR)
        _insert(con, _Slice(rows.t, [*rows.conds, listed.format("date_trunc('hour', t_start)")], [*rows.params, some]))
    return len(stale)


def _delete(con: duckdb.DuckDBPyConnection, conds: list[str], params: list) -> None:
    """Delete the summaries of the hours that ``conds`` (on ``hour``) select."""
    for table in ("hour_seen", "hour_heard", "hour_totals"):
        con.execute(f"DELETE FROM {table}{where(conds)}", params)


def _insert(con: duckdb.DuckDBPyConnection, rows: _Slice) -> None:
    """Insert the summaries of ``rows`` (all the rows that began in some whole hours, at their start)."""
    con.execute(
        f'INSERT INTO hour_seen (hour, app, "window", seconds, lines, first_line) {_seen_sql(rows)}', rows.params
    )
    con.execute(f"INSERT INTO hour_heard (hour, source, minutes) {_heard_sql(rows)}", rows.params)
    for kind, table in _TABLES:
        con.execute(
            "INSERT INTO hour_totals (hour, kind, lines, tokens, first, last)"
            f" SELECT date_trunc('hour', t_start) AS h, '{kind}', count(*), coalesce(sum(tokens), 0),"
            f" min(t_start), max(t_start) FROM {table}{where(rows.conds)} GROUP BY h",
            rows.params,
        )


# -- reads: summaries for whole past hours, rows for the rest ----------------------------------


@dataclass(frozen=True)
class _Slice:
    """The rows of a table in a read: conditions, and a row's time in the read (its start, or
    ``since`` when it began earlier); ``params`` binds the time's ``?`` first, then the
    conditions'."""

    t: str
    conds: list[str]
    params: list = field(default_factory=list)

    @classmethod
    def of(
        cls,
        since: datetime | None,
        until: datetime | None,
        *,
        start_from: datetime | None = None,
        start_before: datetime | None = None,
    ) -> _Slice:
        """Rows overlapping [since, until), those begun before ``since`` counted at it, and
        optionally only those that began in [start_from, start_before)."""
        conds, params = time_range(since, until, "t_start", "t_end")
        more = cls.starting(start_from, start_before)
        conds, params = conds + more.conds, params + more.params
        if since is None:
            return cls("t_start", conds, params)
        return cls("greatest(t_start, ?)", conds, [utc_naive(since), *params])

    @classmethod
    def starting(cls, start_from: datetime | None, start_before: datetime | None) -> _Slice:
        """Rows that began in [start_from, start_before), at their start."""
        return cls("t_start", *_bounds("t_start", start_from, start_before))


def _bounds(column: str, lo: datetime | None, hi: datetime | None) -> tuple[list[str], list]:
    """Conditions for ``lo <= column < hi`` (a None bound: none) and their parameters."""
    bounds = [(f"{column} >= ?", lo), (f"{column} < ?", hi)]
    return [c for c, v in bounds if v is not None], [v for _, v in bounds if v is not None]


@dataclass(frozen=True)
class _Plan:
    """A read split by hours: rows before ``lo`` (the hour holding ``since``), summaries of
    [lo, hi) (``lo`` None: from the first), rows from ``hi`` on."""

    lo: datetime | None
    hi: datetime
    head: _Slice | None
    tail: _Slice | None

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> _Plan | None:
        """None when no whole summarised hour lies in the range."""
        upto = watermark(con)
        if upto is None:
            return None
        since, until = utc_naive(since), utc_naive(until)
        lo = None if since is None else hour_of(since) + HOUR
        hi = upto if until is None else min(upto, hour_of(until))
        if lo is not None and lo >= hi:
            return None
        head = None if lo is None else _Slice.of(since, until, start_before=lo)
        tail = None if until is not None and until <= hi else _Slice.of(since, until, start_from=hi)
        return cls(lo, hi, head, tail)

    def hours(self) -> tuple[str, list]:
        """A ``WHERE`` on ``hour`` for the summarised part, and its parameters."""
        conds, params = _bounds("hour", self.lo, self.hi)
        return where(conds), params

    def live(self) -> list[_Slice]:
        return [s for s in (self.head, self.tail) if s is not None]


def token_costs(
    con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None, *, cached: bool = True
) -> list[HourCost]:
    """See ``Reader.token_costs``."""
    plan = _Plan.of(con, since, until) if cached else None
    if plan is None:
        return [HourCost(*c) for c in sorted(_costs(con, _Slice.of(since, until)).items())]
    out: dict[datetime, int] = {}
    for rows in plan.live():
        out.update(_costs(con, rows))
    cond, params = plan.hours()
    for hour, n in con.execute(
        f"SELECT hour, sum(lines + tokens) FROM hour_totals{cond} GROUP BY hour", params
    ).fetchall():
        out[hour] = int(n)
    return [HourCost(*c) for c in sorted(out.items())]


def outline_rows(
    con: duckdb.DuckDBPyConnection, since: datetime | None, upto: datetime | None, *, cached: bool = True
) -> dict:
    """See ``Reader.outline_rows``."""
    plan = _Plan.of(con, since, upto) if cached else None
    if plan is None:
        return _outline(_outline_part(con, _Slice.of(since, upto)))
    parts = [] if plan.head is None else [_outline_part(con, plan.head)]
    cond, params = plan.hours()
    parts.append(
        {
            "seen": con.execute(
                f'SELECT hour, app, "window", seconds, lines, first_line FROM hour_seen{cond}'
                ' ORDER BY hour, app, "window"',
                params,
            ).fetchall(),
            "heard": con.execute(
                f"SELECT hour, source, minutes FROM hour_heard{cond} ORDER BY hour, source", params
            ).fetchall(),
            "totals": con.execute(
                f"SELECT sum(lines), sum(tokens), min(first), max(last) FROM hour_totals{cond}", params
            ).fetchall(),
        }
    )
    if plan.tail is not None:
        parts.append(_outline_part(con, plan.tail))
    return _outline({k: [row for part in parts for row in part[k]] for k in ("seen", "heard", "totals")})


def outline_totals(con: duckdb.DuckDBPyConnection, since: datetime | None, upto: datetime | None) -> Totals:
    """The ``totals`` of ``outline_rows`` alone (what a window that shows no outline of the
    stretch still says about it)."""
    plan = _Plan.of(con, since, upto)
    if plan is None:
        return _outline({"seen": [], "heard": [], "totals": _totals(con, _Slice.of(since, upto))})["totals"]
    parts = [row for rows in plan.live() for row in _totals(con, rows)]
    cond, params = plan.hours()
    parts += con.execute(
        f"SELECT sum(lines), sum(tokens), min(first), max(last) FROM hour_totals{cond}", params
    ).fetchall()
    return _outline({"seen": [], "heard": [], "totals": parts})["totals"]


def _outline_part(con, rows: _Slice) -> dict:
    return {"seen": _seen(con, rows), "heard": _heard(con, rows), "totals": _totals(con, rows)}


def _outline(parts: dict) -> dict:
    """``seen`` and ``heard`` as given (parts in hour order); ``totals`` summed over the
    ``(lines, tokens, first, last)`` of each part and table."""
    lines, tokens, firsts, lasts = 0, 0, [], []
    for n, tok, first, last in parts["totals"]:
        lines, tokens = lines + int(n or 0), tokens + int(tok or 0)
        firsts += [first] if first else []
        lasts += [last] if last else []
    totals = Totals(lines, tokens, min(firsts, default=None), max(lasts, default=None))
    return {"seen": parts["seen"], "heard": parts["heard"], "totals": totals}


# -- the SQL over rows, shared by live reads and the summaries ----------------------------------


def _costs(con, rows: _Slice) -> dict[datetime, int]:
    out: dict[datetime, int] = {}
    for _, table in _TABLES:
        for hour, n in con.execute(
            f"SELECT date_trunc('hour', {rows.t}) AS h, sum(coalesce(tokens, 0) + 1) FROM {table}"
            f"{where(rows.conds)} GROUP BY h",
            rows.params,
        ).fetchall():
            out[hour] = out.get(hour, 0) + int(n)
    return out


def _seen_sql(rows: _Slice) -> str:
    """Per hour, app and window: seconds (from each moment the window showed a change until
    the next change anywhere in the hour, or the hour's end, at least 1 s and at most 300 s),
    lines and the first line. Seconds are summed as whole microseconds: a sum of doubles
    depends on the order DuckDB's threads add them in, and the same hour must give the same
    number read from its summary or from its lines, call after call."""
    return f"""
        WITH s AS NOT MATERIALIZED (SELECT {rows.t} AS t, app, "window" AS w, text, monitor, t_start AS t0,
                                           ord AS o, top, "left" AS l, id, tokens
                                    FROM text_spans{where(rows.conds)}),
        inst AS (SELECT DISTINCT t, app, w, date_trunc('hour', t)::TIMESTAMP AS b FROM s),
        d AS (SELECT b, app, w, least(300000000, greatest(1000000, epoch_us(coalesce(
                  lead(t) OVER (PARTITION BY b ORDER BY t, app, w), b + INTERVAL 1 hour)) - epoch_us(t))) AS us
              FROM inst),
        secs AS (SELECT b, app, w, sum(us) / 1e6 AS sec FROM d GROUP BY ALL),
        ln AS (SELECT date_trunc('hour', t)::TIMESTAMP AS b, app, w, count(*) AS n,
                      arg_min(text, (t, monitor, t0, o, top, l, id)) AS f FROM s GROUP BY ALL)
        SELECT ln.b, ln.app, ln.w, secs.sec, ln.n, ln.f FROM ln JOIN secs USING (b, app, w)
        ORDER BY ln.b, ln.app, ln.w"""


def _heard_sql(rows: _Slice) -> str:
    return (
        f"SELECT date_trunc('hour', t)::TIMESTAMP AS b, source, count(DISTINCT date_trunc('minute', t)) "
        f"FROM (SELECT {rows.t} AS t, source FROM transcripts{where(rows.conds)}) GROUP BY ALL ORDER BY b, source"
    )


def _seen(con, rows: _Slice) -> list[tuple]:
    return con.execute(_seen_sql(rows), rows.params).fetchall()


def _heard(con, rows: _Slice) -> list[tuple]:
    return con.execute(_heard_sql(rows), rows.params).fetchall()


def _totals(con, rows: _Slice) -> list[tuple]:
    """``(lines, stored tokens, first, last)`` of each table's rows."""
    return [
        con.execute(
            f"SELECT count(*), coalesce(sum(tokens), 0), min(t), max(t) "
            f"FROM (SELECT {rows.t} AS t, tokens FROM {table}{where(rows.conds)})",
            rows.params,
        ).fetchone()
        for _, table in _TABLES
    ]
