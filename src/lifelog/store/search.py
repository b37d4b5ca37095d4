"""Full-text search over text seen (spans) and heard (transcripts), merged into one ranking.

Each table has its own DuckDB fts index (``PRAGMA create_fts_index``), a snapshot that only
a rebuild refreshes, so a search covers, per table, two sets, both scored with the fts
extension's BM25 (k=1.2, b=0.75) and that index's own statistics (document count, average
length, document frequencies), tokenizer, stop words and stemmer:

* rows in the index (``id <=`` the meta key ``fts_max_span_id`` / ``fts_max_transcript_id``):
  scored from the index tables in one pass that also tells whether a row holds every term
  (the scores ``match_bm25`` gives, in one query for both tiers instead of its conjunctive
  and then disjunctive passes);
* rows added since: a case-insensitive, accent-blind substring match of every query term,
  then scored by tokenizing just those rows. They rank as if they had been indexed,
  instead of being pinned above or below everything else.

Ranking: rows containing every term come first, by BM25 score; then indexed rows with
only some terms. Ties go to the newer row (then the higher id, then seen before heard).
Seen and heard hits share that one ranking; a score is relative to its own table's
statistics (a rare word in speech may be common on screen), which is what BM25 gives per
collection. Words in double quotes must also appear as that exact phrase. Stop words are
dropped from the terms (the index dropped them from documents). For a table with no index
yet, or a query of only stop words, its rows are matched by substring with score 0.0, so
they follow the scored rows of their tier, newest first. ``app=`` filters spans by app name
and leaves out transcripts (they have no app). Queries are parsed in Python and every value
reaches DuckDB as a parameter, so no input can produce an SQL error or injection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from lifelog.errors import UsageError
from lifelog.models import SearchHit
from lifelog.store.sql import (
    CORPORA,
    SPANS,
    Corpus,
    indexed_max_id,
    meta_set,
    span_from_row,
    time_range,
    to_json_param,
    transcript_from_row,
    where,
)

KINDS = tuple(c.kind for c in CORPORA)
STEMMER = "porter"
MAX_TERMS = 32
BM25_K, BM25_B = 1.2, 0.75  # match_bm25's defaults

INDEX_OPTIONS = (
    rf"stemmer='{STEMMER}', stopwords='english', ignore='[^\p{{L}}\p{{N}}]+', "
    "strip_accents=1, lower=1, overwrite=1"
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
    kinds: tuple[str, ...] = KINDS,
    load_fts: Callable[[], None],
) -> list[SearchHit]:
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise UsageError(f"Unknown search kind(s) {', '.join(sorted(unknown))}. Valid: {', '.join(KINDS)}.")
    parsed = parse_query(query)
    corpora = [c for c in CORPORA if c.kind in kinds and (c.has_app or not app)]
    if limit <= 0 or not (parsed.terms or parsed.phrases):
        return []
    ranked: list[tuple] = []
    for order, corpus in enumerate(corpora):
        ranked += [(tier, score, row, order, corpus)
                   for tier, row, score in _search_corpus(con, corpus, parsed, since, until, app, limit, load_fts)]
    # tier, then score, then newer t_start, then higher id, then seen before heard
    ranked.sort(key=lambda h: (h[0], -h[1], -_seconds(h[2][1]), -h[2][0], h[3]))
    return [_hit(corpus, row, score) for _, score, row, _, corpus in ranked[:limit]]


def _search_corpus(con, corpus: Corpus, parsed: ParsedQuery, since, until, app, limit, load_fts) -> list[tuple]:
    """``(tier, row, score)`` for the best ``limit`` matches in one table (unsorted)."""
    conds, params = time_range(since, until, "t_start", "t_end")
    if app:
        conds.append("strpos(lower(app), lower(?)) > 0")
        params.append(app)
    conds += [_CONTAINS] * len(parsed.phrases)
    params += list(parsed.phrases)

    indexed = indexed_max_id(con, corpus)
    terms: list[str] = []
    if indexed is not None and parsed.terms:
        load_fts()
        terms = _without_stopwords(con, corpus, parsed.terms)
    if not terms:
        return [(0, row, 0.0) for row in _substring_matches(con, corpus, parsed.terms, conds, params, limit)]
    ranked = [(0 if all_terms else 1, row, score)
              for *row, score, all_terms in _indexed_bm25(con, corpus, terms, indexed, conds, params, limit)]
    ranked += [(0, row, score)
               for *row, score in _unindexed_bm25(con, corpus, terms, indexed, conds, params, limit)]
    return ranked


def _hit(corpus: Corpus, row: list, score: float) -> SearchHit:
    if corpus is SPANS:
        return SearchHit(float(score), span=span_from_row(row))
    return SearchHit(float(score), transcript=transcript_from_row(row))


def _seconds(ts: datetime) -> float:
    return (ts - datetime.min).total_seconds()


def rebuild_index(
    con: duckdb.DuckDBPyConnection, corpus: Corpus, load_fts: Callable[[], None], min_new: int = 1
) -> bool:
    """Rebuild ``corpus``'s fts index if at least ``min_new`` rows (and at least one) were added since."""
    indexed = indexed_max_id(con, corpus)
    max_id, new = con.execute(
        f"SELECT coalesce(max(id), 0), count(*) FILTER (WHERE id > ?) FROM {corpus.table}", [indexed or 0]
    ).fetchone()
    if new == 0 or new < min_new:
        return False
    load_fts()
    con.execute(f"PRAGMA create_fts_index('{corpus.table}', 'id', 'text', {INDEX_OPTIONS})")
    meta_set(con, corpus.meta_key, str(max_id))
    return True


