"""Ranking a timeline for a question (``context --query``, ``ask``).

The timeline is ranked in *chunks*: one minute of one window seen or of one audio source heard,
each limited to the lines that answer (the units holding them: ``focus.py``).
Two rankings are fused by reciprocal rank (each chunk scores the sum of ``1 / (60 + rank)`` over
the lists it is in): BM25 over the lines seen and, apart (the scores of two tables do not
compare), over the speech heard (the search index; a chunk ranks by its best line, a line shown
again in later minutes counts once) and, where an embedding model is installed, the cosine
similarity of the question to the *parts* of chunks, each a message or paragraph
(``store/embeddings.py``, ``replay/semantic.py``), counting half when some line holds every
word the question asks about and double when none does. A chunk's best part fuses with its
BM25 entry; its other parts that rank are entries of their own, limited to their lines. Chunks whose lines
hold the question's words next to each other, in order ("database password"), come before
those where the same words lie scattered. A question about several things is ranked part by
part and the parts take turns, so each part's best chunks come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lifelog.models import SearchHit
from lifelog.store import terms

CANDIDATES = 120  # chunks ranked; the stretches around them are read line by line
PART_LINES = 200  # lines searched for each part of a question about several things
RRF_K = 60
# The best lines the words matched in a chunk that it is limited to (with their units): a word
# found everywhere (a name on every message of a chat) would otherwise bring the whole minute,
# and a first chunk too big for a small window keeps every later one out.
MATCHED_LINES = 3
# The embedding list counts half when some line holds every word the question asks about: its
# top hit is then often only loosely about the question (at 32k over 3 generated days, equal
# weight dropped per-question recall of planted facts from 10/10 to 6/10). When no line does,
# the words are a weak guide and meaning leads: real questions about real conversations mostly
# share few words with their answers (bench/conversations.py, 75 REALTALK questions: evidence
# recall at 8k 0.75 with half weight, 0.82 equal, 0.84 double).
SEMANTIC_WEIGHT = 0.5
SEMANTIC_WEIGHT_WORDS_MISSING = 2.0


@dataclass(frozen=True)
class Ranked:
    """A chunk (``(kind, monitor, app, window, source)``) of one minute, its score (best first)
    and the lines in it that the words matched."""

    minute: datetime
    score: float
    chunk: tuple = ()
    lines: frozenset = frozenset()  # ids of the lines seen that answer (matched, or a part's; none: all the chunk)


def rank_minutes(
    reader, query: str, *, since: datetime | None, until: datetime | None, semantic: bool = True
) -> list[Ranked]:
    """Chunks ranked for ``query`` (BM25 fused with embeddings when available). A question
    about several things ("the password, the budget review and the flight") is ranked part by
    part, and the parts take turns: each part's best chunk, then each part's second best, and
    so on, so no part's answer waits behind the many chunks that hold most of the words. Such
    a question is not also searched whole: with all its words that search cost most of the time
    (3-6 s of ~8 s over 30 generated days) and found lines with many of them scattered."""
    parts = query_parts(query)
    if not parts:
        return _fused(*_rankings(reader, query, since, until, semantic, CANDIDATES))[:CANDIDATES]
    limit = max(PART_LINES, CANDIDATES // len(parts))
    turns = [_fused(*_rankings(reader, part, since, until, semantic, limit)) for part in parts]
    ranked: list[Ranked] = []
    taken: set[tuple] = set()
    for i in range(max(map(len, turns))):
        for turn in turns:
            if i < len(turn) and (turn[i].minute, turn[i].chunk, turn[i].lines) not in taken:
                taken.add((turn[i].minute, turn[i].chunk, turn[i].lines))
                ranked.append(Ranked(turn[i].minute, 1.0 / (RRF_K + len(ranked) + 1), turn[i].chunk, turn[i].lines))
    return ranked[:CANDIDATES]


def _fused(
    lists: list[tuple[float, list[tuple]]], near: dict[tuple, int], lines: dict[tuple, set[int]]
) -> list[Ranked]:
    """Reciprocal rank fusion: a chunk scores the sum of ``weight / (RRF_K + rank)`` over the
    lists it is in; chunks whose lines hold more of the question's word pairs (``near``) first."""
    scores: dict[tuple, float] = {}
    for weight, ranking in lists:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank + 1)
    ordered = sorted(scores.items(), key=lambda kv: (-near.get(kv[0], 0), -kv[1], kv[0][0], repr(kv[0])))
    return [Ranked(key[0], score, key[1:6], frozenset(lines.get(key, ()))) for key, score in ordered]


_PARTS = re.compile(r"[;,?!\n，；？！、]| and | or ")


