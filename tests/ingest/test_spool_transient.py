"""A spool file that meets a passing I/O error stays in the spool and is read later; only a file
that cannot be decoded goes to ``bad/``. The error is real: a spool name linked to
``/proc/self/mem``, whose first page is unmapped, fails every read with EIO, the way a failing
disk does; and the incident of issue 16 itself, a drain in a process with every file descriptor
in use (a child process, ``drain_without_fds.py``)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from lifelog import spool
from lifelog.ingest import frames as frame_pipeline
from lifelog.ingest.audio import AudioPipeline
from lifelog.ingest.frames import Pipeline
from lifelog.spool.audio import Chunk, write_chunk
from lifelog.tokenize_media.ocr import get_engine
from tests.support.pages import PROSE, WIDTH, render
from tests.support.spooled import T0, spool_frame

FAILING = "/proc/self/mem"  # reading offset 0 is EIO
ROOT = Path(__file__).resolve().parents[2]


def _fail_reads(path, keep) -> None:
    """Move the real file to ``keep`` and leave a name whose every read fails with EIO."""
    shutil.move(path, keep)
    os.symlink(FAILING, path)


def _restore(path, keep) -> None:
    path.unlink()
    shutil.move(keep, path)


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(frame_pipeline, "UNAVAILABLE_RETRY_S", 0.0)


def test_a_frame_that_cannot_be_read_now_waits_in_the_spool_and_is_stored_later(pipeline_home, tmp_path):
    paths, store = pipeline_home
    page = render(PROSE[1:2], height=80).image
    path = spool_frame(paths, T0, page, (0, 0, WIDTH, page.shape[0]), True)
    _fail_reads(path, tmp_path / "kept.png")
    pipe = Pipeline(store, paths, engine=get_engine()).acquire()
    try:
        stats = pipe.drain()
        assert stats.bad_files == 0 and stats.frames == 0
        assert spool.pending(paths.spool) == [path] and not (paths.spool / "bad").exists()
        _restore(path, tmp_path / "kept.png")
        stats = pipe.drain()
    finally:
        pipe.release()
    assert stats.frames == 1 and stats.bad_files == 0 and spool.pending(paths.spool) == []
    with store.read() as r:
        assert len(r.frames_between(None, None)) == 1
        assert any("4821" in s.text for s in r.spans_between(None, None))


def test_an_audio_chunk_that_cannot_be_read_now_stays_and_an_undecodable_one_goes_to_bad(
    pipeline_home, tmp_path, monkeypatch
):
    from lifelog.ingest import audio as audio_pipeline

    monkeypatch.setattr(audio_pipeline, "UNAVAILABLE_RETRY_S", 0.0)
    paths, store = pipeline_home
    chunk = write_chunk(paths.audio_spool, Chunk("mic", datetime(2026, 11, 24, 10), np.zeros(1600, np.int16)))
    _fail_reads(chunk, tmp_path / "kept.wav")
    audio = AudioPipeline(store, paths, engine=object())  # never reached: nothing can be read
    stats = audio.drain()
    assert stats.failures == 0 and audio.pending() == [chunk] and not (paths.audio_spool / "bad").exists()
    chunk.unlink()
    chunk.write_bytes(b"RIFF but not a wave")
    audio.drain()
    assert audio.pending() == [] and [p.name for p in (paths.audio_spool / "bad").iterdir()] == [chunk.name]


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.EIO, errno.ENOSPC, errno.EAGAIN])
def test_passing_errors_are_told_from_damaged_files(code):
    assert spool.transient(OSError(code, os.strerror(code)))
    try:
        try:
            raise OSError(code, os.strerror(code))
        except OSError as exc:
            raise ValueError("could not decode") from exc
    except ValueError as wrapped:
        assert spool.transient(wrapped)


def test_a_damaged_file_is_not_a_passing_error():
    assert not spool.transient(OSError("image file is truncated"))  # PIL's words for a cut file: no errno
    assert not spool.transient(ValueError("not a lifelog spool frame"))
    assert not spool.transient(IsADirectoryError(errno.EISDIR, "Is a directory"))


def test_a_drain_out_of_file_descriptors_keeps_its_frames_and_says_so_once(tmp_path):
    """The incident itself: every descriptor of the process in use (RLIMIT_NOFILE 256, all held)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.ingest.drain_without_fds", str(tmp_path / "home")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["held"] > 0 and result["starved"] == [0, 0, 0]
    assert result["waiting"] == [result["frame"]] and result["bad"] == []
    assert result["after"] == 1 and result["stored"] == 2 and result["left"] == []
    assert done.stderr.count("Too many open files") == 1, done.stderr  # three drains, one line
