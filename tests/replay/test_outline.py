"""What does not fit is represented: hourly outlines, daily when hours do not fit, the marker
alone when nothing does; always under the budget, counted exactly. Real DuckDB timelines."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from lifelog.models import Transcript
from lifelog.replay.context import build_context
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.writes import show

T0 = datetime(2026, 11, 2, 9, 0, 0)
WINDOWS = [("firefox", "Invoices — Billing"), ("XTerm", "bash: deploy"), ("code", "app.py")]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Ten days, eight active hours each, a window change every six minutes, some speech."""
    s = Store(tmp_path_factory.mktemp("outline") / "t.duckdb")
    with s.write() as w:
        for day in range(10):
            for hour in range(8):
                for minute in range(0, 60, 6):
                    ts = T0 + timedelta(days=day, hours=hour, minutes=minute)
                    app, title = WINDOWS[(hour + minute // 20) % 3]
                    show(
                        w,
                        ts,
                        app,
                        title,
                        [
                            f"{title} day {day} hour {hour}",
                            f"event {day}-{hour}-{minute}: order {day * 1000 + hour * 60 + minute} shipped",
                        ],
                    )
                w.add_transcripts(
                    [
                        Transcript(
                            T0 + timedelta(days=day, hours=hour, minutes=30),
                            T0 + timedelta(days=day, hours=hour, minutes=31),
                            "mic",
                            "faster-whisper",
                            f"standup note {day} {hour}",
                        )
                    ]
                )
        w.close_spans(T0 + timedelta(days=11))
    return s


def _ctx(store, budget, fmt="markdown"):
    with store.read() as r:
        return build_context(r, since=T0, until=T0 + timedelta(days=11), budget=budget, fmt=fmt)


def test_older_activity_becomes_an_hourly_outline_under_the_budget(store):
    w = _ctx(store, 12_000)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= 12_000
    assert w.omitted is not None and w.omitted.outline == "hour"
    assert "shown below as an outline per hour" in w.text
    outlines = re.findall(r"^### \d\d:\d\d–\d\d:\d\d · outline$", w.text, re.M)
    assert len(outlines) >= 20  # many hours of the ten days stand for themselves
    assert "firefox — Invoices — Billing" in w.text and "heard (microphone)" in w.text
    assert "order 9474 shipped" in w.text  # the newest line, at full detail
    # chronological: the outline comes before the detail it precedes
    assert w.text.index("· outline") < w.text.index("· seen ·")


def test_a_smaller_budget_outlines_per_day_and_the_smallest_keeps_only_the_marker(store):
    day = _ctx(store, 1500)
    assert day.omitted.outline == "day" and day.tokens <= 1500
    assert len(re.findall(r"^### 2026-11-\d\d · outline of the day$", day.text, re.M)) >= 9
    tiny = _ctx(store, 150)
    assert tiny.tokens <= 150 and tiny.omitted.outline == "" and "outline" not in tiny.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_outlines_in_json_and_xml(store, fmt):
    w = _ctx(store, 12_000, fmt)
    assert w.tokens == get_tokenizer("o200k").count(w.text) <= 12_000
    if fmt == "json":
        doc = json.loads(w.text)
        assert doc["omitted"]["outline"] == "hour"
        assert any(b["kind"] == "outline" and "min" in b["summary"] for b in doc["blocks"])
    else:
        assert '<outline time="2026-11-02T09:00:00Z" per="hour">' in w.text


@pytest.mark.parametrize("fmt", ["markdown", "json"])
@pytest.mark.parametrize("budget", [700, 1500, 4000, 12_000])
def test_outlines_from_the_database_match_outlines_from_lines_in_memory(store, monkeypatch, fmt, budget):
    """Only the newest hours worth a couple of budgets are read line by line; the hours before
    them are outlined from the database's aggregates. Reading everything instead (the tail
    made as large as the range) must give the same bytes."""
    from lifelog.replay import context

    monkeypatch.setattr(context, "TAIL_BUDGETS", 10**9)
    everything = _ctx(store, budget, fmt)
    monkeypatch.setattr(context, "TAIL_BUDGETS", 1)
    tail_only = _ctx(store, budget, fmt)
    assert tail_only.text == everything.text
    assert tail_only.tokens == everything.tokens <= budget


def test_only_the_newest_hours_are_read_line_by_line(store, monkeypatch):
    from lifelog.store.reader import Reader

    read = []
    original = Reader.seen_columns

    def spy(self, since, until, **kwargs):
        columns = original(self, since, until, **kwargs)
        read.append(len(columns["rows"]["t"]))
        return columns

    monkeypatch.setattr(Reader, "seen_columns", spy)
    w = _ctx(store, 1500)
    with store.read() as r:
        total = len(r.spans_between(T0, T0 + timedelta(days=11)))
    assert w.omitted.outline == "day" and 0 < sum(read) < total / 3


@pytest.mark.parametrize("hours", [(0, 240), (5.5, 100), (26, 26.75)])
def test_the_totals_of_a_stretch_alone_are_those_of_its_outline(store, hours):
    """A window too small for any outline reads only the totals of what it leaves out."""
    since, upto = T0 + timedelta(hours=hours[0]), T0 + timedelta(hours=hours[1])
    with store.read() as r:
        assert r.outline_totals(since, upto) == r.outline_rows(since, upto)["totals"]
        assert r.outline_totals(since, upto)[0] > 0


def test_a_budget_too_small_for_any_outline_reads_no_outline(store, monkeypatch):
    from lifelog.store.reader import Reader

    def refuse(*args, **kwargs):
        raise AssertionError("outline rows read")

    monkeypatch.setattr(Reader, "outline_rows", refuse)
    tiny = _ctx(store, 110)  # ten days: even a day's outline takes more than 11 tokens a day
    assert tiny.tokens <= 110 and tiny.omitted.outline == "" and tiny.lines > 0
