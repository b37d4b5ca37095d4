"""``context --query``: the stretches that answer the question at full detail, the rest as an
outline, under the budget, counted exactly. Real DuckDB timelines, real search index."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from lifelog.models import OcrLine, Transcript
from lifelog.replay.context import build_context
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.facts import DAYS, FACTS, QUERIES, T0, WINDOWS, WORDS, at, plant
from tests.support.writes import show


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return plant(Store(tmp_path_factory.mktemp("focus") / "t.duckdb"))


def _ctx(store, budget, query, fmt="markdown", semantic=False, tokenizer="o200k"):
    with store.read() as r:
        return build_context(
            r,
            since=T0,
            until=at(DAYS, 0, 0),
            budget=budget,
            fmt=fmt,
            tokenizer=tokenizer,
            query=query,
            semantic=semantic,
        )


@pytest.mark.parametrize("i", sorted(QUERIES))
def test_each_fact_is_in_a_small_window_for_a_question_about_it(store, i):
    w = _ctx(store, 4000, QUERIES[i])
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= 4000
    assert FACTS[i][4] in w.text
    assert w.omitted is not None and w.omitted.focus == QUERIES[i]
    assert "around the best matches for" in w.text


def test_without_a_query_the_old_facts_are_not_in_the_same_budget(store):
    w = _ctx(store, 4000, None)
    assert not any(f[4] in w.text for f in FACTS)


def test_all_facts_for_one_question_naming_them_all(store):
    w = _ctx(store, 8000, "staging database password rotated; budget review moved; outage root cause certificate")
    assert all(f[4] in w.text for f in FACTS), w.text[:3000]
    assert w.tokens <= 8000


def test_neighbours_in_time_come_along_in_time_order(store):
    w = _ctx(store, 4000, QUERIES[1])
    heard = w.text.index(FACTS[1][4])
    # what was on screen in the minutes around the speech is there too, in time order
    assert "#4.6.30." in w.text
    blocks = [line for line in w.text.splitlines() if line.startswith("### ")]
    times = [b.split(" ")[1] for b in blocks]
    assert heard > 0 and len(times) > 3


@pytest.mark.parametrize("budget", [600, 1500, 3000, 9000, 30000])
@pytest.mark.parametrize("fmt", ["markdown", "json", "xml"])
def test_never_over_budget_exact_and_deterministic(store, budget, fmt):
    a = _ctx(store, budget, QUERIES[2], fmt)
    b = _ctx(store, budget, QUERIES[2], fmt)
    assert a.text == b.text
    assert a.tokens == get_tokenizer("o200k").count(a.text) <= budget
    if fmt == "json":
        doc = json.loads(a.text)
        assert doc["tokens"] == a.tokens and doc["omitted"]["query"] == QUERIES[2]


def test_an_approximate_tokenizer_stays_under_its_bound(store):
    w = _ctx(store, 5000, QUERIES[0], tokenizer="claude-approx")
    assert w.tokens == get_tokenizer("claude-approx").count(w.text) <= 5000
    assert FACTS[0][4] in w.text


def test_a_query_with_no_match_falls_back_and_says_so(store):
    w = _ctx(store, 3000, "zyzzyva quokka")
    assert "Nothing in this range matches" in w.note
    assert w.omitted is not None and not w.omitted.focus and w.tokens <= 3000


def test_a_range_that_fits_goes_in_whole_even_with_a_query(store):
    since, until = at(4, 6, 0), at(4, 7, 0)
    with store.read() as r:
        plain = build_context(r, since=since, until=until, budget=50_000)
        asked = build_context(r, since=since, until=until, budget=50_000, query=QUERIES[1], semantic=False)
    assert plain.omitted is None and asked.text == plain.text


def test_meaning_finds_what_shares_no_word_with_the_question(tmp_path):
    """The fused ranking: a question worded unlike the fact (no shared index term) still brings
    it in once the minutes are embedded (the real e5 model), and not by words alone."""
    from lifelog.store.embeddings import embed_store
    from lifelog.tokenize_media.embed import embedding_unavailable, get_embedder

    if embedding_unavailable():
        pytest.skip(embedding_unavailable())
    s = Store(tmp_path / "t.duckdb")
    topics = [
        "flaky login test retried in CI",
        "grocery list: oat milk, bread, apples",
        "kernel upgrade scheduled for the build farm",
        "holiday photos uploaded to the shared album",
        "Dana moved the quarterly budget review to Thursday at 3 pm",
        "new font for the slides",
    ]
    with s.write() as w:
        for day in range(3):
            for i, topic in enumerate(topics):
                ts = at(day, i, 0)
                text = topic if (day, i) == (1, 4) else f"{topics[(i + day) % 4]} (day {day})"
                show(
                    w,
                    ts,
                    "Slack",
                    "#team",
                    [OcrLine(text, (10, 10, 900, 30)), OcrLine(f"padding line {day} {i} " * 8, (10, 40, 900, 60))],
                )
        w.close_spans(at(3, 0, 0))
    assert embed_store(s, get_embedder(), max_chunks=100, now=at(4, 0, 0)) > 0
    question = "when is the finance meeting now?"
    fact = topics[4]
    with s.read() as r:
        words = build_context(r, since=T0, until=at(3, 0, 0), budget=400, query=question, semantic=False)
        meaning = build_context(r, since=T0, until=at(3, 0, 0), budget=400, query=question, semantic=True)
    assert fact not in words.text
    assert fact in meaning.text and meaning.tokens <= 400


def test_a_question_about_several_things_is_ranked_part_by_part():
    from lifelog.replay.rank import query_parts

    assert query_parts("the staging password, the budget review Dana moved and the outage cause?") == [
        "the staging password",
        "the budget review Dana moved",
        "the outage cause",
    ]
    assert query_parts("why did the deploy fail") == []  # one thing: the whole question only
    assert query_parts("注意力竞争，语音识别模型") == ["注意力竞争", "语音识别模型"]


# Six facts for one question naming them all, each with near misses, in screens and speech
# full of the same topic words scattered (as in bench/generators/needle_facts.py, much smaller).
MANY_FACTS = [
    (0, 1, 17, "seen", "Heads up: the staging database password was rotated to tangerine-47, update your env files"),
    (0, 5, 41, "heard", "okay so Dana moved the budget review to Thursday at 3pm because finance needs a day"),
    (1, 2, 10, "seen", "Your flight to Lisbon on March 14 is confirmed. Booking reference: QX7R2M"),
    (1, 6, 52, "heard", "by the way the wifi password on the fourth floor is now lanternfish all one word"),
    (0, 3, 28, "seen", "The deploy freeze starts December 18 and ends January 4, no prod changes in between"),
    (1, 7, 5, "heard", "Marco's new phone extension is 4417 since he moved desks last week"),
]
MANY_DISTRACTORS = [
    (1, 4, 11, "seen", "FYI the production database password was rotated to walnut-12 this morning"),
    (1, 0, 35, "heard", "and the staging redis password was rotated to harbor-93 yesterday"),
    (0, 3, 22, "heard", "Dana moved the design review to Friday at 10am for the mockups"),
    (1, 5, 14, "seen", "I moved the budget sync to Tuesday at 2pm, same room"),
    (0, 6, 47, "seen", "Your hotel in Lisbon from March 14 is confirmed. Booking reference: HT8W2A"),
    (0, 2, 5, "heard", "the guest wifi password is now copperkettle for the visitors"),
    (1, 7, 26, "seen", "Reminder: the mobile code freeze starts December 11 for the app store review"),
    (0, 0, 44, "seen", "my new phone extension is 4402 if you need me"),
]
MANY_QUERY = (
    "What changed about the staging database password, the budget review Dana moved, the flight to "
    "Lisbon booking, the fourth floor wifi password, the deploy freeze and Marco's phone extension?"
)
TOPIC_WORDS = (
    "staging database password rotated budget review moved flight lisbon booking wifi fourth floor "
    "deploy freeze phone extension changed week desk"
).split()
COMMON = [w for w in WORDS if w not in TOPIC_WORDS]
TOPIC_SHARE = 1 / 8


def plant_many(s: Store, days: int = 2) -> Store:
    """``days`` of busy screens (a new one every 3 minutes, 10 short lines of common words, one
    word in eight a topic word of the facts) and of speech every 6 minutes, with MANY_FACTS and
    MANY_DISTRACTORS planted: the short filler lines that hold a topic's words scattered outscore
    the longer lines that answer, by BM25 alone."""
    rng = random.Random(11)
    planted = {(d, h, m): (k, t) for d, h, m, k, t in MANY_FACTS + MANY_DISTRACTORS}

    def filler(n: int) -> str:
        return " ".join(rng.choice(TOPIC_WORDS if rng.random() < TOPIC_SHARE else COMMON) for _ in range(n))

    with s.write() as w:
        for day in range(days):
            for hour in range(8):
                for minute in range(60):
                    ts = at(day, hour, minute)
                    kind, text = planted.get((day, hour, minute), (None, None))
                    speech = text if kind == "heard" else filler(rng.randint(6, 12)) if minute % 6 == 0 else None
                    if speech:
                        w.add_transcripts(
                            [
                                Transcript(
                                    ts,
                                    ts + timedelta(seconds=8),
                                    "mic",
                                    "faster-whisper",
                                    speech,
                                    tokens=len(speech.split()),
                                )
                            ]
                        )
                    if minute % 3 and kind != "seen":
                        continue
                    app, title = WINDOWS[(hour * 5 + minute // 10 + day) % len(WINDOWS)]
                    lines = [f"{filler(rng.randint(3, 6))} {day}.{hour}.{minute}.{i}" for i in range(10)]
                    if kind == "seen":
                        lines.insert(5, text)
                    show(w, ts, app, title, lines)
        w.close_spans(at(days, 0, 0))
    return s


def test_one_question_naming_six_things_brings_each_answer_past_its_near_misses(tmp_path):
    """Every part of the question gets its best chunks in turn, and a line holding a part's words
    next to each other ("deploy freeze") ranks before lines with the same words scattered. With
    the parts' rankings summed into one instead, and whole minutes widened every fourth chunk
    (commit f2d7304), this window held 1 of the 6 answers, and all 6 took 16k tokens."""
    s = plant_many(Store(tmp_path / "t.duckdb"))
    with s.read() as r:
        w = build_context(r, since=T0, until=at(2, 0, 0), budget=3000, query=MANY_QUERY, semantic=False)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= 3000
    missing = [f[4] for f in MANY_FACTS if f[4] not in w.text]
    assert not missing, missing


def test_a_widening_that_would_fill_the_window_is_left_out_and_the_budget_used(tmp_path):
    """On a dense screen (60 lines a minute) a best minute widened to its neighbours costs more
    than half of a 2,000-token window: it is left out, and more matches take its place instead
    of the window stopping short of it."""
    rng = random.Random(5)
    s = Store(tmp_path / "t.duckdb")
    with s.write() as w:
        for minute in range(180):
            ts = T0 + timedelta(minutes=minute)
            lines = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(60)]
            show(w, ts, "code", "billing.py", [OcrLine(t, (10, 15 * i, 900, 15 * i + 12)) for i, t in enumerate(lines)])
        w.close_spans(T0 + timedelta(minutes=180))
    with s.read() as r:
        w = build_context(
            r, since=T0, until=T0 + timedelta(minutes=180), budget=2000, query="deploy budget", semantic=False
        )
    assert 1800 <= w.tokens <= 2000


def _rows(texts: list[str], t=T0, window="chat", start_id=0):
    from lifelog.store.rows import SeenInStretch

    return [SeenInStretch(0, t, start_id + i, 1, "Signal", window, text, 5) for i, text in enumerate(texts)]


def test_a_matched_line_brings_its_whole_unit_and_only_it():
    from lifelog.replay.focus import _around_matches, units

    message = ["\nDana: the budget review", "moves to Thursday, room 4", "bring the Q3 numbers", "and the slides"]
    rows = _rows(["\nPriya: lunch?", "noon works", *message, "\nPriya: ok", "see you"])
    assert units(rows) == [(0, 2), (2, 6), (6, 8)]
    kept = _around_matches(rows, [frozenset({rows[4].id})])  # "bring the Q3 numbers" matched
    assert [r.text for r in kept] == message
    # a line that appeared at another moment, or in another window, starts a unit of its own
    later = _rows(["and one more thing"], t=T0 + timedelta(seconds=30), start_id=100)
    other = _rows(["a line in another window"], window="notes", start_id=200)
    assert units([*rows[:2], *later, *other]) == [(0, 2), (2, 3), (3, 4)]


def test_a_unit_too_long_to_go_in_whole_keeps_the_lines_around_the_match():
    from lifelog.replay.focus import MATCH_CONTEXT, UNIT_LINES, _around_matches

    rows = _rows([f"log line {i}" for i in range(UNIT_LINES + 10)])
    kept = _around_matches(rows, [frozenset({rows[20].id})])
    assert [r.id for r in kept] == list(range(20 - MATCH_CONTEXT, 20 + MATCH_CONTEXT + 1))


def test_question_words_do_not_decide_the_ranking():
    from lifelog.replay.rank import asked_for

    assert asked_for("What tv shows did Paola watch?") == "tv shows Paola watch?"
    assert asked_for("Who is it?") == "Who is it?"  # nothing else left: as written
    assert asked_for('what did "we decide"') == 'what did "we decide"'  # a quoted phrase: as written
    assert asked_for("who moved the budget review meeting") == "moved the budget review meeting"


def test_questions_answered_in_the_window_are_not_called_weak(store):
    for query in QUERIES.values():
        w = _ctx(store, 4000, query)
        assert "weak evidence" not in w.text and w.omitted.weak is None


@pytest.mark.parametrize("fmt", ["markdown", "json", "xml"])
def test_weak_evidence_is_said_before_the_outline(store, fmt):
    query = "budget flamingo giraffe zebra"
    w = _ctx(store, 4000, query, fmt)
    assert w.omitted.weak is not None
    assert (w.omitted.weak.best, w.omitted.weak.asked, w.omitted.weak.missing) == (
        1,
        4,
        ("flamingo", "giraffe", "zebra"),
    )
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= 4000
    if fmt == "markdown":
        head = w.text.split("\n## ")[0]
        assert (
            "[weak evidence: no moment shown holds more than 1 of the 4 words asked about; nowhere in it: flamingo, giraffe, zebra."
            in head
        )
    elif fmt == "json":
        assert json.loads(w.text)["omitted"]["weak"] == {
            "best": 1,
            "asked": 4,
            "missing": ["flamingo", "giraffe", "zebra"],
        }
    else:
        assert 'weak_best="1" weak_of="4" weak_missing="flamingo giraffe zebra"' in w.text


def test_meaning_brings_the_message_that_answers_not_the_minute_around_it(tmp_path):
    """A chat read in one sitting puts dozens of messages in one minute of one window: the
    message found by meaning comes whole (its two lines) without the minute's other messages."""
    from lifelog.store.embeddings import embed_store
    from lifelog.tokenize_media.embed import embedding_unavailable, get_embedder

    if embedding_unavailable():
        pytest.skip(embedding_unavailable())
    filler = [
        f"{who}: {text}"
        for who, text in [
            ("Dana", "did you see the new coffee machine on the third floor, it grinds beans"),
            ("Omar", "the printer on our floor jammed again and ate half of my report"),
            ("Dana", "my sister is visiting next month and wants to see the old town"),
            ("Omar", "I started reading a long novel about a lighthouse keeper and his dog"),
            ("Dana", "the gym downstairs changed its opening hours to six in the morning"),
            ("Omar", "we should repaint the meeting room, the walls are grey and gloomy"),
        ]
        for _ in range(3)
    ]
    filler = [f"{line} ({n})" for n, line in enumerate(filler)]
    answer = [
        "Omar: I tried the new ramen place on King Street yesterday, the broth was",
        "rich and the noodles hand-made",
    ]
    messages = [[line] for line in filler[:9]] + [answer] + [[line] for line in filler[9:]]
    s = Store(tmp_path / "t.duckdb")
    with s.write() as w:
        lines, top = [], 100
        for message in messages:
            for j, text in enumerate(message):
                lines.append(OcrLine(text, (40, top, 900, top + 18), ord=len(lines), lead="" if j else "\n"))
                top += 20
        show(w, at(0, 9, 0), "WhatsApp", "Omar", lines)
        w.close_spans(at(0, 10, 0))
    assert embed_store(s, get_embedder(), max_chunks=100, now=at(1, 0, 0)) == 1
    with s.read() as r:
        window = build_context(
            r, since=T0, until=at(1, 0, 0), budget=250, query="which restaurant did he like?", semantic=True
        )
    shown = window.text.splitlines()
    assert all(line in shown for line in answer), window.text
    assert sum(line in shown for line in filler) <= len(filler) // 3, window.text  # not the minute