def query_parts(query: str) -> list[str]:
    """The parts of a question about several things, split at commas, semicolons, question
    marks and "and"/"or" (each part two words or more, or four characters of a script without
    spaces); [] for a question about one thing."""
    parts = [" ".join(p.split()) for p in _PARTS.split(query)]
    parts = [p for p in parts if len(p.split()) >= 2 or (len(p) >= 4 and " " not in p)]
    return parts if len(parts) > 1 else []


# Words that shape a question but are not what it asks about. Left in, they decide the ranking:
# the search puts lines holding every word of the query first, and the lines of a chat that
# hold "what", "did" and "you" are other questions.
QUESTION_WORDS = frozenset(
    "what when where who whom whose which why how did do does done was were am is are been being "
    "has have had can could would should shall will ever you your yours i me my mine we us our "
    "he him his she her hers they them their it its about any some both tell remember recall".split()
)


def asked_for(query: str) -> str:
    """The words of a question that say what it asks about: its question words ("what",
    "did", "you") left out, unless nothing else is left; a query with a quoted phrase is
    taken as written."""
    if '"' in query:
        return query
    kept = [w for w in query.split() if w.strip("?!.,;:'\"()").lower() not in QUESTION_WORDS]
    return " ".join(kept) if terms.terms(" ".join(kept)) else query


def _rankings(
    reader, query: str, since, until, semantic: bool, limit: int
) -> tuple[list[tuple[float, list[tuple]]], dict[tuple, int], dict[tuple, set[int]]]:
    """Chunk keys best first: BM25 over what was seen, over what was heard (apart: the scores of
    two tables do not compare), and by meaning when an embedding model runs here; the
    :func:`_nearness` of each BM25 chunk's best line; and the ids of the lines seen that
    matched, by chunk. A line shown again in later minutes counts once (at its best hit)."""
    lists: list[tuple[float, list[tuple]]] = []
    near: dict[tuple, int] = {}
    lines: dict[tuple, set[int]] = {}
    words = asked_for(query)
    query_terms = terms.terms(words)
    complete = False  # some line holds every word asked about
    for kind in ("seen", "heard"):
        hits = reader.search(words, since=since, until=until, limit=limit, kinds=(kind,))
        texts: dict[str, SearchHit] = {}
        for h in hits:
            texts.setdefault((h.span or h.transcript).text, h)
            matched = lines.setdefault(_key(h), set()) if h.span is not None else None
            if matched is not None and len(matched) < MATCHED_LINES:
                matched.add(h.span.id)
        keys = []
        for text, h in texts.items():
            keys.append(_key(h))
            near[keys[-1]] = max(near.get(keys[-1], 0), _nearness(query_terms, text))
        lists.append((1.0, list(dict.fromkeys(keys))))
        complete = complete or any(set(query_terms) <= set(terms.terms(text)) for text in list(texts)[:3])
    said = reader.said_by({w.strip("?!.,;:'\"()").lower() for w in query.split()}, since, until, limit)
    if said:  # a question naming a voice ("the call with Dana") is about what it said
        lists.append((1.0, [(m, "heard", None, "", "", source) for m, source in said]))
    if semantic:
        from lifelog.replay.semantic import semantic_hits

        hits = semantic_hits(reader, query, since=since, until=until, k=limit) or []
        weight = SEMANTIC_WEIGHT if complete else SEMANTIC_WEIGHT_WORDS_MISSING
        lists.append((weight, _part_keys(hits, lines)))
    return lists, near, lines


def _part_keys(hits, lines: dict[tuple, set[int]]) -> list[tuple]:
    """Keys of semantic hits best first: a chunk's best part has the chunk's key (it fuses with
    the chunk's BM25 entry, and the lines it holds join those the words matched); each further
    part of it is its own entry (the key and the part's number), limited to its own lines."""
    keys: list[tuple] = []
    taken: set[tuple] = set()
    for c in hits:
        key: tuple = (_minute(c.chunk_start), c.kind, c.monitor, c.app, c.window, c.source)
        if key in taken:
            key = (*key, c.part)
        else:
            taken.add(key)
        if c.line_ids:  # none: the whole chunk (speech, or a chunk embedded before parts)
            lines.setdefault(key, set()).update(c.line_ids)
        keys.append(key)
    return keys


def _key(hit) -> tuple:
    if hit.span is not None:
        s = hit.span
        return (_minute(s.t_start), "seen", s.monitor, s.app, s.window, "")
    return (_minute(hit.transcript.t_start), "heard", None, "", "", hit.transcript.source)


def _nearness(query_terms: list[str], text: str) -> int:
    """How many pairs of the question's neighbouring words (stop words left out) stand next to
    each other, in order, in ``text``: "database password" for "the staging database password",
    where a line of the same words scattered holds none."""
    pairs = set(zip(query_terms, query_terms[1:]))
    words = terms.terms(text)
    return len(pairs & set(zip(words, words[1:])))


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)
