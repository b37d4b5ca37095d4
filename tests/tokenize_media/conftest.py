"""Fixtures for the tokenize_media tests. ASR fixtures are named ``asr_*``."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.tokenize_media.asr import asr_ids, get_asr
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from tests.tokenize_media.test_asr_speech import SHORT, asr_require, have_espeak, place, speech_samples


@pytest.fixture(scope="session")
def asr_home(tmp_path_factory):
    """A LIFELOG_HOME for the whole session, so converted checkpoints never land in the user's cache."""
    home = tmp_path_factory.mktemp("asr-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIFELOG_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def asr_speech(tmp_path_factory) -> tuple[str, np.ndarray]:
    """The short reference text and its espeak-ng speech as 16 kHz samples, with 0.5 s of
    silence either side as a microphone would record it (tiny.en mishears a first word
    that starts at sample 0)."""
    if not have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    text = " ".join(SHORT)
    speech = speech_samples(text, tmp_path_factory.mktemp("asr-speech"))
    return text, place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)


@pytest.fixture(scope="session", params=asr_ids())
def asr_engine(request, asr_home):
    """Every registered engine on this machine's best device, loaded once per session."""
    asr_require(request.param)
    return get_asr(request.param)


@pytest.fixture
def pipeline_home(tmp_path):
    """``(paths, store)``: a fresh LIFELOG_HOME with its folders and a migrated database."""
    paths = Paths(tmp_path / "home").ensure()
    store = Store(paths.db)
    store.migrate()
    return paths, store
