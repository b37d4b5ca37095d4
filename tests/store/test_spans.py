"""Span merging: consecutive identical screens become one span with a duration."""

from __future__ import annotations

from datetime import datetime

import pytest

from lifelog.errors import StoreError
from tests.store.timeline_helpers import at, line, observe, open_flags
from tests.support.rows import seen_rows


def spans(store):
    with store.read() as r:
        return r.spans_between(None, None)


def by_text(store):
    return {(s.text, s.monitor): s for s in spans(store)}


def is_open(store, span_id) -> bool:
    return open_flags(store.db_path)[span_id]


def test_identical_consecutive_frames_extend_one_span(store):
    with store.write() as w:
        assert observe(w, at(0), ["Inbox (3)", "Invoice 4821 overdue"]) == (2, 0)
        assert observe(w, at(0.5), ["Inbox (3)", "Invoice 4821 overdue"]) == (0, 2)
    with store.write() as w:  # a later batch, a new connection: still the same spans
        assert observe(w, at(1.0), ["Inbox (3)", "Invoice 4821 overdue"]) == (0, 2)
    result = spans(store)
    assert [(s.text, s.t_start, s.t_end) for s in result] == [
        ("Inbox (3)", at(0), at(1.0)),
        ("Invoice 4821 overdue", at(0), at(1.0)),
    ]
    assert all(is_open(store, s.id) for s in result)


def test_a_changed_line_closes_the_old_span_and_opens_a_new_one(store):
    with store.write() as w:
        observe(w, at(0), ["Inbox (3)", "draft: hello"])
        assert observe(w, at(1), ["Inbox (3)", "draft: hello world"]) == (1, 1)
    s = by_text(store)
    old, new, kept = s[("draft: hello", 0)], s[("draft: hello world", 0)], s[("Inbox (3)", 0)]
    assert (old.t_start, old.t_end) == (at(0), at(1))
    assert not is_open(store, old.id)
    assert (new.t_start, new.t_end, new.top) == (at(1), at(1), 30)
    assert (kept.t_start, kept.t_end) == (at(0), at(1))


def test_duplicate_identical_lines_need_one_span_each(store):
    with store.write() as w:
        assert observe(w, at(0), ["OK", "OK"]) == (2, 0)
        top_span, bottom_span = sorted(w.spans_between(None, None), key=lambda s: s.top)
        # one "OK" disappears: only the nearest span (the bottom one) is extended
        assert w.observe_lines(None, at(1), 0, "Firefox", "Inbox", [line("OK", top=30)]) == (0, 1)
        assert w.observe_lines(None, at(2), 0, "Firefox", "Inbox", [line("OK", top=30), line("OK", top=60)]) == (1, 1)
    s = {x.id: x for x in spans(store)}
    assert (s[top_span.id].t_end, is_open(store, top_span.id)) == (at(1), False)
    assert (s[bottom_span.id].t_end, is_open(store, bottom_span.id)) == (at(2), True)
    assert len(s) == 3


def test_monitors_are_independent(store):
    with store.write() as w:
        observe(w, at(0), ["Terminal: make test"], monitor=0)
        observe(w, at(0), ["Terminal: make test"], monitor=1)
        assert observe(w, at(1), [], monitor=0) == (0, 0)  # monitor 0 went blank
        assert observe(w, at(1), ["Terminal: make test"], monitor=1) == (0, 1)
    s = by_text(store)
    m0, m1 = s[("Terminal: make test", 0)], s[("Terminal: make test", 1)]
    assert (m0.t_end, is_open(store, m0.id)) == (at(1), False)
    assert (m1.t_end, is_open(store, m1.id)) == (at(1), True)


def test_blank_lines_are_ignored(store):
    with store.write() as w:
        assert observe(w, at(0), ["", "   ", "real text"]) == (1, 0)
    assert [s.text for s in spans(store)] == ["real text"]


def test_close_spans_per_monitor_then_all(store):
    with store.write() as w:
        observe(w, at(0), ["a", "b"], monitor=0)
        observe(w, at(0), ["c"], monitor=1)
        assert w.close_spans(at(5), monitor=1) == 1
        assert w.close_spans(at(6)) == 2
        assert w.close_spans(at(7)) == 0
        # a closed span is never extended: the same text later opens a new span
        assert observe(w, at(8), ["a"], monitor=0) == (1, 0)
    ends = sorted((s.text, s.t_end) for s in spans(store))
    assert ends == [("a", at(6)), ("a", at(8)), ("b", at(6)), ("c", at(5))]


