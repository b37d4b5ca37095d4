"""A plain-Python model of the documented ranking (store/search.py), to check the SQL against.

It scores every row of a corpus from scratch: BM25 (k=1.2, b=0.75, idf log10((N - df + 0.5)
/ (df + 0.5) + 1)) over the terms of ``lifelog.store.terms``; complete matches (every term,
and every no-space run of 3+ characters as a substring) first, then partial ones; ties to
the newer row, then the higher id.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

from lifelog.store import terms
from lifelog.store.search import parse_query

K, B = 1.2, 0.75


def _fold(text: str) -> str:
    """DuckDB's strip_accents(lower(...)) closely enough for the texts the tests use, and Chinese
    written Simplified (``terms.fold``), as search compares substrings."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return terms.fold(unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c))))


def bm25_scores(texts: dict[int, str], query: str) -> dict[int, float]:
    """Row id -> BM25 of ``query`` over the corpus ``texts`` (rows with no query term left out)."""
    docs = {i: Counter(terms.terms(t)) for i, t in texts.items()}
    n = len(docs)
    avgdl = sum(sum(c.values()) for c in docs.values()) / n
    qterms = list(dict.fromkeys(terms.terms(query)))
    df = {t: sum(1 for c in docs.values() if t in c) for t in qterms}
    scores = {}
    for i, counts in docs.items():
        length = sum(counts.values())
        present = [t for t in qterms if t in counts]
        if present:
            scores[i] = sum(
                math.log10((n - df[t] + 0.5) / (df[t] + 0.5) + 1)
                * counts[t]
                * (K + 1)
                / (counts[t] + K * (1 - B + B * length / avgdl))
                for t in present
            )
    return scores


def ranking(rows: dict[int, tuple[str, object]], query: str, limit: int) -> list[tuple[int, int, float]]:
    """``(tier, id, score)`` of the best ``limit`` rows; ``rows`` maps id -> (text, t_start)."""
    parsed = parse_query(query)
    scores = bm25_scores({i: text for i, (text, _) in rows.items()}, query)
    qterms = set(parsed.terms)
    ranked = []
    for i, score in scores.items():
        text = rows[i][0]
        if not all(_fold(p) in _fold(text) for p in (*parsed.phrases, *parsed.chars)):
            continue
        complete = qterms <= set(terms.terms(text)) and all(run in terms.normalize(text) for run in parsed.runs)
        ranked.append((0 if complete else 1, i, score, rows[i][1]))
    ranked.sort(key=lambda r: (r[0], -round(r[2], 9), -r[3].timestamp(), -r[1]))
    return [(tier, i, score) for tier, i, score, _ in ranked[:limit]]
