"""The stored token count of a line: o200k (the default tokenizer), counted once when the line is
written, so a context window's cost can be summed by a query instead of re-tokenising a range.

Other tokenizers are counted when a window is fitted (an exact count of the emitted text is
always taken at the end); the stored count only decides how much of the timeline to read.
"""

from __future__ import annotations

import duckdb

ENCODING = "o200k_base"


def count_many(texts: list[str]) -> list[int]:
    import quicktok

    if not texts:
        return []
    return [int(n) for n in quicktok.count_batch(quicktok.get_encoding(ENCODING), texts)]


def backfill_spans(con: duckdb.DuckDBPyConnection, batch: int = 200_000) -> int:
    """Count the lines whose ``tokens`` is NULL (stored before counts were kept, or written by a
    path that does not count), each distinct text once. Returns the rows updated."""
    total = 0
    while True:
        texts = [r[0] for r in con.execute(
            "SELECT DISTINCT text FROM text_spans WHERE tokens IS NULL LIMIT ?", [batch]
        ).fetchall()]
        if not texts:
            return total
        con.execute("CREATE OR REPLACE TEMP TABLE _span_tokens (text VARCHAR, tokens INTEGER)")
        con.execute(
            "INSERT INTO _span_tokens SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[])",
            [texts, count_many(texts)],
        )
        total += con.execute(
            "UPDATE text_spans SET tokens = t.tokens FROM _span_tokens t "
            "WHERE text_spans.tokens IS NULL AND text_spans.text = t.text"
        ).fetchone()[0]
        con.execute("DROP TABLE _span_tokens")