def test_close_after_a_crash_keeps_the_last_seen_time(store):
    with store.write() as w:
        observe(w, at(0), ["left open by a crashed recorder"])
        observe(w, at(3), ["left open by a crashed recorder"])
    with store.write() as w:
        assert w.close_spans(datetime.min) == 1
    (span,) = spans(store)
    assert (span.t_start, span.t_end) == (at(0), at(3))


def test_spans_between_returns_overlapping_spans_in_screen_order(store):
    with store.write() as w:
        observe(w, at(0), ["title", "body"])  # both live 0..10
        observe(w, at(10), ["title", "footer"])  # body ends at 10, footer starts at 10
        observe(w, at(20), ["title"])  # footer ends at 20
        w.close_spans(at(30))
    with store.read() as r:
        assert [s.text for s in r.spans_between(at(11), at(12))] == ["title", "footer"]
        assert [s.text for s in r.spans_between(at(10), at(10.5))] == ["title", "body", "footer"]
        assert [s.text for s in r.spans_between(at(25), None)] == ["title"]
        assert [s.text for s in r.spans_between(None, at(10))] == ["title", "body"]
        assert r.spans_between(at(31), at(40)) == []


def test_an_exception_rolls_the_whole_batch_back(store):
    with pytest.raises(RuntimeError):
        with store.write() as w:
            observe(w, at(0), ["never stored"])
            w.add_event(at(0), "record_start")
            raise RuntimeError("OCR crashed mid-batch")
    with store.read() as r:
        assert r.spans_between(None, None) == [] and r.frames_between(None, None) == []
        assert r.events_between(None, None) == []
    with store.write() as w:  # the open-span cache of the failed batch is gone too
        assert observe(w, at(1), ["never stored"]) == (1, 0)


def test_nesting_read_inside_write_is_a_clear_error(store):
    with store.write():
        with pytest.raises(StoreError, match="nested"):
            with store.read():
                pass


def test_lines_keep_their_own_window_reading_order_and_lead(store):
    """Lines read from two windows on one frame: each stored under its window, read back in the
    layout's order (not top to bottom), shown with what goes before them; matched frame to frame
    by text alone, so a different lead on a later frame extends the span as it was."""
    from dataclasses import replace

    from lifelog.models import OcrLine
    from tests.store.timeline_helpers import frame

    left = [
        OcrLine("def load(self):", (10, 100, 300, 120), ord=0, app="XTerm", window="ledger.py"),
        OcrLine("return rows", (10, 130, 300, 150), ord=1, lead="    ", app="XTerm", window="ledger.py"),
    ]
    right = [OcrLine("deploy started", (1000, 90, 1300, 110), ord=2, lead="\n", app="XTerm", window="deploy log")]
    focused = [OcrLine("focused default", (1000, 500, 1300, 520), ord=3)]
    with store.write() as w:
        w.observe_lines(w.add_frame(frame(at(0))), at(0), 0, "Firefox", "Inbox", [*right, *focused, *left])
        shifted = [
            replace(line, lead="", box=(10, 40, 300, 60)) if line.text == "return rows" else line
            for line in [*right, *focused, *left]
        ]
        assert w.observe_lines(w.add_frame(frame(at(1))), at(1), 0, "Firefox", "Inbox", shifted) == (0, 4)
    with store.read() as r:
        assert [s.text for s in r.spans_between(None, None)] == [
            "def load(self):",
            "return rows",
            "deploy started",
            "focused default",
        ]
        assert [(row.app, row.window, row.text) for row in seen_rows(r, None, None)] == [
            ("XTerm", "ledger.py", "def load(self):"),
            ("XTerm", "ledger.py", "    return rows"),
            ("XTerm", "deploy log", "\ndeploy started"),
            ("Firefox", "Inbox", "focused default"),
        ]
        assert [row.text for row in r.seen_rows_within([(at(0.5), at(2))])] == [
            "def load(self):",
            "    return rows",
            "\ndeploy started",
            "focused default",
        ]
        hit = r.search("deploy started")[0].span
        assert (hit.app, hit.window) == ("XTerm", "deploy log")
