"""Where the time went in a range, counted in SQL from the timeline's own rows (``lifelog
timeline``, the facade's ``activity`` call).

The unit is the **active minute**: a minute (UTC) in which the screen changed (a frame was kept:
capture keeps a frame only when the screen differs from the last one kept; or a line of text
appeared: a timeline imported from JSONL has lines but no frames), sound was kept (an audio
chunk overlaps it: the silence gate keeps only stretches with sound) or speech was transcribed
(a transcript overlaps it; imported speech has no chunk). Each active minute belongs to one
app: the app in front (the focused window's) on most of its kept frames, ties to the latest (a
minute with lines but no frame: the app with most lines begun); a minute without either belongs
to the app of the last minute that had one (the screen did not change, so the same window was in
front). Of the active minutes:

- *seen*: text read from the screen was visible during it (a text span overlaps it);
- *heard*: a transcript overlaps it;
- *unread*: the screen changed but no text read from it was visible (a screen without text, or
  a recorder that stopped reading).

Everything is aggregated per bucket (an hour, a day, a week or a month, cut at ``offset``
minutes east of UTC) and app inside DuckDB, in one statement that reads each table once, so the
rows that come back are bounded by buckets x apps whatever the range (a generated month, 2.6M
lines: ~0.7 s of SQL). Which spans are visible in a minute is found without expanding spans into
minutes: spans are grouped by the minute they began, a running maximum of their ends says how
far text reached by each minute, and each active minute takes the reach of the last such minute
at or before it (ASOF join).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lifelog.store.reader import Reader
from lifelog.store.sql import one, utc_naive

EARLIEST = datetime(1, 1, 1)
LATEST = datetime(9999, 12, 31, 23, 59, 59)
# A range up to this long is cut into buckets of this part (bounded rows: at most ~110 buckets).
PARTS = ((timedelta(days=2), "hour"), (timedelta(days=92), "day"), (timedelta(days=732), "week"))
LAST_PART = "month"


@dataclass(frozen=True)
class MinuteRow:
    """Active minutes of one app in one bucket."""

    bucket: datetime
    app: str
    active: int
    screen: int  # minutes in which the screen changed (a kept frame, a line that appeared)
    sound: int  # minutes with sound kept
    seen: int  # minutes with text from the screen visible
    heard: int  # minutes with a transcript
    unread: int  # screen minutes without text from the screen visible
    frames: int  # frames kept


@dataclass(frozen=True)
class GapRow:
    """The gaps of one reason overlapping the range."""

    reason: str
    count: int
    seconds: float  # within the range; a gap without an end counts 0
    open: int  # gaps without a stored end
    frames_shed: int  # screen changes not read (reason ocr_behind)


@dataclass(frozen=True)
class ActivityRows:
    """What ``read`` counts for a range: ``first``/``last`` the first and last active instants
    (None: no activity), ``part`` the buckets' size."""

    part: str
    first: datetime | None
    last: datetime | None
    minutes: list[MinuteRow]
    tokens: list[tuple[datetime, int, int]]  # (bucket, tokens seen, tokens heard) of lines begun in it
    gaps: list[GapRow]
    ocr_failures: int


def part_for(span: timedelta) -> str:
    """The bucket size for a range this long: hours up to 2 days, days up to 92, weeks up to two
    years, months beyond."""
    for longest, part in PARTS:
        if span <= longest:
            return part
    return LAST_PART


def read(
    reader: Reader,
    since: datetime | None,
    until: datetime | None,
    *,
    offset: int = 0,
    now: datetime,
) -> ActivityRows:
    """Count [since, until) (None: from the start, up to the newest row); ``offset`` minutes
    east of UTC is where buckets are cut; ``now`` ends a range without ``until`` when choosing
    the bucket size."""
    con = reader._con  # a store module: it runs its SQL on the reader's connection, as forget.py does
    args = {"lo": utc_naive(since) or EARLIEST, "hi": utc_naive(until) or LATEST}
    first, last = one(con.execute(_EXTENT, args))
    span_lo = utc_naive(since) or first or now
    part = part_for((utc_naive(until) or max(now, last or now)) - span_lo)
    rows = con.execute(_MINUTES.format(bucket=_bucket(part)), {**args, "offset": offset}).fetchall()
    minutes = [MinuteRow(*r[:9]) for r in rows if r[1] is not None]
    tokens = [(r[0], r[9], r[10]) for r in rows if r[1] is None]
    gaps = [GapRow(*r) for r in con.execute(_GAPS, args).fetchall()]
    failures = one(con.execute(_OCR_FAILURES, args))[0]
    return ActivityRows(part, first, last, minutes, tokens, gaps, failures)


def _bucket(part: str) -> str:
    """The start of the bucket of minute ``m``, cut ``$offset`` minutes east of UTC."""
    if part not in (*(p for _, p in PARTS), LAST_PART):  # fixed SQL text only
        raise ValueError(part)
    return f"CAST(date_trunc('{part}', m + to_minutes($offset)) AS TIMESTAMP) - to_minutes($offset)"


# The minutes a row overlaps within [lo, hi) (a row of no length: its minute).
_OVERLAPPED = (
    "unnest(generate_series(date_trunc('minute', greatest(t_start, $lo)), "
    "date_trunc('minute', greatest(greatest(t_start, $lo), least(t_end, $hi) - INTERVAL 1 MICROSECOND)), "
    "INTERVAL 1 MINUTE))"
)

