"""Retention (``store/retention.py``) on a real DuckDB file with real frame images and audio
files: ages take back what they name and leave the rest; a timeline over its storage budget
comes under it, frame images first (a day thinned before it goes), then audio, then text;
hour summaries stay, so a context window still outlines the old hours; a pass killed with
SIGKILL leaves the timeline whole and no row pointing at a removed file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import duckdb
import pytest

from lifelog.paths import Paths
from lifelog.replay.context import build_context
from lifelog.store import Store, hours, retention
from lifelog.store.retention import Policy, run_pass
from tests.store.hour_timeline import DAY0
from tests.store.retention_timeline import NOW, build, files, refs, text_days

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    home = tmp_path_factory.mktemp("retention") / "home"
    build(home)
    return home


@pytest.fixture
def timeline(template, tmp_path):
    """A fresh copy of the module's timeline: ``(paths, store)``."""
    home = tmp_path / "home"
    shutil.copytree(template, home)
    paths = Paths(home)
    return paths, Store(paths.db)


def test_ages_take_images_audio_and_text_older_than_each_keep(timeline):
    paths, store = timeline
    before_text = text_days(store)
    report = run_pass(
        store, paths, Policy(keep_images_s=1.5 * 86400, keep_audio_s=0.5 * 86400, keep_text_s=2 * 86400), now=NOW
    )
    image_cut, audio_cut, text_cut = NOW - 1.5 * DAY, NOW - 0.5 * DAY, NOW - 2 * DAY

    frames = refs(store, "frames")
    assert len(frames) == 3 * 360  # the rows stay (text was read from them)
    assert all((ref == "") == (ts < image_cut) for ts, ref, _ in frames)
    assert files(paths.frames) == {ref for _, ref, _ in frames if ref}
    chunks = refs(store, "audio_chunks")
    assert all((ref == "") == (ts < audio_cut) for ts, ref, _ in chunks)
    assert files(paths.audio) == {ref for _, ref, _ in chunks if ref}

    after_text = text_days(store)
    assert "2026-03-02" not in after_text  # all of day 0 began before text_cut (day 1, 15:00)
    assert after_text["2026-03-04"] == before_text["2026-03-04"]
    with store.read() as r:
        assert r._con.execute("SELECT count(*) FROM text_spans WHERE t_start < ?", [text_cut]).fetchone()[0] == 0
        assert r.search("line", since=DAY0, until=DAY0 + DAY, limit=5) == []  # postings went with the lines
        assert r.search("line", since=DAY0 + 2 * DAY, limit=5)  # later ones stay
        kept_hours = r._con.execute("SELECT count(*) FROM hour_totals WHERE hour < ?", [DAY0 + DAY]).fetchone()[0]
        for table in ("text_spans", "transcripts"):  # the index counts exactly the rows left, and holds no other
            docs, rows, posted = r._con.execute(
                f"SELECT (SELECT docs FROM search_stats WHERE corpus = '{table}'), (SELECT count(*) FROM {table}),"
                f" (SELECT count(DISTINCT doc) FROM (SELECT doc FROM {table}_postings UNION ALL"
                f" SELECT doc FROM {table}_postings_tail))"
            ).fetchone()
            assert docs == rows == posted, table
    assert kept_hours > 0  # the summaries of the old hours stay
    assert report.images == sum(1 for ts, _, _ in frames if ts < image_cut)
    assert report.spans + report.transcripts == sum(before_text.values()) - sum(after_text.values())
    assert report.bytes_freed > 0


