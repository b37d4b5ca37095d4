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

Chinese is one language in either script: terms are folded to Simplified on both sides
(``terms.fold``), and so are the query's substrings (phrases, runs, lone characters); a
stored text, never folded itself, is compared through SQL's ``translate`` of just the
Traditional characters that fold to one of the substring's own, so ``"會議室"`` finds
``会议室`` and the reverse.

How it stays fast (measured on a generated year of 16M spans, see BENCHMARKS.md): each
term's postings are found through zonemaps, one ``term = <id>`` scan per term; time and
app filters apply to the postings; a complete match joins the terms' postings, rarest
first; partial matches are only computed when fewer than ``limit`` rows match completely,
starting from the rarest terms and adding commoner ones only while their highest possible
contribution could still reach the current ``limit``-th score (MaxScore). Conditions on
the text (quoted phrases, runs, lone characters) are checked on the best candidates by id,
a page at a time, and past ``CHECK_MAX`` candidates by one join; rows are fetched by id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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
_CONTAINS_FOLDED = "strpos(translate(strip_accents(lower({col})), ?, ?), strip_accents(lower(?))) > 0"


def _contains(col: str, texts: Sequence[str]) -> tuple[list[str], list]:
    """Conditions that column ``col`` holds each of ``texts`` (folded: ``terms.fold``), and
    their params: a text with Chinese characters compares against ``col`` folded on the fly."""
    conds: list[str] = []
    params: list = []
    for text in texts:
        src, dst = terms.unfold(text)
        if src:
            conds.append(_CONTAINS_FOLDED.format(col=col))
            params += [src, dst, text]
        else:
            conds.append(_CONTAINS.format(col=col))
            params.append(text)
    return conds, params


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]  # index terms (folded words, bigrams), first MAX_TERMS, no repeats
    phrases: tuple[str, ...]  # quoted phrases, whitespace-normalised, folded: substrings of every hit
    runs: tuple[str, ...] = ()  # no-space runs of 3+ characters: substrings of complete matches
    chars: tuple[str, ...] = ()  # lone no-space characters: substrings of every hit
    words: tuple[str, ...] = ()  # the query's words as typed (lower case, folded): the substring fallback