_EXTENT = """
    SELECT min(a), max(b) FROM (
        SELECT min(ts) AS a, max(ts) AS b FROM frames WHERE ts >= $lo AND ts < $hi
        UNION ALL
        SELECT min(t_start), max(t_start) FROM text_spans WHERE t_start >= $lo AND t_start < $hi
        UNION ALL
        SELECT min(greatest(t_start, $lo)), max(least(t_end, $hi)) FROM audio_chunks
        WHERE t_end >= $lo AND t_start < $hi
        UNION ALL
        SELECT min(greatest(t_start, $lo)), max(least(t_end, $hi)) FROM transcripts
        WHERE t_end >= $lo AND t_start < $hi
    )
"""

# One statement, each table read once (text_spans, the largest, into ``lines``): rows of
# (bucket, app, minute counts..., 0, 0) per app, and (bucket, NULL, zeros..., tokens seen, heard).
_MINUTES = f"""
    WITH lines AS MATERIALIZED (
        SELECT date_trunc('minute', t_start) AS m, app, count(*) AS n, max(t_start) AS last, max(t_end) AS e,
               coalesce(sum(tokens) FILTER (WHERE t_start >= $lo), 0) AS tokens
        FROM text_spans WHERE t_end >= $lo AND t_start < $hi GROUP BY ALL
    ),
    shown AS (
        SELECT date_trunc('minute', ts) AS m, app, 1 AS framed, count(*) AS n, max(ts) AS last
        FROM frames WHERE ts >= $lo AND ts < $hi GROUP BY ALL
        UNION ALL  -- lines that began in the range: a timeline imported from JSONL has no frames
        SELECT m, app, 0, n, last FROM lines WHERE last >= $lo
    ),
    screen AS (
        SELECT m, arg_max(app, struct_pack(framed := framed, n := n, last := last)) AS app,
               coalesce(sum(n) FILTER (WHERE framed = 1), 0) AS frames
        FROM shown GROUP BY m
    ),
    sound AS (SELECT DISTINCT {_OVERLAPPED} AS m FROM audio_chunks WHERE t_end >= $lo AND t_start < $hi),
    heard AS (SELECT DISTINCT {_OVERLAPPED} AS m FROM transcripts WHERE t_end >= $lo AND t_start < $hi),
    minutes AS (SELECT m FROM screen UNION SELECT m FROM sound UNION SELECT m FROM heard),
    reach AS (SELECT m AS k, max(max(e)) OVER (ORDER BY m ROWS UNBOUNDED PRECEDING) AS reach FROM lines GROUP BY m),
    marked AS (
        SELECT mi.m, coalesce(front.app, '') AS app, coalesce(s.frames, 0) AS frames,
               s.m IS NOT NULL AS screen, so.m IS NOT NULL AS sound, h.m IS NOT NULL AS heard,
               coalesce(r.reach > mi.m, false) AS seen
        FROM minutes mi
        LEFT JOIN screen s ON s.m = mi.m
        LEFT JOIN sound so ON so.m = mi.m
        LEFT JOIN heard h ON h.m = mi.m
        ASOF LEFT JOIN reach r ON mi.m >= r.k
        ASOF LEFT JOIN screen front ON mi.m >= front.m
    ),
    tokens AS (
        SELECT m, tokens AS seen, 0 AS heard FROM lines
        UNION ALL
        SELECT date_trunc('minute', t_start), 0, coalesce(tokens, 0) FROM transcripts
        WHERE t_start >= $lo AND t_start < $hi
    )
    SELECT {{bucket}} AS b, app, count(*), count(*) FILTER (screen), count(*) FILTER (sound),
           count(*) FILTER (seen), count(*) FILTER (heard), count(*) FILTER (screen AND NOT seen),
           sum(frames)::BIGINT, 0, 0
    FROM marked GROUP BY ALL
    UNION ALL
    SELECT b, NULL, 0, 0, 0, 0, 0, 0, 0, sum(seen)::BIGINT, sum(heard)::BIGINT FROM (
        SELECT {{bucket}} AS b, sum(seen) AS seen, sum(heard) AS heard FROM tokens GROUP BY m
    ) GROUP BY b HAVING sum(seen) + sum(heard) > 0
    ORDER BY 1, 2 NULLS FIRST
"""

# A gap is stored at its start with its end and reason in the detail (``spool/gaps.py``,
# ``daemon/supervisor.py``); "no screen (why)" counts as "no screen", excluded sound apart.
_GAPS = """
    WITH gaps AS (
        SELECT ts, try(json_extract_string(detail, '$.reason')) AS reason,
               try(json_extract_string(detail, '$.sound')) AS sound,
               try(CAST(json_extract_string(detail, '$.frames_shed') AS BIGINT)) AS shed,
               make_timestamp(epoch_us(try_cast(try(json_extract_string(detail, '$.until')) AS TIMESTAMPTZ)))
                   AS until
        FROM events WHERE kind = 'gap' AND ts < $hi
    ),
    kept AS (
        SELECT CASE WHEN reason = 'excluded' AND sound = 'true' THEN 'excluded sound'
                    ELSE coalesce(nullif(split_part(reason, ' (', 1), ''), 'unknown') END AS reason,
               until,
               CASE WHEN until IS NULL THEN 0
                    ELSE greatest(0, epoch(least(until, $hi) - greatest(ts, $lo))) END AS seconds,
               coalesce(shed, 0) AS shed
        FROM gaps WHERE coalesce(until, ts) >= $lo
    )
    SELECT reason, count(*), sum(seconds), count(*) FILTER (until IS NULL), sum(shed)::BIGINT
    FROM kept GROUP BY reason ORDER BY sum(seconds) DESC, count(*) DESC, reason
"""

_OCR_FAILURES = """
    SELECT count(*) FROM events WHERE kind = 'ocr_failure' AND ts >= $lo AND ts < $hi
"""
