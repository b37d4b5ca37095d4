"""The frame pipeline on real spool files, real OCR and a real DuckDB file: frames and text
spans stored, images kept so the screen can be rebuilt, failures counted but never fatal."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lifelog import spool
from lifelog.ingest.frames import Pipeline
from lifelog.models import SpooledFrame, WindowInfo
from lifelog.store.images import FrameImages
from lifelog.tokenize_media.ocr import get_engine
from tests.support.pages import PROSE, render

T0 = datetime(2026, 11, 24, 10, 0, 0)


def _spool(paths, ts, page, region, keyframe):
    left, top, right, bottom = region
    frame = SpooledFrame(
        ts,
        1,
        page.shape[1],
        page.shape[0],
        region,
        keyframe,
        WindowInfo("Writer", "draft.txt"),
        np.ascontiguousarray(page[top:bottom, left:right]),
    )
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


def test_lines_are_stored_under_the_window_they_were_read_from_in_reading_order(pipeline_home):
    """Two windows side by side on one frame: each line under its own app and title, the left
    window's lines before the right one's, whatever the focus."""
    from PIL import Image, ImageDraw

    from lifelog.models import VisibleWindow
    from tests.support.pages import font

    paths, store = pipeline_home
    image = Image.new("RGB", (1920, 1080), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    for i, text in enumerate(PROSE[:8]):
        pen.text((40, 60 + 34 * i), text[:60], fill=(20, 20, 20), font=font(size=20))
        pen.text((1000, 60 + 34 * i), f"ticket {4800 + i} ready for review", fill=(20, 20, 20), font=font(size=20))
    page = np.asarray(image).copy()
    frame = SpooledFrame(
        T0,
        1,
        1920,
        1080,
        (0, 0, 1920, 1080),
        True,
        WindowInfo("XTerm", "tickets"),
        page,
        windows=[
            VisibleWindow("XTerm", "tickets", (980, 20, 1900, 1000)),
            VisibleWindow("Writer", "draft.txt", (0, 20, 970, 1000)),
        ],
    )
    spool.write_frame(paths.spool, frame)
    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    pipe.drain()
    pipe.release()
    with store.read() as r:
        spans = r.spans_between(None, None)
    where = [(s.app, s.window) for s in spans]
    assert where == [("Writer", "draft.txt")] * 8 + [("XTerm", "tickets")] * 8, [(s.text, s.app) for s in spans]
    assert all("ticket" in s.text for s in spans[8:]) and "4821" in " ".join(s.text for s in spans[:8])
