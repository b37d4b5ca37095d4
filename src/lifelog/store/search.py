"""Full-text search over text seen (spans) and heard (transcripts), merged into one ranking.

The index is postings tables in the same DuckDB file, kept up by every write (see
``search_index.py``); text is searchable as soon as its batch commits. Queries and text
go through one tokenizer (``terms.py``): words folded for case, accents and plurals, and
character bigrams for scripts written without spaces, so ``会議室`` is found inside
``明日の会議室の予約``.

Ranking: rows containing every term come first (tier 0), by BM25 (k=1.2, b=0.75, idf
``log10((N - df + 0.5) / (df + 0.5) + 1)``, the formula of DuckDB's fts extension that this
index replaced), with each table's own statistics (document count, average length, document
frequencies); then rows with only some terms (tier 1). Ties go to the newer row (then the
higher id, then seen before heard). A score is relative to its own table's statistics (a
rare word in speech may be common on screen), which is what BM25 gives per collection.

Complete matches also hold every run of 3 or more no-space characters of the query as
written (its bigrams alone do not prove the characters stand together); a row with the
bigrams but not the run ranks with the partial matches. Words in double quotes must appear
as that exact phrase, and a lone no-space character as a substring, in every hit. A query
with no index term (only stop words, or one CJK character) is answered by substring, score
0.0, newest first. ``app=`` filters spans by app name and leaves out transcripts (they
have no app). Every user value reaches DuckDB as a parameter; term ids and weights are
numbers computed here.

How it stays fast (measured on a generated year of 16M spans, see BENCHMARKS.md): a term's
postings are found through zonemaps; a complete match joins the terms' postings, rarest
first; partial matches are only computed when fewer than ``limit`` rows match completely,
starting from the rarest terms and adding commoner ones only while their highest possible
contribution could still reach the current ``limit``-th score (MaxScore).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

import duckdb

from lifelog.errors import UsageError
from lifelog.models import SearchHit
from lifelog.store import search_index, terms
from lifelog.store.sql import (
    CORPORA,
    SPANS,
    Corpus,
    span_from_row,
    time_range,
    transcript_from_row,
    utc_naive,
    where,
)

KINDS = tuple(c.kind for c in CORPORA)
MAX_TERMS = 32
BM25_K, BM25_B = 1.2, 0.75

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")
_CONTAINS = "strpos(strip_accents(lower({col})), strip_accents(lower(?))) > 0"


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]  # index terms (folded words, bigrams), first MAX_TERMS, no repeats
    phrases: tuple[str, ...]  # quoted phrases, whitespace-normalised: substrings of every hit
    runs: tuple[str, ...] = ()  # no-space runs of 3+ characters: substrings of complete matches
    chars: tuple[str, ...] = ()  # lone no-space characters: substrings of every hit
    words: tuple[str, ...] = ()  # the query's words as typed (lower case): the substring fallback


def parse_query(text: str) -> ParsedQuery:
    text = text or ""
    phrases = [" ".join(p.lower().split()) for p in _PHRASE.findall(text)]
    phrases = [p for p in dict.fromkeys(phrases) if len(_WORD.findall(p)) > 1 or terms.phrase_runs(p)]
    return ParsedQuery(
        terms=tuple(dict.fromkeys(terms.terms(text)))[:MAX_TERMS],
        phrases=tuple(phrases[:MAX_TERMS]),
        runs=tuple(dict.fromkeys(terms.phrase_runs(text)))[:MAX_TERMS],
        chars=tuple(dict.fromkeys(terms.single_chars(text)))[:MAX_TERMS],
        words=tuple(dict.fromkeys(_WORD.findall(text.lower())))[:MAX_TERMS],
    )


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    since: datetime | None,
    until: datetime | None,
    app: str | None,
    limit: int,
    kinds: tuple[str, ...] = KINDS,
) -> list[SearchHit]:
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise UsageError(f"Unknown search kind(s) {', '.join(sorted(unknown))}. Valid: {', '.join(KINDS)}.")
    parsed = parse_query(query)
    corpora = [c for c in CORPORA if c.kind in kinds and (c.has_app or not app)]
    if limit <= 0 or not (parsed.terms or parsed.phrases or parsed.chars or parsed.words):
        return []
    ranked: list[tuple] = []  # (tier, score, t_start, id, order, corpus)
    for order, corpus in enumerate(corpora):
        filters = _Filters(corpus, parsed, utc_naive(since), utc_naive(until), app)
        ranked += [(tier, score, t_start, doc, order, corpus)
                   for tier, doc, t_start, score in _search_corpus(con, corpus, parsed, filters, limit)]
    ranked.sort(key=lambda h: (h[0], -h[1], -_seconds(h[2]), -h[3], h[4]))
    return _hits(con, ranked[:limit])


def _seconds(ts: datetime) -> float:
    return (ts - datetime.min).total_seconds()


def _hits(con: duckdb.DuckDBPyConnection, ranked: list[tuple]) -> list[SearchHit]:
    rows: dict[tuple[str, int], tuple] = {}
    for corpus in CORPORA:
        ids = [h[3] for h in ranked if h[5] is corpus]
        if ids:
            found = con.execute(
                f"SELECT {corpus.columns} FROM {corpus.table} WHERE id IN ({_ints(ids)})"
            ).fetchall()
            rows.update(((corpus.table, r[0]), r) for r in found)
    hits = []
    for _, score, _, doc, _, corpus in ranked:
        row = rows.get((corpus.table, doc))
        if row is not None:  # a row deleted without search_index.remove() is skipped
            make = span_from_row if corpus is SPANS else transcript_from_row
            key = "span" if corpus is SPANS else "transcript"
            hits.append(SearchHit(float(score), **{key: make(row)}))
    return hits


def _ints(values) -> str:
    return ", ".join(str(int(v)) for v in values)


class _Filters:
    """SQL conditions on a candidate ``doc`` (with its ``t_start``) for one corpus.

    Time: a row overlaps [since, until) when ``t_start < until`` and ``t_end >= since``;
    ``t_start`` is in the postings, and ``t_end >= since`` holds when ``t_start >= since``
    or the row is one of the few that started before ``since`` and lasted past it (DuckDB
    finds those through the zonemaps of ``t_end``). App, quoted phrases and lone characters
    need the row itself (joined as ``r``).
    """

    def __init__(self, corpus: Corpus, parsed: ParsedQuery, since, until, app):
        self.corpus, self.since, self.until, self.app = corpus, since, until, app
        self.texts = [*parsed.phrases, *parsed.chars]

    def sql(self, doc: str, t: str, *, runs: tuple[str, ...] = (), exclude: list[int] = ()) -> tuple[str, list]:
        """``(join and where, params)`` for candidates named ``doc`` / ``t``: ``runs`` must be
        substrings too, ``exclude`` lists docs left out."""
        conds, params, row_conds, row_params = [], [], [], []
        if exclude:
            conds.append(f"{doc} NOT IN ({_ints(exclude)})")
        if self.until is not None:
            conds.append(f"{t} < ?")
            params.append(self.until)
        if self.since is not None:
            conds.append(f"({t} >= ? OR {doc} IN (SELECT id FROM {self.corpus.table}"
                         " WHERE t_end >= ? AND t_start < ?))")
            params += [self.since] * 3
        if self.app:
            row_conds.append("strpos(lower(r.app), lower(?)) > 0")
            row_params.append(self.app)
        texts = [*self.texts, *runs]
        row_conds += [_CONTAINS.format(col="r.text")] * len(texts)
        row_params += texts
        join = f" JOIN {self.corpus.table} AS r ON r.id = {doc}" if row_conds else ""
        return join + where(conds + row_conds), params + row_params


@dataclass
class _Term:
    id: int
    df: int
    idf: float


def _search_corpus(con, corpus: Corpus, parsed: ParsedQuery, filters: _Filters, limit: int) -> list[tuple]:
    """``(tier, doc, t_start, score)`` of the best ``limit`` matches in one table."""
    if not parsed.terms:
        return [(0, doc, t_start, 0.0) for doc, t_start in _substring_matches(con, corpus, parsed, filters, limit)]
    docs, total_len, _ = search_index.stats(con, corpus)
    if docs == 0:
        return []
    avgdl = max(total_len / docs, 1e-9)
    found = _terms(con, corpus, parsed.terms, docs)
    if not found:
        return []
    weight = _Weight(avgdl)
    complete = []
    if len(found) == len(parsed.terms):  # every term occurs somewhere
        complete = _complete(con, corpus, found, weight, filters, parsed.runs, limit)
    ranked = [(0, doc, t_start, score) for doc, t_start, score in complete]
    if len(complete) < limit and (len(parsed.terms) > 1 or parsed.runs):
        exclude = [doc for doc, _, _ in complete]
        ranked += [(1, doc, t_start, score)
                   for doc, t_start, score in _partial(con, corpus, found, weight, filters, exclude,
                                                       limit - len(complete))]
    return ranked


def _terms(con, corpus: Corpus, names: tuple[str, ...], docs: int) -> list[_Term]:
    """The query's terms that occur in ``corpus``, rarest first, with their df and idf."""
    ids = [terms.term_id(t) for t in names]
    counts = ", ".join(f"count(*) FILTER (WHERE term = {i})" for i in ids)
    sql = (f"SELECT {counts} FROM {corpus.postings} WHERE term IN ({_ints(ids)})"
           f" UNION ALL SELECT {counts} FROM {corpus.tail} WHERE term IN ({_ints(ids)})")
    dfs = [sum(col) for col in zip(*con.execute(sql).fetchall())]
    found = [_Term(i, df, math.log10((docs - df + 0.5) / (df + 0.5) + 1)) for i, df in zip(ids, dfs) if df]
    return sorted(found, key=lambda t: (t.df, t.id))


