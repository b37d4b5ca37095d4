"""The frame pipeline on real spool files, real OCR and a real DuckDB file: frames and text
spans stored, images kept so the screen can be rebuilt, failures counted but never fatal."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lifelog import spool
from lifelog.models import SpooledFrame, WindowInfo
from lifelog.store.images import FrameImages
from lifelog.tokenize_media.ocr import get_engine
from lifelog.tokenize_media.pipeline import Pipeline
from tests.tokenize_media.test_ocr_pages import PROSE, render

T0 = datetime(2026, 11, 24, 10, 0, 0)


def _spool(paths, ts, page, region, keyframe):
    left, top, right, bottom = region
    frame = SpooledFrame(ts, 1, page.shape[1], page.shape[0], region, keyframe, WindowInfo("Writer", "draft.txt"),
                         np.ascontiguousarray(page[top:bottom, left:right]))
    return spool.write_frame(paths.spool, frame)


def test_frames_spans_and_rebuildable_images(pipeline_home):
    paths, store = pipeline_home
    page = render(PROSE).image
    edited = page.copy()
    edited[900:1000, :] = 255  # the last lines erased
    _spool(paths, T0, page, (0, 0, page.shape[1], page.shape[0]), True)
    _spool(paths, T0 + timedelta(seconds=1), edited, (0, 900, page.shape[1], 1000), False)
    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    stats = pipe.drain()
    pipe.release()
    assert stats.frames == 2 and stats.ocr_failures == 0 and spool.pending(paths.spool) == []
    with store.read() as r:
        frames = r.frames_between(None, None)
        spans = r.spans_between(None, None)
    assert [f.keyframe for f in frames] == [True, False] and frames[0].app == "Writer"
    assert any("4821" in s.text for s in spans)
    closed = [s for s in spans if s.t_end == T0 + timedelta(seconds=1) and not s.t_start == s.t_end]
    assert closed, "lines erased by the second frame should close at its time"
    rebuilt = FrameImages(paths.frames).reconstruct(frames)
    assert np.array_equal(rebuilt, edited)  # lossless: the screen exactly as it was


class _BrokenEngine:
    """Fault injection: an OCR engine whose recogniser crashes."""

    id, providers, min_score = "broken", ["CPUExecutionProvider"], 0.5

    def detect(self, image):
        raise RuntimeError("simulated OCR crash")

    read_lines = recognize = detect


def test_ocr_failure_is_counted_and_unreadable_files_set_aside(pipeline_home):
    paths, store = pipeline_home
    page = render(PROSE).image
    _spool(paths, T0, page, (0, 0, page.shape[1], page.shape[0]), True)
    (paths.spool / "20261124T100001000000-m01.png").write_bytes(b"not a png")
    pipe = Pipeline(store, paths, engine=_BrokenEngine()).acquire()
    stats = pipe.drain()
    pipe.release()
    assert stats.ocr_failures == 1 and stats.bad_files == 1
    assert spool.pending(paths.spool) == [] and (paths.spool / "bad").exists()
    with store.read() as r:
        assert r.stats().ocr_failures == 1
        assert [e["kind"] for e in r.events_between(None, None)] == ["ocr_failure"]