def test_stretches_of_one_window_close_in_time_share_a_header():
    from datetime import datetime

    from lifelog.replay.blocks import Block
    from lifelog.replay.focus import join_stretches

    t = datetime(2026, 3, 2, 22, 29, 0)
    chat = ("WhatsApp", "Dana")
    blocks = [
        Block(t, 0, *chat, ["Dana: the flight leaves at 7:40"]),
        Block(t + timedelta(minutes=4), 0, *chat, ["\nOmar: ok, I will bring the passports", "and the tickets"]),
        Block(t + timedelta(minutes=5), 0, "XTerm", "bash", ["$ make test"]),
        Block(t + timedelta(minutes=6), 0, *chat, ["Dana: see you at the gate"]),
        Block(t + timedelta(minutes=40), 0, *chat, ["Dana: boarding now"]),
        Block(t + timedelta(hours=3), 0, *chat, ["Omar: landed"]),  # the next day (UTC)
    ]
    joined = join_stretches(blocks)
    assert [(b.ts, b.window, b.lines) for b in joined] == [
        (
            t,
            "Dana",
            [
                "Dana: the flight leaves at 7:40",
                "… 22:33:00",
                "\nOmar: ok, I will bring the passports",
                "and the tickets",
            ],
        ),
        (t + timedelta(minutes=5), "bash", ["$ make test"]),
        (t + timedelta(minutes=6), "Dana", ["Dana: see you at the gate"]),  # another window came between
        (t + timedelta(minutes=40), "Dana", ["Dana: boarding now"]),  # over JOIN_WITHIN after the last
        (t + timedelta(hours=3), "Dana", ["Omar: landed"]),
    ]
    assert all(len(b.times) in (0, len(b.lines)) for b in joined)
    assert blocks[0].lines == ["Dana: the flight leaves at 7:40"]  # the blocks given are not changed
