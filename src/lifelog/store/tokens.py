"""The stored token count of a line: o200k (the default tokenizer), counted once when the line is
written, so a context window's cost can be summed by a query instead of re-tokenising a range.

Other tokenizers are counted when a window is fitted (an exact count of the emitted text is
always taken at the end); the stored count only decides how much of the timeline to read.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
import numpy as np

from lifelog.store import hours
from lifelog.store.sql import one

ENCODING = "o200k_base"


@lru_cache(maxsize=1)
def _encoding():
    import quicktok

    return quicktok.get_encoding(ENCODING)  # ~15 ms a call: load once


def count_many(texts: list[str]) -> list[int]:
    import quicktok

    if not texts:
        return []
    return [int(n) for n in quicktok.count_batch(_encoding(), texts)]


def backfill_spans(con: duckdb.DuckDBPyConnection, batch: int = 100_000) -> int:
    """Count the lines whose ``tokens`` is NULL (stored before counts were kept, or written by a
    path that does not count), each distinct text once, then set them in ONE update (many
    updates of one column in a transaction are far slower). Returns the rows updated."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _texts AS "
        "SELECT row_number() OVER () AS n, text FROM (SELECT DISTINCT text FROM text_spans WHERE tokens IS NULL)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _counts (text VARCHAR, tokens INTEGER)")
    try:
        done = 0
        while True:
            texts = [
                r[0]
                for r in con.execute(
                    "SELECT text FROM _texts WHERE n > ? AND n <= ? ORDER BY n", [done, done + batch]
                ).fetchall()
            ]
            if not texts:
                break
            # Columns read by DuckDB's replacement scan (this local variable's name in the SQL):
            # a list parameter binds slowly (20k strings: seconds), and con.register() would keep
            # each batch referenced until the migration's transaction ends.
            _lifelog_token_batch = {
                "text": np.array(texts, dtype=object),
                "tokens": np.array(count_many(texts), dtype=np.int32),
            }
            con.execute("INSERT INTO _counts SELECT text, tokens FROM _lifelog_token_batch")
            done += len(texts)
        if not done:
            return 0
        upto = hours.watermark(con)  # summarised hours whose lines gain a count are recomputed
        stale = (
            {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT date_trunc('hour', t_start) FROM text_spans WHERE tokens IS NULL AND t_start < ?",
                    [upto],
                ).fetchall()
            }
            if upto
            else set()
        )
        updated = one(
            con.execute(
                "UPDATE text_spans SET tokens = c.tokens FROM _counts c "
                "WHERE text_spans.tokens IS NULL AND text_spans.text = c.text"
            )
        )[0]
        hours.refresh_hours(con, stale)
        return updated
    finally:
        con.execute("DROP TABLE IF EXISTS _texts")
        con.execute("DROP TABLE IF EXISTS _counts")