def parse_query(text: str) -> ParsedQuery:
    text = text or ""
    phrases = [terms.fold(" ".join(p.lower().split())) for p in _PHRASE.findall(text)]
    phrases = [p for p in dict.fromkeys(phrases) if len(_WORD.findall(p)) > 1 or terms.phrase_runs(p)]
    return ParsedQuery(
        terms=tuple(dict.fromkeys(terms.terms(text)))[:MAX_TERMS],
        phrases=tuple(phrases[:MAX_TERMS]),
        runs=tuple(dict.fromkeys(terms.phrase_runs(text)))[:MAX_TERMS],
        chars=tuple(dict.fromkeys(terms.single_chars(text)))[:MAX_TERMS],
        words=tuple(dict.fromkeys(_WORD.findall(terms.fold(text.lower()))))[:MAX_TERMS],
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
    speakers: list[int] | None = None,
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
        filters = _Filters(con, corpus, parsed, utc_naive(since), utc_naive(until), app, speakers)
        ranked += [
            (tier, score, t_start, doc, order, corpus)
            for tier, doc, t_start, score in _search_corpus(con, corpus, parsed, filters, limit)
        ]
    ranked.sort(key=lambda h: (h[0], -h[1], -_seconds(h[2]), -h[3], h[4]))
    return _hits(con, ranked[:limit])


def _seconds(ts: datetime) -> float:
    return (ts - datetime.min).total_seconds()


def _hits(con: duckdb.DuckDBPyConnection, ranked: list[tuple]) -> list[SearchHit]:
    rows: dict[tuple[str, int], tuple] = {}
    for corpus in CORPORA:
        ids = [h[3] for h in ranked if h[5] is corpus]
        rows.update(((corpus.table, r[0]), r) for r in _rows(con, corpus, ids, corpus.columns))
    hits = []
    for _, score, _, doc, _, corpus in ranked:
        row = rows.get((corpus.table, doc))
        if row is not None:  # a row deleted without search_index.remove() is skipped
            if corpus is SPANS:
                hits.append(SearchHit(float(score), span=span_from_row(row)))
            else:
                hits.append(SearchHit(float(score), transcript=transcript_from_row(row)))
    return hits


def _rows(con, corpus: Corpus, ids: list[int], columns: str, conds: str = "", params: Sequence = ()) -> list:
    """Rows by id, one zonemap-pruned lookup each (``id IN (...)`` would scan the table)."""
    one = f"SELECT {columns} FROM {corpus.table} WHERE id = {{}}{conds}"
    rows = []
    for start in range(0, len(ids), 200):  # DuckDB's expression depth limit
        chunk = ids[start : start + 200]
        rows += con.execute(" UNION ALL ".join(one.format(int(i)) for i in chunk), list(params) * len(chunk)).fetchall()
    return rows


def _ints(values) -> str:
    return ", ".join(str(int(v)) for v in values)


class _Filters:
    """Conditions on candidates for one corpus.

    Time and app are checked on the postings: a row overlaps [since, until) when ``t_start <
    until`` and ``t_end >= since``; ``t_start`` is in the postings, and ``t_end >= since``
    holds when ``t_start >= since`` or the row is one of the few that started before
    ``since`` and lasted past it (found through the zonemaps of ``t_end``). The app filter
    becomes the numbers of the matching names in ``search_apps``. Quoted phrases, lone
    characters and runs need the row's text: they are checked on the best candidates by id,
    a page at a time (:func:`_take`).
    """

    def __init__(self, con, corpus: Corpus, parsed: ParsedQuery, since, until, app, speakers=None):
        self.corpus, self.since, self.until, self.app = corpus, since, until, app
        self.speakers: list[int] | None = speakers  # transcripts of these voices only
        self.texts = [*parsed.phrases, *parsed.chars]
        self.apps: list[int] | None = None
        if app:
            self.apps = [
                r[0]
                for r in con.execute(
                    "SELECT id FROM search_apps WHERE strpos(lower(app), lower(?)) > 0", [app]
                ).fetchall()
            ]

    @property
    def nothing(self) -> bool:
        """True when the app filter matches no app at all."""
        return self.apps == []

    def app_sql(self, column: str = "app") -> str:
        """A condition on a postings query's app column (empty without an app filter)."""
        if not self.apps:
            return ""
        return f" AND {column} = {self.apps[0]}" if len(self.apps) == 1 else f" AND {column} IN ({_ints(self.apps)})"

    def sql(self, doc: str, t: str, *, exclude: Sequence[int] = ()) -> tuple[str, list]:
        """``(where, params)`` for candidates named ``doc`` / ``t``, ``exclude`` left out."""
        conds, params = [], []
        if exclude:
            conds.append(f"{doc} NOT IN ({_ints(exclude)})")
        if self.until is not None:
            conds.append(f"{t} < ?")
            params.append(self.until)
        if self.since is not None:
            conds.append(
                f"({t} >= ? OR {doc} IN (SELECT id FROM {self.corpus.table} WHERE t_end >= ? AND t_start < ?))"
            )
            params += [self.since] * 3
        return where(conds), params

    def row_sql(self, runs: tuple[str, ...] = (), row: str = "") -> tuple[list[str], list]:
        """Conditions on the row's text and speaker (its columns prefixed with ``row``) and
        their params."""
        conds, params = _contains(f"{row}text", [*self.texts, *runs])
        if self.speakers is not None:
            conds.append(f"{row}speaker IN ({_ints(self.speakers)})")
        return conds, params


CHECK_PAGE = 64
CHECK_MAX = 512
"""Candidates checked by id at most; past that the row conditions run as a join."""


def _take(
    con,
    corpus: Corpus,
    filters: _Filters,
    ranked_sql: str,
    doc: str,
    params: list,
    limit: int,
    runs: tuple[str, ...] = (),
) -> list:
    """The first ``limit`` rows of ``ranked_sql`` (``(doc, t_start, score)``, ordered, no LIMIT)
    whose rows pass the row conditions. Those are checked on a page of the best candidates at
    a time, by id; a filter that keeps few rows ends in one join instead."""
    conds, row_params = filters.row_sql(runs)
    if not conds:
        return con.execute(f"{ranked_sql} LIMIT ?", [*params, limit]).fetchall()
    kept, offset, page = [], 0, max(CHECK_PAGE, 2 * limit)
    while offset < CHECK_MAX:
        rows = con.execute(f"{ranked_sql} LIMIT ? OFFSET ?", [*params, page, offset]).fetchall()
        ok = {r[0] for r in _rows(con, corpus, [r[0] for r in rows], "id", " AND " + " AND ".join(conds), row_params)}
        kept += [r for r in rows if r[0] in ok]
        if len(kept) >= limit or len(rows) < page:
            return kept[:limit]
        offset, page = offset + page, page * 2
    conds, _ = filters.row_sql(runs, row="r.")
    joined = (
        f"SELECT q.* FROM ({ranked_sql}) AS q JOIN {corpus.table} AS r ON r.id = q.{doc}"
        f" WHERE {' AND '.join(conds)} ORDER BY q.score DESC, q.t_start DESC, q.doc DESC LIMIT ?"
    )
    return con.execute(joined, [*params, *row_params, limit]).fetchall()


@dataclass
class _Term:
    id: int
    df: int
    idf: float


def _search_corpus(con, corpus: Corpus, parsed: ParsedQuery, filters: _Filters, limit: int) -> list[tuple]:
    """``(tier, doc, t_start, score)`` of the best ``limit`` matches in one table."""
    if not parsed.terms:
        return [(0, doc, t_start, 0.0) for doc, t_start in _substring_matches(con, corpus, parsed, filters, limit)]
    if filters.nothing:
        return []
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
    quoted = {t for phrase in parsed.phrases for t in terms.terms(phrase)}
    if len(complete) < limit and (len(parsed.terms) > 1 or parsed.runs) and not set(parsed.terms) <= quoted:
        # (a row holding every quoted phrase holds each of their terms: when those are all
        # the terms, no partial match can pass the phrase check)
        exclude = [doc for doc, _, _ in complete]
        ranked += [
            (1, doc, t_start, score)
            for doc, t_start, score in _partial(con, corpus, found, weight, filters, exclude, limit - len(complete))
        ]
    return ranked


def _terms(con, corpus: Corpus, names: tuple[str, ...], docs: int) -> list[_Term]:
    """The query's terms that occur in ``corpus``, rarest first, with their df and idf."""
    ids = [terms.term_id(t) for t in names]
    counts = ", ".join(f"(SELECT count(*) FROM {_postings(corpus, i, 'doc')})" for i in ids)
    dfs = con.execute(f"SELECT {counts}").fetchone()
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


def _postings(corpus: Corpus, term: int, columns: str, cond: str = "") -> str:
    """One term's postings. Always ``term = <id>``: DuckDB prunes by zonemap for an equality,
    while ``term IN (...)`` only narrows to the range between the smallest and largest id."""
    return (
        f"(SELECT {columns} FROM {corpus.postings} WHERE term = {int(term)}{cond}"
        f" UNION ALL SELECT {columns} FROM {corpus.tail} WHERE term = {int(term)}{cond})"
    )


def _complete(con, corpus: Corpus, found: list[_Term], weight: _Weight, filters: _Filters, runs, limit) -> list:
    """``(doc, t_start, score)`` of the best rows holding every term (and every run)."""
    first = found[0]
    sources = [f"{_postings(corpus, first.id, 'doc, tf, len, t_start', filters.app_sql())} AS p0"]
    score = [f"{first.idf!r} * {weight.sql('p0.tf', 'p0.len')}"]
    for n, term in enumerate(found[1:], start=1):
        sources.append(f"JOIN {_postings(corpus, term.id, 'doc, tf')} AS p{n} ON p{n}.doc = p0.doc")
        score.append(f"{term.idf!r} * {weight.sql(f'p{n}.tf', 'p0.len')}")
    cond, params = filters.sql("p0.doc", "p0.t_start")
    sql = (
        f"SELECT p0.doc AS doc, p0.t_start AS t_start, {' + '.join(score)} AS score FROM {' '.join(sources)}{cond}"
        " ORDER BY score DESC, t_start DESC, doc DESC"
    )
    return _take(con, corpus, filters, sql, "doc", params, limit, runs)


def _partial(
    con, corpus: Corpus, found: list[_Term], weight: _Weight, filters: _Filters, exclude: list[int], limit: int
) -> list:
    """``(doc, t_start, score)`` of the best rows holding some terms, not in ``exclude``.

    MaxScore: candidates are the rows holding one of the rarest terms; a commoner term joins
    them only while the most the commoner ones could add together could still reach the
    ``limit``-th score found (rows holding none of the candidates' terms score less).
    """
    each = " UNION ALL ".join(
        f"SELECT doc, t_start, {t.idf!r} * {weight.sql('tf', 'len')} AS w"
        f" FROM {_postings(corpus, t.id, 'doc, tf, len, t_start', filters.app_sql())}"
        for t in found
    )
    cond, params = filters.sql("doc", "t_start", exclude=exclude)
    rows: list = []
    for essential in range(1, len(found) + 1):
        postings = f"({each})"
        if essential < len(found):
            candidates = " UNION ALL ".join(
                f"SELECT doc FROM {_postings(corpus, t.id, 'doc', filters.app_sql())}" for t in found[:essential]
            )
            postings = f"(SELECT * FROM ({each}) WHERE doc IN ({candidates}))"
        sql = (
            f"SELECT doc, t_start, score FROM (SELECT doc, max(t_start) AS t_start, sum(w) AS score"
            f" FROM {postings} GROUP BY doc){cond} ORDER BY score DESC, t_start DESC, doc DESC"
        )
        rows = _take(con, corpus, filters, sql, "doc", params, limit)
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
    if filters.speakers is not None:
        conds.append(f"speaker IN ({_ints(filters.speakers)})")
    texts, text_params = _contains("text", [*parsed.words, *parsed.phrases])
    conds += texts
    sql = f"SELECT id, t_start FROM {corpus.table}{where(conds)} ORDER BY t_start DESC, id DESC LIMIT ?"
    return con.execute(sql, [*params, *text_params, limit]).fetchall()
