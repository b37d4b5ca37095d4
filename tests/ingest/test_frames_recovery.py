"""The frame pipeline after things go wrong, on real spool files, real OCR and a real DuckDB
file: a crash between commit and unlink, a store held by another process, a restart in the
middle of partial frames, a spool file that lies about its region, frames shed by capture."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np

from lifelog import spool
from lifelog.ingest.frames import Pipeline
from lifelog.models import SpooledFrame, WindowInfo
from lifelog.replay.context import build_context
from lifelog.store import Store
from lifelog.tokenize_media.ocr import get_engine
from tests.support.pages import PROSE, WIDTH, render
from tests.support.spooled import T0, spool_frame

WORKERS = Path(__file__).resolve().parents[1] / "store" / "workers.py"


def _drain(paths, store) -> object:
    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    try:
        return pipe.drain()
    finally:
        pipe.release()


def _rows(store):
    with store.read() as r:
        return r.frames_between(None, None), r.spans_between(None, None), r.events_between(None, None)


def _pages():
    lines = PROSE[:12]
    first = render(lines).image
    lines2 = [*lines, "ticket 119 ready for review by Dana"]
    second = render(lines2).image
    return first, second


def test_a_spool_replayed_after_commit_is_stored_once(pipeline_home, tmp_path):
    """A kill between a batch's commit and the deletion of its files leaves them in the spool:
    the next drain must find them stored and add nothing."""
    paths, store = pipeline_home
    first, second = _pages()
    spool_frame(paths, T0, first, (0, 0, WIDTH, first.shape[0]), True)
    spool_frame(paths, T0 + timedelta(seconds=1), second, (0, 400, WIDTH, 460), False)
    saved = tmp_path / "saved"
    shutil.copytree(paths.spool, saved)
    assert _drain(paths, store).frames == 2
    frames, spans, _ = _rows(store)
    for f in saved.glob("*.png"):  # the state a kill right after the commit leaves behind
        shutil.copy(f, paths.spool / f.name)
    assert len(spool.pending(paths.spool)) == 2
    _drain(paths, store)
    frames2, spans2, _ = _rows(store)
    assert spool.pending(paths.spool) == []
    assert [f.source_key for f in frames2] == [f.source_key for f in frames] and len(frames2) == 2
    assert [(s.text, s.t_start) for s in spans2] == [(s.text, s.t_start) for s in spans]


def test_a_busy_store_keeps_the_batch_and_stores_it_once(pipeline_home):
    """While another process holds the database, processed frames wait (their files stay in
    the spool and are not processed again); once it lets go, each frame is stored once."""
    paths, store = pipeline_home
    first, second = _pages()
    spool_frame(paths, T0, first, (0, 0, WIDTH, first.shape[0]), True)
    spool_frame(paths, T0 + timedelta(seconds=1), second, (0, 400, WIDTH, 460), False)
    holder = subprocess.Popen(
        [sys.executable, str(WORKERS), "hold", str(paths.db), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        busy = Store(paths.db, busy_timeout=0.5)
        pipe = Pipeline(busy, paths, engine=get_engine()).acquire()
        stats = pipe.drain()
        assert stats.frames == 2 and len(spool.pending(paths.spool)) == 2  # nothing deleted
        assert pipe.drain().frames == 0  # the queued files are not listed again
        assert pipe.commit() is False
    finally:
        holder.kill()
        holder.wait()
    assert pipe.commit() is True
    assert pipe.drain().frames == 0
    pipe.release()
    frames, spans, _ = _rows(store)
    assert len(frames) == 2 and len({f.source_key for f in frames}) == 2
    assert spool.pending(paths.spool) == []
    assert sum("ticket 119" in s.text for s in spans) == 1


def test_partial_frames_after_a_restart_are_read_whole(pipeline_home):
    """After a crash the spool can hold partial frames whose keyframe was stored by the
    process that died: the new process rebuilds the screen from stored frames, so a line that
    only partly changed comes back whole, and unchanged lines are still on screen."""
    paths, store = pipeline_home
    first, second = _pages()
    spool_frame(paths, T0, first, (0, 0, WIDTH, first.shape[0]), True)
    spool_frame(paths, T0 + timedelta(seconds=1), second, (0, 400, WIDTH, 460), False)
    _drain(paths, store)  # the process that later dies got this far
    third = second.copy()
    edited = render([*PROSE[:12], "ticket 119 ready for merge by Dana"]).image
    diff = np.argwhere((edited != second).any(axis=2))
    top, left = diff.min(axis=0)
    bottom, right = diff.max(axis=0) + 1
    assert left > 200, "the edit must leave the start of the line outside the changed region"
    third[top:bottom, left:right] = edited[top:bottom, left:right]
    spool_frame(paths, T0 + timedelta(seconds=2), third, (int(left), int(top), int(right), int(bottom)), False)
    _drain(paths, store)  # a new process: no canvas in memory
    _, spans, _ = _rows(store)
    at_t2 = [s.text for s in spans if s.t_start <= T0 + timedelta(seconds=2) <= s.t_end]
    assert any("ticket 119 ready for merge" in t for t in at_t2), at_t2
    assert any(PROSE[0][:30] in t for t in at_t2), "unchanged lines must still be seen"


def test_a_spool_file_whose_region_disagrees_with_its_image_is_set_aside(pipeline_home):
    paths, store = pipeline_home
    first, _ = _pages()
    spool_frame(paths, T0, first, (0, 0, WIDTH, first.shape[0]), True)
    liar = SpooledFrame(
        T0 + timedelta(seconds=1),
        1,
        WIDTH,
        first.shape[0],
        (0, 0, 500, 500),
        False,
        WindowInfo("XTerm", "x"),
        np.zeros((40, 40, 3), np.uint8),
    )
    spool.write_frame(paths.spool, liar)
    outside = SpooledFrame(
        T0 + timedelta(seconds=2),
        1,
        100,
        100,
        (0, 0, 200, 40),
        False,
        WindowInfo("XTerm", "x"),
        np.zeros((40, 200, 3), np.uint8),
    )
    spool.write_frame(paths.spool, outside)
    stats = _drain(paths, store)
    assert stats.frames == 1 and stats.bad_files == 2
    assert spool.pending(paths.spool) == [] and len(list((paths.spool / "bad").iterdir())) == 2


def test_frames_shed_by_capture_become_a_gap_in_the_timeline(pipeline_home):
    paths, store = pipeline_home
    first, second = _pages()
    spool_frame(paths, T0, first, (0, 0, WIDTH, first.shape[0]), True)
    spool_frame(
        paths,
        T0 + timedelta(seconds=40),
        second,
        (0, 0, WIDTH, second.shape[0]),
        True,
        shed_from=T0 + timedelta(seconds=3),
        shed_frames=57,
    )
    _drain(paths, store)
    frames, _, events = _rows(store)
    assert len(frames) == 2
    (gap,) = [e for e in events if e["kind"] == "gap"]
    assert gap["ts"] == T0 + timedelta(seconds=3)
    assert gap["detail"]["frames_shed"] == 57 and gap["detail"]["reason"] == "ocr_behind"
    with store.read() as r:
        window = build_context(r, since=None, until=None, budget=8000, fmt="markdown", tokenizer="o200k")
    assert "[gap 10:00:03–10:00:40 · 57 screen changes not read: text recognition was behind]" in window.text


def test_partial_files_left_by_a_crash_are_removed_everywhere_lifelog_writes(pipeline_home):
    paths, store = pipeline_home
    leftovers = [
        paths.spool / ".a.png.tmp",
        paths.audio_spool / ".b.wav.tmp",
        paths.frames / "2026-11-24" / ".c.webp.tmp",
        paths.audio / "2026-11-24" / ".d.ogg.tmp",
    ]
    keep = paths.frames / "2026-11-24" / "c.webp"
    for f in [*leftovers, keep]:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half a file")
    Pipeline(store, paths, engine=get_engine()).acquire().release()
    assert [f for f in leftovers if f.exists()] == [] and keep.exists()