class _Weight:
    """BM25's term-frequency part as SQL, and its upper bound."""

    def __init__(self, avgdl: float):
        self.c1 = BM25_K * (1 - BM25_B)
        self.c2 = BM25_K * BM25_B / avgdl
        # tf <= len, so tf (k+1) / (tf + c1 + c2 len) < (k+1) / (1 + c2): no posting reaches it
        self.bound = (BM25_K + 1) / (1 + self.c2)

    def sql(self, tf: str, length: str) -> str:
        return f"({tf}::DOUBLE * {BM25_K + 1!r} / ({tf}::DOUBLE + {self.c1!r} + {self.c2!r} * {length}::DOUBLE))"


def _postings(corpus: Corpus, ids: list[int], columns: str) -> str:
    match = f"term = {ids[0]}" if len(ids) == 1 else f"term IN ({_ints(ids)})"
    return (f"(SELECT {columns} FROM {corpus.postings} WHERE {match}"
            f" UNION ALL SELECT {columns} FROM {corpus.tail} WHERE {match})")


def _complete(con, corpus: Corpus, found: list[_Term], weight: _Weight, filters: _Filters, runs, limit) -> list:
    """``(doc, t_start, score)`` of the best rows holding every term (and every run)."""
    first = found[0]
    sources = [f"{_postings(corpus, [first.id], 'doc, tf, len, t_start')} AS p0"]
    score = [f"{first.idf!r} * {weight.sql('p0.tf', 'p0.len')}"]
    for n, term in enumerate(found[1:], start=1):
        sources.append(f"JOIN {_postings(corpus, [term.id], 'doc, tf')} AS p{n} ON p{n}.doc = p0.doc")
        score.append(f"{term.idf!r} * {weight.sql(f'p{n}.tf', 'p0.len')}")
    cond, params = filters.sql("p0.doc", "p0.t_start", runs=runs)
    sql = (f"SELECT p0.doc, p0.t_start, {' + '.join(score)} AS score FROM {' '.join(sources)}{cond}"
           " ORDER BY score DESC, p0.t_start DESC, p0.doc DESC LIMIT ?")
    return con.execute(sql, [*params, limit]).fetchall()


