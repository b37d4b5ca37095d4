"""Per-hour summaries (``store/hours.py``): outlines and costs read from them equal those read
from the lines, after every kind of write into old hours, and the watermark stays behind the
hour being recorded. Real DuckDB files, rows written through the store's own write paths."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta

import duckdb
import pytest

from lifelog.api.timeline_file import import_jsonl
from lifelog.models import Transcript
from lifelog.store import Store, hours, migrations, tokens
from lifelog.store.db import create_private_db
from lifelog.store.reader import Reader
from tests.store.hour_timeline import DAY0, assert_reads_match, random_ranges, timeline
from tests.store.timeline_helpers import frame, line

SUMMARISED_AT = DAY0 + timedelta(days=1, hours=13, minutes=20)  # the clock when the owner summarises
WATERMARK = DAY0 + timedelta(days=1, hours=13)  # every hour before it is summarised
OLD_HOUR = DAY0 + timedelta(hours=9)  # a summarised hour with lines in it


@pytest.fixture
def days(store: Store, db_path) -> Store:
    """Three generated days, some lines without a stored count (written before counts were
    kept), summarised up to 13:00 of the second day."""
    seen, heard = timeline()
    with store.write() as w:
        w.merge_rows("seen", seen)
        w.merge_rows("heard", heard)
    with _con(db_path) as con:
        con.execute("UPDATE text_spans SET tokens = NULL WHERE id % 7 = 0")
    with store.write() as w:
        assert w.summarise_hours(SUMMARISED_AT) == WATERMARK
    return store


def _con(path, read_only: bool = False) -> contextlib.closing:
    """The file opened straight, as another version of lifelog or a broken tool would."""
    return contextlib.closing(duckdb.connect(str(path), read_only=read_only))


def outline_of(store: Store, since, until) -> dict:
    with store.read() as r:
        return assert_reads_match(r, since, until)


def lines_in(outline: dict, hour: datetime) -> dict:
    return {(app, window): n for b, app, window, _, n, _ in outline["seen"] if b == hour}


def test_summaries_cover_the_hours_before_the_watermark_only(days, db_path):
    with _con(db_path, read_only=True) as con:
        summarised = [r[0] for r in con.execute("SELECT DISTINCT hour FROM hour_totals ORDER BY hour").fetchall()]
        assert hours.watermark(con) == WATERMARK
    assert summarised[0] == DAY0 + timedelta(hours=8) and summarised[-1] == WATERMARK - timedelta(hours=1)
    assert DAY0 + timedelta(hours=11) not in summarised  # lunch: nothing to summarise


@pytest.mark.parametrize(
    "since, until",
    [
        (None, None),
        (DAY0, None),
        (None, DAY0 + timedelta(days=3)),
        (DAY0 + timedelta(hours=9), DAY0 + timedelta(days=1, hours=12)),  # on hour boundaries
        (DAY0 + timedelta(hours=9, minutes=59, seconds=59), WATERMARK),  # a second before an hour
        (DAY0 + timedelta(hours=10, microseconds=1), WATERMARK + timedelta(minutes=1)),
        (WATERMARK - timedelta(minutes=30), WATERMARK + timedelta(hours=2)),  # no whole summarised hour
        (DAY0 + timedelta(hours=9, minutes=10), DAY0 + timedelta(hours=9, minutes=50)),  # inside one hour
        (DAY0 + timedelta(hours=12), DAY0 + timedelta(hours=12)),  # empty
        (DAY0 - timedelta(days=2), DAY0 - timedelta(days=1)),  # before anything
    ],
)
def test_reads_from_summaries_equal_reads_from_lines(days, since, until):
    outline_of(days, since, until)


def test_reads_from_summaries_equal_reads_from_lines_over_random_ranges(days):
    for since, until in random_ranges(40):
        outline_of(days, since, until)


def test_summarised_hours_are_read_from_their_summaries(days, db_path):
    """The lines of summarised hours are not aggregated again: with them gone behind the store's
    back, the summaries still answer (the lines read at the edges of the range do change)."""
    since, until = DAY0 + timedelta(hours=8, minutes=30), DAY0 + timedelta(days=1, hours=10)
    before = outline_of(days, since, until)
    with _con(db_path) as con:
        con.execute(
            "DELETE FROM text_spans WHERE t_start >= ? AND t_start < ?", [OLD_HOUR, OLD_HOUR + timedelta(hours=1)]
        )
    with days.read() as r:
        assert r.outline_rows(since, until) == before
        assert r._live_outline_rows(since, until) != before


def test_a_late_line_in_a_summarised_hour_through_the_writer_updates_its_summary(days):
    """After a crash the spool's backlog is read into hours long summarised: each write
    recomputes the hours it added lines to, in its own transaction."""
    late = OLD_HOUR + timedelta(minutes=30, microseconds=500)
    before = outline_of(days, None, None)
    with days.write() as w:
        fid = w.add_frame(frame(late, monitor=2, app="Terminal"))
        w.observe_lines(
            fid, late, 2, "Terminal", "zsh", [line("late line from the spool"), line("and another", top=30)]
        )
        w.close_spans(late + timedelta(seconds=3), monitor=2)
        w.add_transcripts([Transcript(late, late + timedelta(seconds=2), "system", "faster-whisper", "a late word")])
    after = outline_of(days, None, None)
    assert lines_in(after, OLD_HOUR)[("Terminal", "zsh")] == 2
    assert after["totals"][0] == before["totals"][0] + 3
    heard = {(b, source): minutes for b, source, minutes in after["heard"]}
    assert heard[(OLD_HOUR, "system")] >= 1
    for since, until in random_ranges(10, seed=11):
        outline_of(days, since, until)


def test_writes_in_hours_after_the_watermark_recompute_nothing(days):
    now = WATERMARK + timedelta(minutes=30)
    with days.write() as w:
        fid = w.add_frame(frame(now))
        w.observe_lines(fid, now, 0, "Firefox", "Inbox", [line("a line of the hour being recorded")])
        assert w.finish() == 0
        fid = w.add_frame(frame(OLD_HOUR))
        w.observe_lines(fid, OLD_HOUR, 0, "Firefox", "Inbox", [line("a line of an old hour")])
        assert w.finish() == 1


def test_an_import_into_summarised_hours_updates_their_summaries(days, tmp_path):
    path = tmp_path / "other.jsonl"

    def at(minutes: int) -> str:
        return (OLD_HOUR + timedelta(minutes=minutes)).isoformat() + "Z"

    rows = [
        {
            "type": "seen",
            "t_start": at(5),
            "t_end": at(300),
            "app": "Mail",
            "window": "Imported",
            "text": "a line from the other laptop",
        },
        {
            "type": "heard",
            "t_start": at(62),
            "t_end": at(63),
            "source": "file",
            "engine": "x",
            "text": "imported speech",
        },
    ]
    path.write_text("\n".join(['{"lifelog":"timeline","version":1}', *map(json.dumps, rows)]) + "\n", encoding="utf-8")
    report = import_jsonl(days, path, "other.jsonl")
    assert report["inserted"]["seen"] == 1 and report["inserted"]["heard"] == 1
    outline = outline_of(days, DAY0, None)
    assert lines_in(outline, OLD_HOUR)[("Mail", "Imported")] == 1
    assert (OLD_HOUR + timedelta(hours=1), "file", 1) in outline["heard"]


def test_counting_lines_stored_without_a_count_updates_their_summaries(days, db_path):
    uncounted = outline_of(days, None, None)["totals"][1]
    with _con(db_path) as con:
        con.begin()
        assert tokens.backfill_spans(con) > 0
        con.commit()
    assert outline_of(days, None, None)["totals"][1] > uncounted
    for since, until in [(None, None), *random_ranges(5, seed=5)]:
        outline_of(days, since, until)


def test_the_watermark_stays_behind_the_hour_being_recorded(store, db_path):
    seen, heard = timeline(days=2)
    newest_hour = hours.hour_of(max(r[0] for r in seen + heard))
    day1 = DAY0 + timedelta(days=1)
    with store.write() as w:
        w.merge_rows("seen", seen)
        w.merge_rows("heard", heard)
        # the hour that just ended is summarised once it has settled a few minutes
        assert w.summarise_hours(day1 + timedelta(hours=10, minutes=2)) == day1 + timedelta(hours=9)
        assert w.summarise_hours(day1 + timedelta(hours=10, minutes=6)) == day1 + timedelta(hours=10)
        # never backwards (a clock set back), never into the hour of the newest line
        assert w.summarise_hours(day1) == day1 + timedelta(hours=10)
        assert w.summarise_hours(day1 + timedelta(days=30)) == newest_hour
    with _con(db_path, read_only=True) as con:
        assert con.execute("SELECT max(hour) FROM hour_totals").fetchone()[0] == newest_hour - timedelta(hours=1)
    for since, until in [(None, None), *random_ranges(10, days=2)]:
        outline_of(store, since, until)


def test_an_empty_timeline_has_no_watermark(store):
    with store.write() as w:
        assert w.summarise_hours() is None
    with store.read() as r:
        assert r.token_costs(None, None) == [] and r.outline_rows(None, None)["totals"] == (0, 0, None, None)


def test_migration_9_summarises_the_hours_of_a_version_8_database(db_path):
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    seen, heard = timeline(days=2)
    with _con(db_path) as con:
        migrations.apply(con, {v: fn for v, fn in migrations.MIGRATIONS.items() if v <= 8})
        con.executemany(
            'INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text, top, "left", ord, lead,'
            " tokens, open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 3, false)",
            seen[:1500],
        )
        con.executemany(
            "INSERT INTO transcripts (t_start, t_end, source, engine, text, language, tokens)"
            " VALUES (?, ?, ?, ?, ?, ?, 5)",
            heard[:30],
        )
    store = Store(db_path)
    assert store.migrate() == [v for v in migrations.MIGRATIONS if v >= 9]
    newest = max(r[0] for r in seen[:1500] + heard[:30])
    with _con(db_path, read_only=True) as con:  # data from months ago: summarised up to its last hour
        assert hours.watermark(con) == hours.hour_of(newest)
        assert con.execute("SELECT sum(lines) FROM hour_totals").fetchone()[0] == sum(
            1 for r in seen[:1500] + heard[:30] if r[0] < hours.hour_of(newest)
        )
    for since, until in [(None, None), *random_ranges(10, days=1)]:
        outline_of(store, since, until)


def test_a_read_only_reader_reads_what_is_there(days, db_path):
    """No owner running: a command opens the file read-only and reads the summaries as they are."""
    with _con(db_path, read_only=True) as con:
        r = Reader(con)
        for since, until in random_ranges(5, seed=9):
            assert_reads_match(r, since, until)


def test_hours_are_summarised_a_stretch_at_a_time(store, monkeypatch):
    """Bounded memory: the backfill and a large import each aggregate a stretch of hours at a
    time (a week; three hours here), with the same summaries as in one pass."""
    monkeypatch.setattr(hours, "STRETCH", timedelta(hours=3))
    seen, heard = timeline(days=2)
    with store.write() as w:
        w.merge_rows("seen", seen)
        w.merge_rows("heard", heard)
        w.summarise_hours(DAY0 + timedelta(days=5))
    more_seen, more_heard = timeline(days=2, seed=8)  # another machine's timeline of the same days
    with store.write() as w:
        w.merge_rows("seen", more_seen)
        w.merge_rows("heard", more_heard)
        assert w.finish() == len({hours.hour_of(r[0]) for r in more_seen + more_heard}) - 1  # all but the newest
    for since, until in [(None, None), *random_ranges(10, days=2)]:
        outline_of(store, since, until)
