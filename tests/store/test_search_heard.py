"""Search over text heard (transcripts) and seen (spans): one ranking, filters, index upkeep."""

from __future__ import annotations

import random

import pytest

from lifelog.errors import UsageError
from tests.store.search_reference import bm25_scores
from tests.store.timeline_helpers import at, observe, said
from tests.support.rows import transcripts_between
from tests.support.search_words import HOSTILE, WORDS

FILLER = [w for w in WORDS if w not in ("budget", "review")]


def fill_both(store, n: int = 50, seed: int = 3) -> None:
    """Ordinary lines on screen and in speech, none of them about a budget review."""
    rng = random.Random(seed)
    with store.write() as w:
        for i in range(n):
            observe(w, at(i), [" ".join(rng.choice(FILLER) for _ in range(6)) + f" #{i}"])
        w.add_transcripts([said(100 + i, 101 + i, " ".join(rng.choice(FILLER) for _ in range(6))) for i in range(n)])


def describe(hits) -> list[tuple[str, str]]:
    return [(h.kind, (h.span or h.transcript).text) for h in hits]


LONG_SEEN = "notes from the budget review meeting with the client about shipping"
LONG_HEARD = "so for the budget review we need the invoice numbers the shipping addresses and the client list"


def test_a_spoken_phrase_is_found_as_heard_and_ranked_among_seen_hits(store):
    fill_both(store)
    with store.write() as w:
        observe(w, at(200), ["budget review", LONG_SEEN])
        w.add_transcripts([said(201, 203, "okay the budget review"), said(204, 210, LONG_HEARD)])
    with store.read() as r:
        hits = r.search("budget review")
        heard_texts = {t.id: t.text for t in transcripts_between(r, None, None)}
    assert describe(hits) == [  # short lines beat long ones, whichever way they reached us
        ("seen", "budget review"),
        ("heard", "okay the budget review"),
        ("seen", LONG_SEEN),
        ("heard", LONG_HEARD),
    ]
    assert hits[0].score > hits[1].score > hits[2].score > hits[3].score > 0
    heard = hits[1]
    assert heard.span is None and heard.transcript.source == "mic"
    assert (heard.transcript.t_start, heard.transcript.t_end) == (at(201), at(203))
    # the score is BM25 over the transcripts alone, computed here from scratch
    assert heard.score == pytest.approx(bm25_scores(heard_texts, "budget review")[heard.transcript.id])


def test_identical_transcripts_score_the_same_and_the_newer_comes_first(store):
    fill_both(store)
    with store.write() as w:
        w.add_transcripts([said(300, 302, "the budget review is on friday")])
    with store.write() as w:
        w.add_transcripts([said(400, 402, "the budget review is on friday"), said(401, 403, "Budget REVIEW, again")])
    with store.read() as r:
        assert r.stats().counters["unindexed_transcripts"] == 0
        hits = r.search("budget review")
    assert {(h.transcript.text, h.transcript.t_start) for h in hits} == {
        ("the budget review is on friday", at(300)),
        ("the budget review is on friday", at(400)),
        ("Budget REVIEW, again", at(401)),
    }
    same = [h for h in hits if h.transcript.text == "the budget review is on friday"]
    assert same[0].score == pytest.approx(same[1].score) and same[0].score > 0
    assert same[0].transcript.t_start == at(400)  # equal scores: the newer first


def test_speech_is_ranked_by_bm25_as_soon_as_it_is_stored(store):
    with store.write() as w:
        observe(w, at(0), ["budget review slides", "unrelated"])
    with store.write() as w:
        w.add_transcripts([said(5, 7, "let's do the budget review"), said(8, 9, "review later")])
    with store.read() as r:
        hits = r.search("budget review")
    assert {d for d in describe(hits[:2])} == {
        ("seen", "budget review slides"),
        ("heard", "let's do the budget review"),
    }
    assert describe(hits[2:]) == [("heard", "review later")]  # only one of the terms: after both
    assert all(h.score > 0 for h in hits)


def test_a_query_of_stop_words_is_answered_by_substring_newest_first(store):
    with store.write() as w:
        observe(w, at(0), ["this is on screen"])
        w.add_transcripts([said(5, 6, "this was heard"), said(-5, -4, "and this earlier")])
    with store.read() as r:
        hits = r.search("this")
    assert describe(hits) == [
        ("heard", "this was heard"),
        ("seen", "this is on screen"),
        ("heard", "and this earlier"),
    ]
    assert {h.score for h in hits} == {0.0}


def test_app_and_kinds_filters(store):
    with store.write() as w:
        observe(w, at(0), ["budget review deck"], app="Keynote")
        w.add_transcripts([said(1, 3, "the budget review"), said(4, 5, "budget review done", source="system")])
    with store.read() as r:
        assert {h.kind for h in r.search("budget review")} == {"seen", "heard"}
        # speech has no app: an app filter keeps only what was seen in that app
        assert describe(r.search("budget review", app="keynote")) == [("seen", "budget review deck")]
        assert r.search("budget review", app="Slack") == []
        heard = r.search("budget review", kinds=("heard",))
        assert {h.kind for h in heard} == {"heard"} and len(heard) == 2
        assert describe(r.search("budget review", kinds=("seen",))) == [("seen", "budget review deck")]
        assert r.search("budget review", kinds=("heard",), app="keynote") == []
        assert r.search("budget review", kinds=()) == []
        with pytest.raises(UsageError, match="smelt. Valid: seen, heard"):
            r.search("budget review", kinds=("smelt",))


def test_time_range_and_phrases_apply_to_speech(store):
    with store.write() as w:
        w.add_transcripts([said(0, 10, "budget review starts"), said(20, 30, "review the budget again")])
    with store.read() as r:
        assert [h.transcript.text for h in r.search("budget review", since=at(10), until=at(20))] == [
            "budget review starts"  # heard until 10: overlaps [10, 20)
        ]
        assert [h.transcript.text for h in r.search("budget", since=at(25))] == ["review the budget again"]
        assert [h.transcript.text for h in r.search('"budget review"')] == ["budget review starts"]
        assert len(r.search("budget review")) == 2


def test_hostile_input_never_raises_on_speech(store):
    with store.write() as w:
        w.add_transcripts([said(0, 1, "the word is here"), said(1, 2, "'; DROP TABLE transcripts; --")])
    with store.read() as r:
        for query in HOSTILE:
            assert isinstance(r.search(query, kinds=("heard",)), list), query
        assert r.search("the", kinds=("heard",))  # only a stop word: still answered, by substring
        assert r.stats().transcripts == 2
