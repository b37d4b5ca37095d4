"""The columnar tail (``replay/tail.py``) means exactly what the block-by-block reading means:
the same lines in the same window order, the same blocks, the same repeats left out, the same
hour tallies, whether read in one stretch or backwards in several. A random timeline written
through the real writer: several windows and monitors, lines shown again, blank lines and
indentation before lines, speech, events, spans begun before the range."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from lifelog.models import OcrLine, Transcript
from lifelog.replay.blocks import build_blocks, event_blocks, merge_chronological, transcript_blocks
from lifelog.replay.fit import Lines
from lifelog.replay.outline import Outliner
from lifelog.replay.tail import Tail
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.rows import seen_rows
from tests.support.writes import show

T0 = datetime(2026, 3, 2, 9, 0, 0)
WINDOWS = [("firefox", "Docs"), ("XTerm", "bash"), ("code", "app.py"), ("code", "util.py"), ("", "")]
WORDS = "alpha beta gamma delta deploy budget invoice 预算 会议 print(x) return".split()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = random.Random(7)
    s = Store(tmp_path_factory.mktemp("tail") / "t.duckdb")
    ts = T0
    with s.write() as w:
        w.add_event(T0, "record_start")
        for step in range(900):  # ~6 hours: a frame every ~24 s, sometimes two at one moment
            ts += timedelta(seconds=rng.choice([0, 1, 5, 20, 40, 70]))
            for monitor in [1, 2] if rng.random() < 0.2 else [rng.choice([1, 2])]:
                app, title = rng.choice(WINDOWS)
                n = rng.randint(1, 6)
                lines = []
                for i in range(n):
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
                    if rng.random() < 0.3:
                        text = rng.choice(["the same line again", "menu: File Edit View", text])
                    lead = rng.choice(["", "", "", "\n", "    ", "# "])
                    lines.append(OcrLine(text, (10, 30 * i, 900, 30 * i + 20), ord=i, lead=lead))
                show(w, ts, app, title, lines, monitor)
            if step % 37 == 0:
                w.add_transcripts(
                    [
                        Transcript(
                            ts,
                            ts + timedelta(seconds=4),
                            rng.choice(["mic", "system"]),
                            "faster-whisper",
                            f"spoken words {step}",
                        )
                    ]
                )
            if step % 300 == 150:
                w.add_event(ts, "gap", {"until": (ts + timedelta(minutes=3)).isoformat(), "reason": "paused"})
        w.close_spans(ts + timedelta(minutes=1))
    return s


def _reference(reader, since, until, tok) -> tuple[Lines, list[tuple]]:
    """The block-by-block reading: rows as tuples, blocks as objects."""
    seen, heard = seen_rows(reader, since, until), reader.heard_columns(since, until)
    blocks = merge_chronological(
        build_blocks(seen, since), transcript_blocks(heard, since), event_blocks(reader.events_between(since, until))
    )
    rows = [
        ((b.times[j] if b.times else b.ts), b.kind, b.source if b.kind == "heard" else b.app, b.window, line, j == 0)
        for b in blocks
        for j, line in enumerate(b.lines)
    ]
    return Lines(blocks, tok), rows


def _tail(reader, since, until, tok, starts):
    tail = Tail(reader, since, until, tok)
    for start in starts:
        tail.read_back(start)
    return tail.lines()


@pytest.mark.parametrize("since_minutes", [0, 17.5, 95])
@pytest.mark.parametrize("stretches", [1, 3])
def test_the_columnar_tail_reads_as_the_blocks_do(store, since_minutes, stretches):
    tok = get_tokenizer("o200k")
    since = T0 + timedelta(minutes=since_minutes)
    until = T0 + timedelta(hours=5, minutes=41)
    # backwards in whole hours, the last stretch from ``since`` (lines begun before it placed at it)
    starts = [T0 + timedelta(hours=h) for h in (4, 3)][: stretches - 1] + [None]
    with store.read() as r:
        ref, rows = _reference(r, since, until, tok)
        got = _tail(r, since, until, tok, starts)
    assert len(got) == len(ref) > 1000
    assert got.text.tolist() == ref.text
    assert np.array_equal(got.block_of, ref.block_of)
    assert np.array_equal(got.repeats, ref.repeats)
    assert (got.repeats >= 0).sum() > 100  # lines shown again were found
    for start in (0, 1, len(ref) // 3, len(ref) - 5):
        assert got.regroup(got.shown(start)) == ref.regroup(ref.shown(start))
    # hour tallies of any leading part, as the outliner makes them from rows in memory
    expected, columnar = Outliner(rows), got.outliner()
    for n in (0, 7, len(rows) // 2, len(rows)):
        a, b = expected.prefix(n), columnar.prefix(n)
        assert [t.block() for t in a] == [t.block() for t in b]
        assert [dict(t.seconds) for t in a] == [dict(t.seconds) for t in b]


def test_a_tail_read_from_an_hour_on_leaves_earlier_lines_out(store):
    tok = get_tokenizer("o200k")
    with store.read() as r:
        got = _tail(r, T0, T0 + timedelta(hours=6), tok, [T0 + timedelta(hours=5)])
        ref, _ = _reference(r, T0 + timedelta(hours=5), T0 + timedelta(hours=6), tok)
    first = got.first_time()
    assert first >= T0 + timedelta(hours=5)
    # what began before the stretch is not in it (not placed at its start, as from ``since``)
    assert len(got) <= len(ref)
