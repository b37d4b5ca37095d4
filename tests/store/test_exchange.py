"""Whole timelines out in time order from one snapshot, and rows merged in without duplicates,
on real DuckDB files."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lifelog.store import Store
from lifelog.store.tokens import count_many
from tests.store.timeline_helpers import T0, at, observe, said
from tests.support.rows import seen_rows, transcripts_between


def _all(store: Store, since=None, until=None, batch=None):
    with store.read() as r:
        stream = r.timeline_rows(since, until)
        if batch:
            stream._batch = batch
        try:
            return stream.counts, list(stream)
        finally:
            stream.close()


def _span(t0, text, t1=None, monitor=0, app="Code", window="w", top=0, left=0):
    return (t0, t1 or t0 + timedelta(seconds=2), monitor, app, window, text, top, left)


def test_rows_come_merged_in_time_order_and_windows_cover_bursts_and_gaps(store):
    """Uneven time: a burst of rows in one microsecond, a year's gap, sparse rows; tiny batches
    force many windows. Every row comes once, in order, spans before transcripts before events."""
    burst = [_span(at(1), f"burst {i}", top=i) for i in range(25)]
    sparse = [_span(at(3600 * i), f"hour {i}") for i in range(2, 6)]
    later = [_span(at(86400 * 365), "a year later")]
    with store.write() as w:
        w.merge_rows("seen", burst + sparse + later)
        w.merge_rows("heard", [(at(1), at(3), "mic", "faster-whisper", "said at one")])
        w.merge_rows("event", [(at(1), "pause", '{"seconds": 5}'), (at(0), "record_start", None)])
    counts, rows = _all(store, batch=4)
    assert counts == {"seen": 30, "heard": 1, "event": 2}
    assert len(rows) == 33
    keys = [(row[0], ("seen", "heard", "event").index(kind)) for kind, row in rows]
    assert keys == sorted(keys)
    assert [r[5] for k, r in rows if k == "seen"][:25] == [f"burst {i}" for i in range(25)]  # by position
    assert rows[0] == ("event", (at(0), "record_start", None))
    assert rows[-1][1][5] == "a year later"


def test_a_range_takes_rows_overlapping_it(store):
    with store.write() as w:
        w.merge_rows("seen", [_span(at(0), "before", t1=at(5)), _span(at(10), "inside"), _span(at(30), "after")])
        w.merge_rows("event", [(at(9), "gap", None), (at(31), "gap", None)])
    counts, rows = _all(store, since=at(4), until=at(20))
    assert [r[5] if k == "seen" else r[1] for k, r in rows] == ["before", "gap", "inside"]
    assert counts == {"seen": 2, "heard": 0, "event": 1}


def test_the_order_depends_on_the_rows_not_their_ids(tmp_path):
    rows = [_span(at(1), t, top=top) for t, top in (("b", 10), ("a", 10), ("c", 0))]
    stores = [Store(tmp_path / f"{i}.duckdb") for i in range(2)]
    with stores[0].write() as w:
        w.merge_rows("seen", rows)
    with stores[1].write() as w:
        w.merge_rows("seen", rows[::-1])
    assert _all(stores[0])[1] == _all(stores[1])[1]
    assert [r[5] for _, r in _all(stores[0])[1]] == ["c", "a", "b"]


def test_merge_skips_rows_already_stored_and_repeated_within_a_batch(store):
    with store.write() as w:
        observe(w, T0, ["ticket 101 ready", "same line", "same line"])  # two equal lines: two spans
        w.add_transcripts([said(0, 2, "hello there")])
        w.add_event(T0, "ask", {"question": "q?", "answer": "a."})
    counts, rows = _all(store)
    with store.write() as w:
        again = {k: w.merge_rows(k, [row for kind, row in rows if kind == k] * 2) for k in ("seen", "heard", "event")}
        fresh = w.merge_rows("seen", [_span(at(5), "new"), _span(at(5), "new"), _span(at(5), "new", top=30)])
    assert again == {"seen": 0, "heard": 0, "event": 0}
    assert fresh == 2  # the same line at another place is another span
    assert _all(store)[0] == {"seen": counts["seen"] + 2, "heard": 1, "event": 1}


def test_merged_rows_are_closed_and_searchable(store, db_path):
    with store.write() as w:
        w.merge_rows("seen", [_span(at(0), "quarterly invoice 4821")])
        w.merge_rows("heard", [(at(1), at(2), "system", "", "call Dana about the invoice")])
    with store.read() as r:
        hits = r.search("invoice")
        assert {h.kind for h in hits} == {"seen", "heard"}
        assert r.stats().counters["open_spans"] == 0
        # counted in o200k as the recorder counts what it writes
        assert transcripts_between(r, None, None)[0].tokens == count_many(["call Dana about the invoice"])[0] > 0
        assert [row.tokens for row in seen_rows(r, None, None)] == count_many(["quarterly invoice 4821"])


def test_an_event_the_recorder_writes_with_nan_is_stored_as_strict_json(store):
    with store.write() as w:
        w.add_event(T0, "capture_stats", {"fps": float("nan"), "load": [float("inf"), 1.5], "note": "NaN is a word"})
    _, rows = _all(store)
    ((kind, row),) = rows
    assert kind == "event"
    detail = json.loads(row[2], parse_constant=lambda c: pytest.fail(f"{c} stored"))
    assert detail == {"fps": None, "load": [None, 1.5], "note": "NaN is a word"}
