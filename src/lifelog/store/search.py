"""Full-text search over text spans: BM25 over DuckDB's fts index plus the spans newer than it.

The index (``PRAGMA create_fts_index``) is a snapshot that only a rebuild refreshes, so a
search covers two sets, both scored with the fts extension's BM25 (k=1.2, b=0.75) and the
index's own statistics (document count, average length, document frequencies), tokenizer,
stop words and stemmer:

* spans in the index (``id <= meta.fts_max_span_id``): scored from the index tables in one
  pass that also tells whether a span holds every term (the scores ``match_bm25`` gives,
  in one query for both tiers instead of its conjunctive and then disjunctive passes);
* spans added since: a case-insensitive, accent-blind substring match of every query term,
  then scored by tokenizing just those spans. They rank as if they had been indexed,
  instead of being pinned above or below everything else.

Ranking: spans containing every term come first, by BM25 score; then indexed spans with
only some terms. Ties go to the newer span. Words in double quotes must also appear as that
exact phrase. Stop words are dropped from the terms (the index dropped them from documents).
With no index yet, or a query of only stop words, spans are matched by substring and
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
BM25_K, BM25_B = 1.2, 0.75  # match_bm25's defaults

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
        return [SearchHit(0.0, span=span_from_row(r)) for r in rows]

    ranked = [(0 if all_terms else 1, row, score)
              for *row, score, all_terms in _indexed_bm25(con, terms, indexed, conds, params, limit)]
    ranked += [(0, row, score) for *row, score in _unindexed_bm25(con, terms, indexed, conds, params, limit)]
    # tier, then score, then newer t_start, then higher id
    ranked.sort(key=lambda h: (h[0], -h[2], -_seconds(h[1][1]), -h[1][0]))
    return [SearchHit(float(score), span=span_from_row(row)) for _, row, score in ranked[:limit]]


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


_BM25 = (
    "log(((st.num_docs - df + 0.5) / (df + 0.5)) + 1) * (tf * ({k} + 1))"
    " / (tf + {k} * (1 - {b} + {b} * len / st.avgdl))"
).format(k=BM25_K, b=BM25_B)
"""One term's BM25 contribution, as the fts extension computes it (``log`` is log10 in DuckDB)."""

_SPAN_COLUMNS_S = ", ".join(f"s.{c.strip()}" for c in SPAN_COLUMNS.split(","))

_QTERMS = f"SELECT DISTINCT stem(unnest(from_json(?, '[\"VARCHAR\"]')), '{STEMMER}') AS term"


def _indexed_bm25(con, terms, indexed, conds, params, limit) -> list[tuple]:
    """Top indexed spans: span columns, BM25 score, whether every term is present."""
    sql = f"""
        WITH qterms AS ({_QTERMS}),
        qt AS (SELECT d.termid, d.df FROM {FTS}.dict AS d JOIN qterms AS q ON d.term = q.term),
        tfs AS (SELECT docid, termid, count(*) AS tf FROM {FTS}.terms
                WHERE termid IN (SELECT termid FROM qt) GROUP BY docid, termid),
        scored AS (
            SELECT any_value(docs.name) AS span_id, count(*) AS matched, sum({_BM25}) AS score
            FROM tfs JOIN qt USING (termid) JOIN {FTS}.docs AS docs USING (docid), {FTS}.stats AS st
            GROUP BY tfs.docid),
        top AS (  -- rank on the few columns the filters need, fetch whole rows for the top only
            SELECT id, score, matched = (SELECT count(*) FROM qterms) AS all_terms, t_start
            FROM scored JOIN text_spans ON id = span_id{where(["id <= ?", *conds])}
            ORDER BY all_terms DESC, score DESC, t_start DESC, id DESC LIMIT ?)
        SELECT {_SPAN_COLUMNS_S}, top.score, top.all_terms FROM top JOIN text_spans AS s USING (id)
    """
    return con.execute(sql, [to_json_param(terms), indexed, *params, limit]).fetchall()  # sorted by caller


def _unindexed_bm25(con, terms, indexed, conds, params, limit) -> list[tuple]:
    """Spans newer than the index holding every term (as substrings), scored as if indexed."""
    sql = f"""
        WITH cand AS (SELECT {SPAN_COLUMNS} FROM text_spans
                      {where(["id > ?", *conds, *[_CONTAINS] * len(terms)])}),
        qterms AS ({_QTERMS}),
        toks AS (
            SELECT c.id, stem(tok, '{STEMMER}') AS term
            FROM cand AS c, (SELECT unnest({FTS}.tokenize(c.text)) AS tok)
            WHERE tok <> '' AND tok NOT IN (SELECT sw FROM {FTS}.stopwords)),
        lens AS (SELECT id, count(*) AS len FROM toks GROUP BY id),
        tfs AS (SELECT id, term, count(*) AS tf FROM toks
                WHERE term IN (SELECT term FROM qterms) GROUP BY id, term),
        dfs AS (SELECT q.term, coalesce(d.df, 0) AS df
                FROM qterms AS q LEFT JOIN {FTS}.dict AS d ON d.term = q.term),
        scores AS (
            SELECT tfs.id, sum({_BM25}) AS score
            FROM tfs JOIN dfs USING (term) JOIN lens USING (id), {FTS}.stats AS st
            GROUP BY tfs.id)
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