def test_over_the_budget_images_go_first_then_audio_then_text(timeline):
    paths, store = timeline
    newest = DAY0 + 2 * DAY  # the newest recorded day: never taken by the budget
    used = retention.measure(store, paths)
    text0 = text_days(store)

    # Just over: the oldest day's images are thinned to a keyframe per 10 minutes; nothing else goes.
    report = run_pass(store, paths, Policy(budget=used - 1), now=NOW)
    frames = refs(store, "frames")
    day0 = [(ts, ref, key) for ts, ref, key in frames if ts < DAY0 + DAY]
    assert report.thinned > 0 and report.usage <= used - 1 and not report.over_budget
    assert all(ref for ts, ref, _ in frames if ts >= DAY0 + DAY)
    kept = [ts for ts, ref, key in day0 if ref]
    assert all(key for ts, ref, key in day0 if ref)
    assert [ts.minute // 10 for ts in kept] == [m for _ in range(6) for m in range(6)]  # one per 10 minutes
    assert all(ref for _, ref, _ in refs(store, "audio_chunks"))
    assert text_days(store) == text0

    # Over by all older images and a byte: every image before the newest day, then the oldest audio.
    used = retention.measure(store, paths)
    old_images = sum((paths.frames / ref).stat().st_size for ts, ref, _ in refs(store, "frames") if ref and ts < newest)
    report = run_pass(store, paths, Policy(budget=used - old_images - 1), now=NOW)
    assert not report.over_budget
    frames = refs(store, "frames")
    assert all((ref == "") == (ts < newest) for ts, ref, _ in frames)
    chunks = refs(store, "audio_chunks")
    assert all((ref == "") == (ts < DAY0 + DAY) for ts, ref, _ in chunks)  # day 0's audio only
    assert text_days(store) == text0
    assert files(paths.frames) == {ref for _, ref, _ in frames if ref}
    assert files(paths.audio) == {ref for _, ref, _ in chunks if ref}

    # A budget smaller than the newest day: all older audio and text go too; the newest day stays.
    report = run_pass(store, paths, Policy(budget=1), now=NOW)
    assert report.over_budget and report.spans > 0
    assert all((ref == "") == (ts < newest) for ts, ref, _ in refs(store, "audio_chunks"))
    assert all(ref for ts, ref, _ in refs(store, "frames") if ts >= newest)
    text = text_days(store)
    assert text.get("2026-03-02", 0) == 0 and text["2026-03-04"] == text0["2026-03-04"]

    with store.read() as r:  # the old hours are still outlined from their summaries
        assert r._con.execute("SELECT count(*) FROM hour_seen WHERE hour < ?", [newest]).fetchone()[0] > 0
        window = build_context(r, since=DAY0, until=NOW, budget=4000)
    assert "Slack" in window.text and "2026-03-02" in window.text, window.text[:2000]
    assert window.tokens <= 4000
    with store.read() as r:
        last = retention.last_report(r)
    assert last["over_budget"] and last["spans"] == report.spans


def test_a_pass_leaves_hours_the_summaries_do_not_cover_alone(timeline):
    paths, store = timeline
    with store.write() as w:  # the watermark back at the start of day 1: day 1's hours have no summaries
        w._con.execute("DELETE FROM meta WHERE key = ?", [hours.WATERMARK])
        w.summarise_hours(DAY0 + DAY)
    run_pass(store, paths, Policy(keep_text_s=1), now=NOW)
    text = text_days(store)
    assert "2026-03-02" not in text and text["2026-03-03"] > 0


KILLER = """
import sys
from pathlib import Path
from lifelog.paths import Paths
from lifelog.store import Store, retention
retention.SLICE_ROWS = 7  # many short slices: a kill lands between a commit and its unlinking often
paths = Paths(Path(sys.argv[1]))
print("start", flush=True)
retention.run_pass(Store(paths.db), paths, retention.Policy(keep_images_s=1, keep_audio_s=1))
"""


def test_kill_9_mid_pass_leaves_the_timeline_whole_and_the_next_pass_finishes(timeline):
    paths, store = timeline
    for delay in (0.6, 1.2):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(paths.data)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert proc.stdout.readline().strip() == "start"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        con = duckdb.connect(str(paths.db), read_only=True)  # opens, and every kept ref has its file
        try:
            kept = [r[0] for r in con.execute("SELECT image_ref FROM frames WHERE image_ref <> ''").fetchall()]
            assert con.execute("SELECT count(*) FROM frames").fetchone()[0] == 3 * 360
        finally:
            con.close()
        assert all((paths.frames / ref).is_file() for ref in kept)
    run_pass(store, paths, Policy(keep_images_s=1, keep_audio_s=1), now=NOW)
    assert files(paths.frames) == set() and files(paths.audio) == set()
    with store.read() as r:
        assert r._con.execute("SELECT count(*) FROM meta WHERE key = ?", [retention.JOURNAL]).fetchone()[0] == 0
        assert "images" in json.loads(
            r._con.execute("SELECT value FROM meta WHERE key = ?", [retention.LAST]).fetchone()[0]
        )
