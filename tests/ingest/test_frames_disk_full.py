"""The pipeline on a full disk (a real 8 MB tmpfs data folder, real spool files, real OCR): a
frame whose image cannot be written stays in the spool instead of being stored without its
image, nothing raises, and once space is back it is stored whole. Skipped where tmpfs cannot
be mounted (needs root)."""

from __future__ import annotations

import pytest

from lifelog import spool
from lifelog.ingest.frames import Pipeline
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.tokenize_media.ocr import get_engine
from tests.support.pages import PROSE, WIDTH, render
from tests.support.spooled import T0, spool_frame
from tests.support.tmpfs import small_tmpfs


@pytest.fixture
def small_disk(tmp_path):
    with small_tmpfs(tmp_path, "8m") as mount:
        yield mount


def _fill(path) -> None:
    with open(path, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def test_a_frame_meeting_a_full_disk_waits_in_the_spool_and_is_stored_later(small_disk):
    paths = Paths(small_disk / "home").ensure()
    store = Store(paths.db)
    store.migrate()
    page = render(PROSE[:6], height=400).image
    spool_frame(paths, T0, page, (0, 0, WIDTH, page.shape[0]), True)
    filler = small_disk / "filler"
    _fill(filler)

    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    try:
        pipe.drain()  # does not raise
        assert len(spool.pending(paths.spool)) == 1
        with store.read() as r:
            assert r.frames_between(None, None) == []
        filler.unlink()
        pipe._wait_until = 0.0  # as after the pipeline's wait
        pipe.drain()
    finally:
        pipe.release()
    assert spool.pending(paths.spool) == []
    with store.read() as r:
        frames = r.frames_between(None, None)
        spans = r.spans_between(None, None)
    assert len(frames) == 1 and frames[0].image_ref and (paths.frames / frames[0].image_ref).is_file()
    assert any("invoice 4821" in s.text for s in spans)
