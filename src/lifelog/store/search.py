"""Full-text search over text spans: BM25 from DuckDB's fts index plus the spans newer than it.

The index (``PRAGMA create_fts_index``) is a snapshot that only a rebuild refreshes, so a
search covers two sets:

* spans in the index (``id <= meta.fts_max_span_id``): scored by ``match_bm25``;
* spans added since (``id >`` that): a case-insensitive, accent-blind substring match of
  every query term, scored with the same BM25 formula and the index's own statistics
  (document count, average length, document frequencies), using the index's tokenizer,
  stop words and stemmer. They rank as if they had been indexed, instead of being pinned
  above or below everything else.

Ranking: spans containing every term come first (indexed: ``conjunctive := 1``; newer:
every term as a substring), by BM25 score; then indexed spans containing only some terms.
Ties go to the newer span. Words in double quotes must also appear as that exact phrase.
Stop words are dropped from the BM25 terms (the index dropped them from documents). With
no index yet, or a query of only stop words, every span is matched by substring and
returned newest first with score 0.0. Queries are parsed in Python and every value reaches
DuckDB as a parameter, so no input can produce an SQL error or injection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from lifelog.models import SearchHit
from lifelog.store.sql import (
    META_FTS_MAX_ID, SPAN_COLUMNS, indexed_max_id, meta_set, span_from_row, time_range,
    to_json_param, where,
)

FTS = "fts_main_text_spans"
STEMMER = "porter"
MAX_TERMS = 32
BM25_K, BM25_B = 1.2, 0.75  # match_bm25's defaults, used for the spans newer than the index

CREATE_INDEX_SQL = (
    "PRAGMA create_fts_index('text_spans', 'id', 'text', "
    rf"stemmer='{STEMMER}', stopwords='english', ignore='[^\p{{L}}\p{{N}}]+', "
    "strip_accents=1, lower=1, overwrite=1)"
)

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")
_CONTAINS = "strpos(strip_accents(lower(text)), strip_accents(lower(?))) > 0"


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]  # lower-cased words (letters and digits), first MAX_TERMS, no repeats
    phrases: tuple[str, ...]  # quoted runs of two or more words, whitespace-normalised


def parse_query(text: str) -> ParsedQuery:
    phrases = [" ".join(p.lower().split()) for p in _PHRASE.findall(text or "")]
    phrases = [p for p in dict.fromkeys(phrases) if len(_WORD.findall(p)) > 1]
    terms = list(dict.fromkeys(_WORD.findall((text or "").lower())))[:MAX_TERMS]
    return ParsedQuery(tuple(terms), tuple(phrases[:MAX_TERMS]))


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    since: datetime | None,
    until: datetime | None,
    app: str | None,
    limit: int,
    load_fts: Callable[[], None],
) -> list[SearchHit]:
    parsed = parse_query(query)
    if limit <= 0 or not (parsed.terms or parsed.phrases):
        return []
    conds, params = time_range(since, until, "t_start", "t_end")
    if app:
        conds.append("strpos(lower(app), lower(?)) > 0")
        params.append(app)
    conds += [_CONTAINS] * len(parsed.phrases)
    params += list(parsed.phrases)

    indexed = indexed_max_id(con)
    terms: list[str] = []
    if indexed is not None and parsed.terms:
        load_fts()
        terms = _without_stopwords(con, parsed.terms)
    if not terms:
        rows = _substring_matches(con, parsed.terms, conds, params, limit)
        return [SearchHit(span_from_row(r), 0.0) for r in rows]

    ranked = [(0, r) for r in _bm25(con, terms, True, indexed, conds, params, limit)]
    complete = len(ranked) < limit  # every conjunctive match is in hand
    ranked += [(0, r) for r in _unindexed_bm25(con, terms, indexed, conds, params, limit)]
    if complete and len(terms) > 1:
        seen = {r[0] for _, r in ranked}
        some = _bm25(con, terms, False, indexed, conds, params, limit + len(seen))
        ranked += [(1, r) for r in some if r[0] not in seen]
    # tier, then score, then newer t_start, then higher id
    ranked.sort(key=lambda tr: (tr[0], -tr[1][-1], -_seconds(tr[1][1]), -tr[1][0]))
    return [SearchHit(span_from_row(r), float(r[-1])) for _, r in ranked[:limit]]


def _seconds(ts: datetime) -> float:
    return (ts - datetime.min).total_seconds()


def rebuild_index(con: duckdb.DuckDBPyConnection, load_fts: Callable[[], None], min_new: int = 1) -> bool:
    """Rebuild the fts index if at least ``min_new`` spans (and at least one) were added since."""
    indexed = indexed_max_id(con)
    max_id, new = con.execute(
        "SELECT coalesce(max(id), 0), count(*) FILTER (WHERE id > ?) FROM text_spans", [indexed or 0]
    ).fetchone()
    if new == 0 or new < min_new:
        return False
    load_fts()
    con.execute(CREATE_INDEX_SQL)
    meta_set(con, META_FTS_MAX_ID, str(max_id))
    return True


def _without_stopwords(con: duckdb.DuckDBPyConnection, terms: tuple[str, ...]) -> list[str]:
    stop = {row[0] for row in con.execute(
        f"SELECT sw FROM {FTS}.stopwords WHERE list_contains(from_json(?, '[\"VARCHAR\"]'), sw)",
        [to_json_param(list(terms))],
    ).fetchall()}
    return [t for t in terms if t not in stop]


def _bm25(con, terms, conjunctive, indexed, conds, params, limit) -> list[tuple]:
    sql = (
        f"SELECT {SPAN_COLUMNS}, score FROM ("
        f" SELECT *, {FTS}.match_bm25(id, ?, conjunctive := ?) AS score"
        f" FROM text_spans{where(['id <= ?', *conds])}"
        ") WHERE score IS NOT NULL ORDER BY score DESC, t_start DESC, id DESC LIMIT ?"
    )
    args = [" ".join(terms), 1 if conjunctive else 0, indexed, *params, limit]
    return con.execute(sql, args).fetchall()


def _unindexed_bm25(con, terms, indexed, conds, params, limit) -> list[tuple]:
    """Spans newer than the index holding every term, scored as match_bm25 would score them."""
    cand = where(["id > ?", *conds, *[_CONTAINS] * len(terms)])
    sql = f"""
        WITH cand AS (SELECT {SPAN_COLUMNS} FROM text_spans{cand}),
        qterms AS (SELECT DISTINCT stem(unnest(from_json(?, '["VARCHAR"]')), '{STEMMER}') AS term),
        toks AS (
            SELECT c.id, stem(tok, '{STEMMER}') AS term
            FROM cand AS c, (SELECT unnest({FTS}.tokenize(c.text)) AS tok)
            WHERE tok <> '' AND tok NOT IN (SELECT sw FROM {FTS}.stopwords)),
        lens AS (SELECT id, count(*) AS len FROM toks GROUP BY id),
        tf AS (SELECT id, term, count(*) AS tf FROM toks
               WHERE term IN (SELECT term FROM qterms) GROUP BY id, term),
        df AS (SELECT q.term, coalesce(d.df, 0) AS df
               FROM qterms AS q LEFT JOIN {FTS}.dict AS d ON d.term = q.term),
        scores AS (
            SELECT tf.id, sum(
                log(((st.num_docs - df.df + 0.5) / (df.df + 0.5)) + 1)
                * (tf.tf * ({BM25_K} + 1))
                / (tf.tf + {BM25_K} * (1 - {BM25_B} + {BM25_B} * lens.len / st.avgdl))) AS score
            FROM tf JOIN df USING (term) JOIN lens USING (id), {FTS}.stats AS st
            GROUP BY tf.id)
        SELECT cand.*, coalesce(scores.score, 0.0) AS score
        FROM cand LEFT JOIN scores USING (id)
        ORDER BY score DESC, t_start DESC, id DESC LIMIT ?
    """
    args = [indexed, *params, *terms, to_json_param(terms), limit]
    return con.execute(sql, args).fetchall()


def _substring_matches(con, terms, conds, params, limit) -> list[tuple]:
    sql = (
        f"SELECT {SPAN_COLUMNS} FROM text_spans{where([*conds, *[_CONTAINS] * len(terms)])}"
        " ORDER BY t_start DESC, id DESC LIMIT ?"
    )
    return con.execute(sql, [*params, *terms, limit]).fetchall()