def _partial(con, corpus: Corpus, found: list[_Term], weight: _Weight, filters: _Filters,
             exclude: list[int], limit: int) -> list:
    """``(doc, t_start, score)`` of the best rows holding some terms, not in ``exclude``.

    MaxScore: candidates are the rows holding one of the rarest terms; a commoner term joins
    them only while the most the commoner ones could add together could still reach the
    ``limit``-th score found (rows holding none of the candidates' terms score less).
    """
    idf = " ".join(f"WHEN {t.id} THEN {t.idf!r}" for t in found)
    all_ids = [t.id for t in found]
    cond, params = filters.sql("s.doc", "s.t_start", exclude=exclude)
    rows: list = []
    for essential in range(1, len(found) + 1):
        postings = _postings(corpus, all_ids, "term, doc, tf, len, t_start")
        if essential < len(found):
            candidates = _postings(corpus, all_ids[:essential], "doc")
            postings = f"(SELECT * FROM {postings} WHERE doc IN (SELECT doc FROM {candidates}))"
        sql = (f"WITH s AS (SELECT doc, max(t_start) AS t_start,"
               f" sum((CASE term {idf} END) * {weight.sql('tf', 'len')}) AS score FROM {postings} GROUP BY doc)"
               f" SELECT s.doc, s.t_start, s.score FROM s{cond}"
               " ORDER BY s.score DESC, s.t_start DESC, s.doc DESC LIMIT ?")
        rows = con.execute(sql, [*params, limit]).fetchall()
        rest = sum(t.idf for t in found[essential:]) * weight.bound
        if len(rows) == limit and rows[-1][2] >= rest:
            break
    return rows


def _substring_matches(con, corpus: Corpus, parsed: ParsedQuery, filters: _Filters, limit: int) -> list:
    """``(id, t_start)`` of the newest rows holding every word and phrase as substrings."""
    conds, params = time_range(filters.since, filters.until, "t_start", "t_end")
    if filters.app:
        conds.append("strpos(lower(app), lower(?)) > 0")
        params.append(filters.app)
    texts = [*parsed.words, *parsed.phrases]
    conds += [_CONTAINS.format(col="text")] * len(texts)
    sql = f"SELECT id, t_start FROM {corpus.table}{where(conds)} ORDER BY t_start DESC, id DESC LIMIT ?"
    return con.execute(sql, [*params, *texts, limit]).fetchall()