def _without_stopwords(con: duckdb.DuckDBPyConnection, corpus: Corpus, terms: tuple[str, ...]) -> list[str]:
    stop = {row[0] for row in con.execute(
        f"SELECT sw FROM {corpus.fts}.stopwords WHERE list_contains(from_json(?, '[\"VARCHAR\"]'), sw)",
        [to_json_param(list(terms))],
    ).fetchall()}
    return [t for t in terms if t not in stop]


_BM25 = (
    "log(((st.num_docs - df + 0.5) / (df + 0.5)) + 1) * (tf * ({k} + 1))"
    " / (tf + {k} * (1 - {b} + {b} * len / st.avgdl))"
).format(k=BM25_K, b=BM25_B)
"""One term's BM25 contribution, as the fts extension computes it (``log`` is log10 in DuckDB)."""


def _prefixed(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


_QTERMS = f"SELECT DISTINCT stem(unnest(from_json(?, '[\"VARCHAR\"]')), '{STEMMER}') AS term"


def _indexed_bm25(con, corpus: Corpus, terms, indexed, conds, params, limit) -> list[tuple]:
    """Top indexed rows: the corpus's columns, BM25 score, whether every term is present."""
    fts, table = corpus.fts, corpus.table
    sql = f"""
        WITH qterms AS ({_QTERMS}),
        qt AS (SELECT d.termid, d.df FROM {fts}.dict AS d JOIN qterms AS q ON d.term = q.term),
        tfs AS (SELECT docid, termid, count(*) AS tf FROM {fts}.terms
                WHERE termid IN (SELECT termid FROM qt) GROUP BY docid, termid),
        scored AS (
            SELECT any_value(docs.name) AS row_id, count(*) AS matched, sum({_BM25}) AS score
            FROM tfs JOIN qt USING (termid) JOIN {fts}.docs AS docs USING (docid), {fts}.stats AS st
            GROUP BY tfs.docid),
        top AS (  -- rank on the few columns the filters need, fetch whole rows for the top only
            SELECT id, score, matched = (SELECT count(*) FROM qterms) AS all_terms, t_start
            FROM scored JOIN {table} ON id = row_id{where(["id <= ?", *conds])}
            ORDER BY all_terms DESC, score DESC, t_start DESC, id DESC LIMIT ?)
        SELECT {_prefixed(corpus.columns, 's')}, top.score, top.all_terms FROM top JOIN {table} AS s USING (id)
    """
    return con.execute(sql, [to_json_param(terms), indexed, *params, limit]).fetchall()  # sorted by caller


def _unindexed_bm25(con, corpus: Corpus, terms, indexed, conds, params, limit) -> list[tuple]:
    """Rows newer than the index holding every term (as substrings), scored as if indexed."""
    fts = corpus.fts
    sql = f"""
        WITH cand AS (SELECT {corpus.columns} FROM {corpus.table}
                      {where(["id > ?", *conds, *[_CONTAINS] * len(terms)])}),
        qterms AS ({_QTERMS}),
        toks AS (
            SELECT c.id, stem(tok, '{STEMMER}') AS term
            FROM cand AS c, (SELECT unnest({fts}.tokenize(c.text)) AS tok)
            WHERE tok <> '' AND tok NOT IN (SELECT sw FROM {fts}.stopwords)),
        lens AS (SELECT id, count(*) AS len FROM toks GROUP BY id),
        tfs AS (SELECT id, term, count(*) AS tf FROM toks
                WHERE term IN (SELECT term FROM qterms) GROUP BY id, term),
        dfs AS (SELECT q.term, coalesce(d.df, 0) AS df
                FROM qterms AS q LEFT JOIN {fts}.dict AS d ON d.term = q.term),
        scores AS (
            SELECT tfs.id, sum({_BM25}) AS score
            FROM tfs JOIN dfs USING (term) JOIN lens USING (id), {fts}.stats AS st
            GROUP BY tfs.id)
        SELECT cand.*, coalesce(scores.score, 0.0) AS score
        FROM cand LEFT JOIN scores USING (id)
        ORDER BY score DESC, t_start DESC, id DESC LIMIT ?
    """
    args = [indexed, *params, *terms, to_json_param(terms), limit]
    return con.execute(sql, args).fetchall()


def _substring_matches(con, corpus: Corpus, terms, conds, params, limit) -> list[tuple]:
    sql = (
        f"SELECT {corpus.columns} FROM {corpus.table}{where([*conds, *[_CONTAINS] * len(terms)])}"
        " ORDER BY t_start DESC, id DESC LIMIT ?"
    )
    return con.execute(sql, [*params, *terms, limit]).fetchall()
