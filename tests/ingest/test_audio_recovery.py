"""The audio pipeline after things go wrong, with real espeak-ng speech, real faster-whisper
and a real DuckDB file: a chunk replayed after its commit is stored once; a folder where the
audio cannot be kept still stores what was said."""

from __future__ import annotations

import shutil
from datetime import datetime

import numpy as np
import pytest

from lifelog.ingest.audio import AudioPipeline
from lifelog.paths import Paths
from lifelog.spool.audio import Chunk, write_chunk
from lifelog.store import Store
from lifelog.tokenize_media.asr import get_asr
from tests.support.rows import audio_chunks_between, transcripts_between
from tests.support.speech import asr_require

T0 = datetime(2026, 11, 24, 10, 0, 0)


@pytest.fixture
def setup(tmp_path, asr_home, asr_speech):
    asr_require("faster-whisper")
    paths = Paths(tmp_path / "home").ensure()
    store = Store(paths.db)
    store.migrate()
    _, samples = asr_speech
    chunk = write_chunk(paths.audio_spool, Chunk("mic", T0, (samples * 32767).astype(np.int16)))
    return paths, store, chunk


def _drain(paths, store):
    return AudioPipeline(store, paths, engine=get_asr("faster-whisper")).drain()


def _heard(store):
    with store.read() as r:
        return audio_chunks_between(r, None, None), transcripts_between(r, None, None)


def test_a_chunk_replayed_after_its_commit_is_stored_once(setup, tmp_path):
    paths, store, chunk = setup
    saved = shutil.copy(chunk, tmp_path / chunk.name)
    assert _drain(paths, store).chunks == 1
    chunks, transcripts = _heard(store)
    assert len(chunks) == 1 and transcripts and chunks[0].source_key == chunk.name
    shutil.copy(saved, chunk)  # a kill between the commit and the deletion of the file
    _drain(paths, store)
    assert not chunk.exists()
    assert _heard(store) == (chunks, transcripts)


def test_audio_that_cannot_be_kept_still_stores_what_was_said(setup):
    paths, store, _ = setup
    shutil.rmtree(paths.audio)
    paths.audio.write_text("not a folder")  # every save into it fails
    stats = _drain(paths, store)
    assert stats.chunks == 1
    chunks, transcripts = _heard(store)
    assert chunks[0].audio_ref == "" and transcripts
    assert list(paths.audio_spool.glob("*.wav")) == []
