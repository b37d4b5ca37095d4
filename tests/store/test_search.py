"""Search: BM25 over the postings index, kept up by every write; filters; hostile input."""

from __future__ import annotations

import random

import pytest

from lifelog.store.search import parse_query
from tests.store.timeline_helpers import at, observe
from tests.support.search_words import HOSTILE, WORDS


def fill(store, n_frames: int = 200, seed: int = 7) -> None:
    """Many spans of ordinary text: invoices and 4821s, but never both in one line."""
    rng = random.Random(seed)
    with store.write() as w:
        for i in range(n_frames):
            texts = [" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(8)]
            texts += [f"invoice {1000 + i} paid", f"ticket 4821 comment {i}"]
            app = "Slack" if i % 2 else "Firefox"
            observe(w, at(i * 10), [f"{t} #{i}" for t in texts], app=app)


def test_bm25_finds_the_span_with_both_terms_first(store):
    fill(store)
    with store.write() as w:
        observe(w, at(5000), ["Invoice 4821 is overdue"])
        assert w.refresh_search_index() is False  # indexed as it was stored: nothing waits
    with store.read() as r:
        hits = r.search("invoice 4821")
    assert hits[0].span.text == "Invoice 4821 is overdue"
    assert hits[0].score > hits[1].score > 0
    # then spans with only one of the terms, never unrelated ones
    assert all("invoice" in h.span.text.lower() or "4821" in h.span.text for h in hits)
    assert len(hits) == 20


def test_spans_with_every_term_outrank_stronger_partial_matches(store):
    long_line = "invoice 4821 " + " ".join(WORDS)  # both terms, diluted by many words
    with store.write() as w:
        observe(w, at(0), ["4821 4821", long_line, "unrelated words"])
        observe(w, at(1), ["invoice", "other unrelated words"])
    with store.read() as r:
        texts = [h.span.text for h in r.search("invoice 4821")]
    # BM25 also returns spans with some of the terms, after the complete ones
    assert texts[0] == long_line and set(texts[1:]) == {"4821 4821", "invoice"}


def test_identical_lines_score_the_same_and_the_newer_comes_first(store):
    fill(store)
    with store.write() as w:
        observe(w, at(5000), ["Invoice 4821 is overdue"])
        w.close_spans(at(5001))
    with store.write() as w:
        observe(w, at(6000), ["Invoice 4821 is overdue"])  # same words, a later batch
        observe(w, at(6001), ["reminder: INVOICE 4821"])
    with store.read() as r:
        assert r.stats().counters["unindexed_spans"] == 0
        hits = r.search("invoice 4821", limit=5)
    texts = [(h.span.text, h.span.t_start) for h in hits[:3]]
    assert set(texts) == {
        ("Invoice 4821 is overdue", at(5000)),
        ("Invoice 4821 is overdue", at(6000)),
        ("reminder: INVOICE 4821", at(6001)),
    }
    same = [h for h in hits if h.span.text == "Invoice 4821 is overdue"]
    assert same[0].score == pytest.approx(same[1].score)
    assert same[0].span.t_start == at(6000)  # equal scores: the newer first


def test_complete_matches_come_first_then_partial_ones(store):
    fill(store, n_frames=20)
    with store.write() as w:
        observe(w, at(5000), ["Invoice 4821 is overdue"])
    with store.read() as r:
        hits = r.search("INVOICE 4821")
        assert hits[0].span.text == "Invoice 4821 is overdue"
        assert all(("invoice" in h.span.text) != ("4821" in h.span.text) for h in hits[1:])
        assert r.search("overdue invoice")[0].span.text == "Invoice 4821 is overdue"
        assert r.search("no such words") == []


def test_filters_since_until_and_app(store):
    fill(store, n_frames=40)
    with store.read() as r:
        hits = r.search("4821", since=at(100), until=at(200), limit=100)
        # spans overlapping [100, 200): the one seen at 90 was visible until 100
        assert sorted(h.span.t_start for h in hits) == [at(s) for s in range(90, 200, 10)]
        slack = r.search("4821", app="slack", limit=100)  # case-insensitive, part of the name
        assert len(slack) == 20 and {h.span.app for h in slack} == {"Slack"}
        assert r.search("4821", app="Emacs") == []
        assert len(r.search("4821", limit=3)) == 3
        assert r.search("4821", limit=0) == []


def test_quoted_phrases_must_match_exactly(store):
    with store.write() as w:
        observe(w, at(0), ["pay invoice 4821 today", "invoice paid for 4821"])
    with store.read() as r:
        assert [h.span.text for h in r.search('"invoice 4821"')] == ["pay invoice 4821 today"]
        assert len(r.search("invoice 4821")) == 2


def test_accents_case_and_punctuation_do_not_matter(store):
    with store.write() as w:
        observe(w, at(0), ["Café Münster: order #4821", "foo.bar(baz_qux)"])
    with store.read() as r:
        assert [h.span.text for h in r.search("cafe MUNSTER")] == ["Café Münster: order #4821"]
        assert [h.span.text for h in r.search("foo.bar")] == ["foo.bar(baz_qux)"]
        assert [h.span.text for h in r.search("order#4821!")] == ["Café Münster: order #4821"]


def test_hostile_input_never_raises(store):
    fill(store, n_frames=10)
    with store.write() as w:
        observe(w, at(5000), ["the word is here"])
    with store.read() as r:
        before = r.stats().text_spans
        for query in HOSTILE:
            assert isinstance(r.search(query), list), query
        assert r.search("the")  # only a stop word: still answered, by substring
        assert r.stats().text_spans == before


def test_parse_query():
    assert parse_query('Invoice 4821 "due  Today" invoice').terms == ("invoice", "4821", "due", "today")
    assert parse_query('Invoice 4821 "due  Today"').phrases == ("due today",)
    assert parse_query('"single" word').phrases == ()
    assert parse_query("'; DROP TABLE x; --").terms == ("drop", "table", "x")
    assert parse_query("").terms == () and parse_query(None).terms == ()
