"""Digests (issue 22), extractive, on real DuckDB timelines written through the store: what an
hour's digest keeps and leaves out, days and weeks from hours, made once and again only when
their range changes, gone with forgotten text, renamed with a voice, used by context windows
for older time, and made by the owner's idle-time worker, which stops when the user works."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest

from lifelog.daemon.digester import DigestWorker
from lifelog.models import HeardVoice, Transcript
from lifelog.replay.context import build_context
from lifelog.replay.digest import catch_up
from lifelog.store import Store
from lifelog.store.forget import Selection, forget_in
from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.writes import show

T0 = datetime(2026, 11, 2, 9, 0, 0)  # a Monday
CHROME = ["File Edit View History Bookmarks Tools Help"]  # the same menu bar in every window


TOPICS = [
    ("cart", "rounding drops the shipping fee", "Globex"),
    ("invoice", "tax line shows twice on reprints", "Initech"),
    ("login", "session cookie expires before redirect", "Umbrella"),
    ("search", "accents break the suggestion index", "Hooli"),
    ("upload", "large photos time out on mobile", "Stark"),
    ("billing", "annual plan proration is negative", "Wayne"),
    ("export", "csv header misses the currency column", "Acme"),
    ("profile", "avatar crop loses transparency", "Soylent"),
]


def _hour(w, start: datetime, k: int) -> None:
    """An hour of work: a failing test read for minutes, a review page, chat, and chrome (the
    same menu bar in the same place whichever window has focus)."""
    topic, bug, client = TOPICS[k % len(TOPICS)]
    show(w, start + timedelta(minutes=1), "XTerm", "bash: shop", [*CHROME, f"$ pytest tests/test_{topic}.py"])
    show(
        w,
        start + timedelta(minutes=2),
        "XTerm",
        "bash: shop",
        [*CHROME, f"FAILED tests/test_{topic}.py::test_{topic}_{k} - AssertionError: {topic} {k} wrong"],
    )
    show(
        w,
        start + timedelta(minutes=14),
        "firefox",
        "PR #12 review",
        [*CHROME, "PR #12 review", f"Reviewer comment on {topic}: the {bug} (ticket {k})"],
    )
    show(
        w,
        start + timedelta(minutes=30),
        "Slack",
        "#shop",
        [*CHROME, "ok", f"Merged pull request #{k}: {topic} fix for {client}"],
    )
    w.close_spans(start + timedelta(minutes=45))


def _timeline(path, days: int = 2, hours: int = 3) -> Store:
    s = Store(path)
    with s.write() as w:
        for d in range(days):
            for h in range(hours):
                _hour(w, T0 + timedelta(days=d, hours=h), d * 10 + h)
        # the next morning: the hour of the newest line is never summarised (it may be recording)
        show(w, T0 + timedelta(days=days), "XTerm", "bash: shop", ["$ git pull --rebase origin main"])
        w.summarise_hours(T0 + timedelta(days=days + 1))
    return s


@pytest.fixture
def store(tmp_path):
    return _timeline(tmp_path / "t.duckdb")


def _digests(store, level=None):
    with store.read() as r:
        return r.digests(None, None, level)


def test_an_hours_digest_keeps_what_was_worked_on_with_its_moments_and_leaves_out_chrome(store):
    report = catch_up(store)
    assert (report.hours, report.days, report.weeks, report.left) == (6, 2, 1, 0)
    hour = _digests(store, "hour")[0]
    assert hour.start == T0 and hour.end == T0 + timedelta(hours=1) and hour.model == "extractive"
    text = hour.text
    assert text.splitlines()[0].startswith("windows: XTerm — bash: shop (")
    assert "- 09:02 [XTerm · bash: shop] FAILED tests/test_cart.py::test_cart_0 - AssertionError" in text
    assert "Merged pull request #0: cart fix for Globex" in text and "drops the shipping fee (ticket 0)" in text
    assert "File Edit View" not in text.split("\n", 1)[1]  # chrome, under every window
    assert "\n- " + "09:14 [firefox · PR #12 review] PR #12 review" not in text  # the window's own title
    assert hour.tokens == get_tokenizer("o200k").count(text)
    failed = next(x for x in hour.sources["lines"] if x["text"].startswith("FAILED"))
    assert failed["t"] == "2026-11-02T09:02:00Z" and (failed["app"], failed["window"]) == ("XTerm", "bash: shop")


def test_days_and_weeks_are_made_from_their_hours_and_nothing_is_made_twice(store):
    catch_up(store)
    day = _digests(store, "day")[0]
    assert day.start == T0.replace(hour=0) and day.end == day.start + timedelta(days=1)
    assert {"09", "10", "11"} <= set(re.findall(r"^- (\d\d):\d\d", day.text, re.M))  # spread over its hours
    assert "- 09:02 [XTerm · bash: shop] FAILED tests/test_cart.py::test_cart_0" in day.text
    week = _digests(store, "week")[0]
    assert week.start == datetime(2026, 11, 2) and re.search(r"^- Tue \d\d:\d\d ", week.text, re.M)
    made = {(d.level, d.start): d.made_at for d in _digests(store)}
    again = catch_up(store)
    assert (again.hours, again.days, again.weeks) == (0, 0, 0)
    assert {(d.level, d.start): d.made_at for d in _digests(store)} == made


def test_a_catch_up_without_weeks_leaves_them_due(store):
    report = catch_up(store, weeks=False)  # (a bench that reads days)
    assert report.hours and report.days and report.weeks == 0 and _digests(store, "week") == []
    assert catch_up(store).weeks == 1  # still due


def test_a_changed_hour_is_digested_again_with_its_day_and_week_alone(store):
    catch_up(store)
    before = {(d.level, d.start): d.text for d in _digests(store)}
    with store.write() as w:  # a late line in the second hour of the first day
        show(
            w, T0 + timedelta(hours=1, minutes=50), "Mail", "Inbox", ["Invoice 4821 sent to the Globex accounting team"]
        )
        w.close_spans(T0 + timedelta(hours=1, minutes=55))
    with store.read() as r:
        assert [h for h, _ in r.digests_due()] == [T0 + timedelta(hours=1)]
    report = catch_up(store)
    assert (report.hours, report.days, report.weeks) == (1, 1, 1)
    after = {(d.level, d.start): d.text for d in _digests(store)}
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {("hour", T0 + timedelta(hours=1)), ("day", T0.replace(hour=0)), ("week", datetime(2026, 11, 2))}
    assert "Invoice 4821 sent" in after[("hour", T0 + timedelta(hours=1))]


def test_forgotten_text_leaves_the_digests_at_once(store):
    catch_up(store)
    assert any("Initech" in d.text for d in _digests(store))  # the invoice hours
    forget_in(store, Selection(matching="Initech"))
    assert not any("Initech" in d.text for d in _digests(store))  # before any new digest is made
    catch_up(store)
    assert not any("Initech" in d.text for d in _digests(store))
    assert any(d.level == "hour" and d.start == T0 + timedelta(days=1) for d in _digests(store))  # made again


def test_a_named_voice_is_named_in_the_digests(tmp_path):
    s = _timeline(tmp_path / "t.duckdb", days=1, hours=1)
    with s.write() as w:
        voice = HeardVoice(centroid=[1.0] + [0.0] * 191, seconds=40.0)
        said = Transcript(
            T0 + timedelta(minutes=20),
            T0 + timedelta(minutes=21),
            "system",
            "faster-whisper",
            "we should move the budget review to Thursday afternoon",
            heard_as=0,
        )
        ids = w.add_voices([voice], "system", T0)
        w.add_transcripts([said], ids)
    catch_up(s)
    assert "- 09:20 Speaker 1: we should move the budget review" in _digests(s, "hour")[0].text
    with s.write() as w:
        w.name_voice("Speaker 1", "Dana Whitfield")
    catch_up(s)
    assert "- 09:20 Dana Whitfield: we should move the budget review" in _digests(s, "hour")[0].text
    assert "Dana Whitfield: we should move" in _digests(s, "day")[0].text


def test_context_shows_older_time_as_digests_under_the_budget(tmp_path):
    s = _timeline(tmp_path / "t.duckdb", days=3, hours=8)
    tok = get_tokenizer("o200k")

    def window(budget):
        with s.read() as r:
            return build_context(r, since=T0, until=T0 + timedelta(days=4), budget=budget)

    plain = window(1500)
    assert "· outline" in plain.text and "· digest" not in plain.text  # no digests made yet: counts
    catch_up(s)
    w = window(1500)
    assert w.tokens == tok.count(w.text) <= 1500
    assert w.omitted is not None and w.omitted.digests and "digests of what happened" in w.text
    assert re.search(r"^### (2026-11-02 · digest of the day|09:00–10:00 · digest)$", w.text, re.M)
    assert "Merged pull request #0: cart fix for Globex" in w.text  # the first hour's outcome, days back
    assert "git pull --rebase" in w.text  # the newest line, in full
    for fmt in ("json", "xml"):
        with s.read() as r:
            other = build_context(r, since=T0, until=T0 + timedelta(days=4), budget=1500, fmt=fmt)
        assert other.tokens <= 1500 and "Merged pull request #0: cart fix" in other.text


def test_a_range_starting_inside_an_hour_never_takes_that_hours_digest(store):
    catch_up(store)
    with store.read() as r:
        w = build_context(r, since=T0 + timedelta(minutes=10), until=T0 + timedelta(days=3), budget=600)
    assert "test_cart.py" not in w.text  # seen at 09:01-09:02, before the range


def test_the_idle_worker_stops_when_the_screen_changes_and_resumes_later(tmp_path):
    s = _timeline(tmp_path / "t.duckdb", days=3, hours=4)
    busy = threading.Event()
    asked = []

    def at_work():
        asked.append(1)
        if len(asked) == 3:  # the screen changes while the second hour is being digested
            busy.set()
        return busy.is_set()

    worker = DigestWorker(s, busy=at_work, interval_s=3600)
    report = worker.run_once()
    assert report is not None and report.stopped and 1 <= report.hours < 12 and report.left == 12 - report.hours
    assert worker.run_once() is None  # still at work: nothing done
    busy.clear()
    asked.clear()
    asked.extend([1] * 10)  # idle from now on
    done = worker.run_once()
    assert done is not None and not done.stopped and done.hours + report.hours == 12 and done.left == 0
    assert worker.made["hours"] == 12 and worker.made["days"] == 3
    with s.read() as r:
        assert r.digest_backlog() == 0
